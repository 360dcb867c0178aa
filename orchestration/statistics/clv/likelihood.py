"""The PyMC models the CLV parameters are estimated on, built from pymc-marketing's public API.

Purchase process (BG/NBD or Pareto/NBD) on collapsed rows. pymc-marketing's BetaGeoModel and
ParetoNBDModel take one row per customer and no weights, and their only extension points for
other data are the private `_validate_data` and the `build_model` every subclass re-implements.
Instead of subclassing them, `weighted_purchase_model` builds the small model itself from the
same public pieces those classes use: the priors (`pymc_extras.prior.Prior`) and the observed
distribution of (recency, frequency) given T (`pymc_marketing.clv.distributions.BetaGeoNBD` /
`ParetoNBD`). Each distinct history enters the log-likelihood once, times its customer count,
as a `pm.Potential`: the same log-likelihood as one row per customer (tested against
BetaGeoModel on uncollapsed data), on a graph whose size does not grow with the customers.

Spend process: pymc-marketing's GammaGammaModel, built with its public `build_model` (its
likelihood is a Potential of the customers' mean spend already).

With HalfFlat priors on every parameter the posterior mode is the maximum-likelihood estimate,
which reproduces the published CDNOW figures (docs: STACK.md).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pymc as pm

from orchestration.statistics.clv.settings import (
    PURCHASE_MODEL_PARAMETERS,
    SPEND_MODEL_PARAMETERS,
    pymc_name,
)


def flat_priors(names: tuple[str, ...]) -> dict:
    """HalfFlat on every parameter (pymc-marketing names): the MAP estimate is then the
    maximum-likelihood estimate."""
    from pymc_extras.prior import Prior

    return {pymc_name(name): Prior("HalfFlat") for name in names}


def reuse_compiled(model: pm.Model) -> pm.Model:
    """`model`, its compile_logp and compile_dlogp remembering what they compiled.

    pymc.find_MAP compiles the log-likelihood and its gradient, and the Laplace step
    (uncertainty.py) needs the same two functions at the optimum: compiling a graph costs
    seconds (pytensor's rewrites run in Python even when its C cache is warm), calling it
    milliseconds. Asked for the same function twice (same variables, same jacobian flag), the
    model hands back the one it compiled first; the numbers are the same, only the compile goes.
    """
    compiled: dict[tuple, Callable] = {}

    def remembering(kind: str, compile_function: Callable) -> Callable:
        def compile_once(vars=None, jacobian: bool = True, **compile_kwargs):
            variables = None if vars is None else tuple(vars) if isinstance(vars, list | tuple) else (vars,)
            key = (kind, variables, jacobian, tuple(sorted(compile_kwargs.items())))
            if key not in compiled:
                compiled[key] = compile_function(vars=vars, jacobian=jacobian, **compile_kwargs)
            return compiled[key]

        return compile_once

    model.compile_logp = remembering("logp", model.compile_logp)
    model.compile_dlogp = remembering("dlogp", model.compile_dlogp)
    return model


def weighted_purchase_model(rows: pd.DataFrame, model_name: str) -> pm.Model:
    """BG/NBD or Pareto/NBD on rows of (frequency, recency, T, weight), each row counted `weight`
    times; no covariates. Free variables in the order of PURCHASE_MODEL_PARAMETERS."""
    from pymc_marketing.clv.distributions import BetaGeoNBD, ParetoNBD

    distribution = {"bg_nbd": BetaGeoNBD, "pareto_nbd": ParetoNBD}[model_name]
    parameters = PURCHASE_MODEL_PARAMETERS[model_name]
    priors = flat_priors(parameters)
    with pm.Model(coords={"row": np.arange(len(rows)), "obs_var": ["recency", "frequency"]}) as model:
        values = {name: priors[name].create_variable(name) for name in parameters}
        # Data containers, not constants: the compiled graph then does not depend on the data,
        # and pytensor's compile cache serves the next build's fit.
        observed = pm.Data(
            "observed",
            np.stack(
                (rows["recency"].to_numpy(dtype=float), rows["frequency"].to_numpy(dtype=float)), axis=1
            ),
        )
        exposure = pm.Data("T", rows["T"].to_numpy(dtype=float))
        weights = pm.Data("weight", rows["weight"].to_numpy(dtype=float))
        density = distribution.dist(**values, T=exposure)
        pm.Potential("recency_frequency", (weights * pm.logp(density, observed)).sum())
    return reuse_compiled(model)


def spend_model(data: pd.DataFrame) -> pm.Model:
    """pymc-marketing's Gamma-Gamma model (flat priors) on (customer_id, monetary_value, frequency)."""
    from pymc_marketing import clv

    gamma_gamma = clv.GammaGammaModel(model_config=flat_priors(SPEND_MODEL_PARAMETERS))
    gamma_gamma.build_model(data)
    return reuse_compiled(gamma_gamma.model)
