"""pymc-marketing models that carry given parameter values, for its predictive formulas.

The fit is stored as numbers in clv_model_fit (estimates and parameter draws), not as a
pickled model, so the scoring step rebuilds a pymc-marketing model and hands it those numbers
as its posterior (one chain, one draw per parameter set) through the public `fit_result`
setter. Its conditional formulas (P(alive), expected purchases, Gamma-Gamma expected spend)
then evaluate at every draw at once, and stay pymc-marketing's tested code, not a copy.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from orchestration.statistics.clv.settings import PURCHASE_MODEL_PARAMETERS, SPEND_MODEL_PARAMETERS, pymc_name


def _posterior(draws: list[dict[str, float]], names: tuple[str, ...]):
    """InferenceData with one chain whose draws are the given parameter sets (pymc names)."""
    import arviz as az
    import xarray as xr

    return az.InferenceData(
        posterior=xr.Dataset(
            {
                pymc_name(name): (("chain", "draw"), np.array([[draw[name] for draw in draws]], dtype=float))
                for name in names
            }
        )
    )


def customer_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """pymc-marketing's predictive input: unique customer_id with frequency, recency, T."""
    return pd.DataFrame(
        {
            "customer_id": np.arange(len(rows)),
            "frequency": rows["frequency"].to_numpy(),
            "recency": rows["recency"].to_numpy(dtype=float),
            "T": rows["T"].to_numpy(dtype=float),
        }
    )


def purchase_model_with(model_name: str, draws: list[dict[str, float]]):
    """BetaGeoModel or ParetoNBDModel whose posterior is `draws` (table names, e.g. r, alpha, a, b)."""
    from pymc_extras.prior import Prior
    from pymc_marketing import clv

    names = PURCHASE_MODEL_PARAMETERS[model_name]
    cls = {"bg_nbd": clv.BetaGeoModel, "pareto_nbd": clv.ParetoNBDModel}[model_name]
    purchase_model = cls(model_config={name: Prior("HalfFlat") for name in names})
    # Predictions take their data explicitly; the model graph only needs to exist.
    purchase_model.build_model(
        pd.DataFrame({"customer_id": [0], "frequency": [0], "recency": [0.0], "T": [1.0]})
    )
    purchase_model.fit_result = _posterior(draws, names)
    return purchase_model


def spend_model_with(draws: list[dict[str, float]]):
    """GammaGammaModel whose posterior is `draws` of p, q, gamma (pymc-marketing's v)."""
    from pymc_marketing import clv

    spend_model = clv.GammaGammaModel()
    spend_model.fit_result = _posterior(draws, SPEND_MODEL_PARAMETERS)
    return spend_model


def draw_values(array) -> np.ndarray:
    """A (chain, draw, customer) DataArray as a (draw, customer) numpy array."""
    values = np.asarray(array.values if hasattr(array, "values") else array, dtype=float)
    return values.reshape(-1, values.shape[-1]) if values.ndim > 1 else values.reshape(1, -1)
