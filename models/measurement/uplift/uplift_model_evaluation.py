"""dbt Python model: how well each treatment's uplift model ranks held-out randomized assignments.

One row per treatment code with complete response windows in measurement.treatment_outcomes:
the training and held-out sizes, the Qini coefficient, AUUC and uplift at 10 % and 30 % on the
held-out assignments (scikit-uplift), and the policy check that decides whether activation may
use the scores (is_validated). Treatments with too few assignments get a row with status
'too_few_assignments' and no figures. The fitting lives in orchestration/statistics/uplift/model.py;
uplift_scores.py refits the identical model (same rows, split, settings), so the figures here
describe exactly the scores there. dbt-duckdb only: Python models do not run on Spark session
mode (docs: docs/measurement-and-uplift.md, "Uplift model").
"""

from orchestration.statistics.uplift.model import (
    EVALUATION_SCHEMA,
    UpliftSettings,
    as_of_of,
    evaluation_frame,
    fit_all,
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
    as_of = as_of_of(features.limit(1).df())
    fits = fit_all(training, as_of, settings) if as_of is not None else []
    return session.from_df(evaluation_frame(fits)).project(sql_projection(EVALUATION_SCHEMA))
