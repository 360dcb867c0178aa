"""CLV helpers used by the dbt Python model of the value mart (models/marts/value/clv_model_fit.py).

The logic that judges a fit lives here, importable, so pytest holds it to its contract without
running dbt or pymc-marketing.
"""
