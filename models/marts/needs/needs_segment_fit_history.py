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

from orchestration.statistics.needs.segmentation import (
    FitSettings,
    feature_columns,
    fit_run,
    history_projection,
    previous_run,
)


def model(dbt, session):
    dbt.config(
        materialized="incremental",
        incremental_strategy="delete+insert",
        unique_key="as_of_date",
        full_refresh=False,
        on_schema_change="fail",
    )
    # Values come from dbt vars through the YAML config (_needs__models.yml). dbt hands a Python
    # model only the keys it reads with a literal dbt.config.get("..."), so each is named here.
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
    as_of = dbt.ref("int_needs__features").aggregate("max(as_of_date)").fetchall()[0][0]
    sample_relation = dbt.ref("int_needs__fitting_sample")
    sample = sample_relation.order("fitting_sample_rank").df()
    previous, next_segment_id = None, 1
    if dbt.is_incremental and as_of is not None:
        previous, next_segment_id = previous_run(lambda sql: session.sql(sql).df(), f"{dbt.this}", as_of)
    # Without customers (as_of is None) the sample is empty and nothing is written.
    rows = fit_run(
        sample, feature_columns(sample_relation.columns), as_of, previous, next_segment_id, settings
    )
    return session.from_df(rows).project(history_projection())
