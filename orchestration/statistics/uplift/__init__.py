"""Uplift modelling helpers used by the dbt Python models of the measurement layer (issue 8).

models/measurement/uplift/uplift_model_evaluation.py and uplift_scores.py are thin shells
around `orchestration.statistics.uplift.model.run`; the logic lives here, importable, so pytest holds it
to its contracts on synthetic data without running dbt.
"""
