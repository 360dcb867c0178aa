"""CLV statistics the thin dbt Python models of the value mart call.

models/marts/value/clv_model_fit.py calls `fit.fit_clv_models`; models/intermediate/value/
int_value__clv_predictions.py calls `predict.predict_clv`. One job per module:

- settings.py     model vocabularies, tolerances, the settings parsed from the dbt config;
- data.py         the purchase summary under pymc-marketing's names, collapsed weighted rows,
                  the repeat buyers Gamma-Gamma is fitted on;
- likelihood.py   the PyMC models (weighted BG/NBD or Pareto/NBD from pymc-marketing's public
                  distributions; pymc-marketing's GammaGammaModel);
- uncertainty.py  Laplace approximation, standard errors, parameter draws, MCMC summaries;
- diagnostics.py  whether a fit deserves trust (ok, degenerate, failed) and why;
- fit.py          fit, judge and record: the rows of clv_model_fit;
- posterior.py    pymc-marketing models carrying stored parameter values, for its formulas;
- simulation.py   simulated futures per customer: the CLV interval;
- predict.py      per-customer predictions: the rows of int_value__clv_predictions.

Plain Python, importable, so pytest holds each piece to its contract without running dbt.
"""
