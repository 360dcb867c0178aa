"""dbt Python model: per customer and treatment, the uplift a contact is expected to cause.

For every treatment whose model could be fitted (uplift_model_evaluation, status 'fitted'),
every customer of the 360 as of the as-of date gets: the predicted conversion probability if
treated and if not (two-model learner), the uplift in conversion probability, the expected
margin per conversion and the expected incremental margin (their product), the rank and decile
of the uplift within the treatment, and whether the model passed its held-out policy check
(is_validated). The model is the one fitted on the training split and evaluated in
uplift_model_evaluation (refitted here identically: same rows, split and settings).

Activation reads these scores through intermediate.int_activation__model_scores when var
activation_use_uplift_scores is on. Memory: the features of the training assignments and of
every customer are read into pandas. dbt-duckdb only: Python models do not run on Spark.
"""

from orchestration.statistics.uplift.model import (
    SCORES_SCHEMA,
    UpliftSettings,
    as_of_of,
    fit_all,
    scores_frame,
    sql_projection,
)


def model(dbt, session):
    dbt.config(materialized="table")
    # Values come from dbt vars through the YAML config (_uplift__models.yml), rendered as text.
    # dbt hands a Python model only the keys it reads with a literal dbt.config.get("..."), so
    # each is named here (tests/python/test_python_models.py checks both uplift models read all).
    settings = UpliftSettings.from_mapping(
        {
            "learner": dbt.config.get("uplift_learner"),
            "base_estimator": dbt.config.get("uplift_base_estimator"),
            "test_share": dbt.config.get("uplift_test_share"),
            "split_salt": dbt.config.get("uplift_split_salt"),
            "min_group_size": dbt.config.get("uplift_min_group_size"),
            "random_state": dbt.config.get("uplift_random_state"),
            "validation_alpha": dbt.config.get("uplift_validation_alpha"),
            "margin_prior_orders": dbt.config.get("uplift_margin_prior_orders"),
        }
    )
    features = dbt.ref("int_measurement__uplift_features")
    training = features.filter("observation_role = 'training'").order("observation_key").df()
    scoring = features.filter("observation_role = 'scoring'").order("customer_key").df()
    as_of = as_of_of(features.limit(1).df())
    fits = fit_all(training, as_of, settings) if as_of is not None else []
    scores = session.from_df(scores_frame(fits, scoring, settings)).project(sql_projection(SCORES_SCHEMA))
    # Lean storage (docs/scale.md): a row per customer and treatment, stored in customer_key
    # order so each block holds few keys and compresses them.
    return scores.order("customer_key")
