"""Fit the needs segments on the fitting sample and keep their ids stable: the history of definitions.

Incremental: every run (as-of date) adds one row per segment x feature. The previous run is read
from this table itself (the latest as-of date before this one), its centroids are matched to the
new ones (orchestration/statistics/needs/segmentation.py: Hungarian matching on centroid distance), and a
matched segment keeps its id and name. Re-running an as-of date replaces its rows
(delete+insert on as_of_date). full_refresh is off: `dbt build --full-refresh` keeps the history,
because losing it would renumber every segment. To start over on purpose, drop the table.

Memory: only int_needs__fitting_sample (at most var('needs_sample_size') rows) and this
table's previous run are read into pandas.
"""

from orchestration.statistics.needs.segmentation import HISTORY_SCHEMA, FitSettings, fit_run

NON_FEATURE_COLUMNS = ("customer_key", "as_of_date", "fitting_sample_rank")


def model(dbt, session):
    dbt.config(
        materialized="incremental",
        incremental_strategy="delete+insert",
        unique_key="as_of_date",
        full_refresh=False,
        on_schema_change="fail",
    )
    # Values come from dbt vars through the YAML config (_needs__models.yml).
    settings = FitSettings.from_mapping(
        {
            "k_min": dbt.config.get("needs_k_min"),
            "k_max": dbt.config.get("needs_k_max"),
            "fixed_k": dbt.config.get("needs_k"),
            "prediction_strength_threshold": dbt.config.get("needs_prediction_strength_threshold"),
            "prediction_strength_splits": dbt.config.get("needs_prediction_strength_splits"),
            "random_state": dbt.config.get("needs_random_state"),
            "n_init": dbt.config.get("needs_kmeans_n_init"),
            "match_max_distance": dbt.config.get("needs_match_max_distance"),
            "min_fit_customers": dbt.config.get("needs_min_fit_customers"),
        }
    )

    features_relation = dbt.ref("int_needs__features")
    as_of = features_relation.aggregate("max(as_of_date)").fetchall()[0][0]
    sample_relation = dbt.ref("int_needs__fitting_sample")
    feature_names = [c for c in sample_relation.columns if c not in NON_FEATURE_COLUMNS]
    sample = sample_relation.order("fitting_sample_rank").df()

    previous = None
    next_segment_id = 1
    if dbt.is_incremental and as_of is not None:
        history = f"{dbt.this}"
        previous = session.sql(
            f"select * from {history} where as_of_date = "
            f"(select max(as_of_date) from {history} where as_of_date < cast('{as_of}' as date))"
        ).df()
        # Ids are never reused, not even those of segments that vanished long ago.
        used = session.sql(
            f"select max(segment_id) from {history} where as_of_date <> cast('{as_of}' as date)"
        ).fetchall()[0][0]
        next_segment_id = 1 if used is None else int(used) + 1

    # Without customers (as_of is None) the sample is empty and nothing is written.
    rows = fit_run(sample, feature_names, as_of, previous, next_segment_id, settings)
    typed = ", ".join(
        f"cast({column} as {sql_type}) as {column}" for column, sql_type in HISTORY_SCHEMA.items()
    )
    return session.from_df(rows).project(typed)
