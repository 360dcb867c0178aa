"""dbt Python model: per-customer CLV predictions from this run's fits in clv_model_fit.

For every customer of int_value__purchase_summary (time unit day, horizon H = var
clv_horizon_days, annual discount rate d = var clv_annual_discount_rate):
- p_alive, expected_purchases over the next H days (pymc-marketing's conditional formulas at
  the point estimates), expected_order_value (Gamma-Gamma conditional mean spend);
- predicted_clv = expected_order_value x the discounted expected purchases: the horizon is cut
  into var clv_discount_steps equal steps and each step's expected purchases are discounted by
  (1 + d) ^ -(step midpoint / 365);
- predicted_clv_lower / _upper: an interval of the customer's *realised* discounted spend over
  the horizon (a predictive interval, not an interval of the mean). It comes from simulation:
  for each of the fit's parameter draws (Laplace or posterior, see clv_model_fit), the customer's
  future is drawn from the fitted process conditional on their history (alive or not, purchase
  rate, dropout, purchase times, order values), and the empirical quantiles of those paths are
  taken. Equal-tailed at level L (var clv_interval_level) when the chance of buying nothing is
  below (1 - L) / 2; otherwise [0, quantile L], which still holds L of the probability (a
  customer likely to buy nothing cannot have a lower bound above 0).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

PURCHASE_MODEL_PARAMETERS: dict[str, tuple[str, ...]] = {
    "bg_nbd": ("r", "alpha", "a", "b"),
    "pareto_nbd": ("r", "alpha", "s", "beta"),
}
DAYS_PER_YEAR = 365.0
# Customers simulated together; keeps the draws x customers arrays to a few million cells.
SIMULATION_CELLS = 4_000_000
BG_NBD_A_GUARD = 1e-6


def fitted_purchase_model(model_name: str, draws: list[dict[str, float]]):
    """A pymc-marketing model whose 'posterior' is the given parameter draws (one chain)."""
    import arviz as az
    import xarray as xr
    from pymc_extras.prior import Prior
    from pymc_marketing import clv

    names = PURCHASE_MODEL_PARAMETERS[model_name]
    cls = {"bg_nbd": clv.BetaGeoModel, "pareto_nbd": clv.ParetoNBDModel}[model_name]
    clv_model = cls(model_config={name: Prior("HalfFlat") for name in names})
    # Predictions take their data explicitly; the model graph only needs to exist.
    clv_model.build_model(pd.DataFrame({"customer_id": [0], "frequency": [0], "recency": [0.0], "T": [1.0]}))
    posterior = xr.Dataset(
        {name: (("chain", "draw"), np.array([[draw[name] for draw in draws]])) for name in names}
    )
    clv_model.idata = az.InferenceData(posterior=posterior)
    return clv_model


def as_customer_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """pymc-marketing's predictive input: unique customer_id with frequency, recency, T."""
    return pd.DataFrame(
        {
            "customer_id": np.arange(len(rows)),
            "frequency": rows["frequency"].to_numpy(),
            "recency": rows["recency"].to_numpy(dtype=float),
            "T": rows["T"].to_numpy(dtype=float),
        }
    )


def _values(array) -> np.ndarray:
    """(chain, draw, customer) DataArray -> (draw, customer) numpy array."""
    values = np.asarray(array.values if hasattr(array, "values") else array, dtype=float)
    return values.reshape(-1, values.shape[-1]) if values.ndim > 1 else values.reshape(1, -1)


def discount_steps(horizon_days: float, steps: int, annual_rate: float) -> tuple[np.ndarray, np.ndarray]:
    """Step ends (days) and each step's discount factor, at the step midpoint."""
    ends = horizon_days * np.arange(1, steps + 1) / steps
    midpoints = ends - horizon_days / (2 * steps)
    return ends, (1.0 + annual_rate) ** (-midpoints / DAYS_PER_YEAR)


def point_predictions(
    model_name: str,
    estimates: dict[str, float],
    summary: pd.DataFrame,
    horizon_days: float,
    steps: int,
    annual_rate: float,
) -> pd.DataFrame:
    """p_alive, expected purchases (plain and discounted) per customer, computed once per distinct
    (frequency, recency, T) and joined back."""
    keys = ["frequency", "recency", "T"]
    distinct = summary[keys].drop_duplicates().sort_values(keys).reset_index(drop=True)
    data = as_customer_frame(distinct)
    p_alive = _values(fitted_purchase_model(model_name, [estimates]).expected_probability_alive(data))[0]
    guarded = dict(estimates)
    if model_name == "bg_nbd" and abs(guarded["a"] - 1.0) < BG_NBD_A_GUARD:
        # BG/NBD's conditional expectation has a removable singularity at a = 1 (it divides by
        # a - 1): step just off it, which changes the result by far less than a cent.
        guarded["a"] = 1.0 + BG_NBD_A_GUARD
    clv_model = fitted_purchase_model(model_name, [guarded])
    ends, factors = discount_steps(horizon_days, steps, annual_rate)
    previous = np.zeros(len(distinct))
    discounted = np.zeros(len(distinct))
    for end, factor in zip(ends, factors, strict=True):
        cumulative = _values(clv_model.expected_purchases(data, future_t=float(end)))[0]
        discounted += (cumulative - previous) * factor
        previous = cumulative
    distinct["p_alive"] = np.clip(p_alive, 0.0, 1.0)
    distinct["expected_purchases"] = previous
    distinct["discounted_purchases"] = discounted
    r, alpha = estimates["r"], estimates["alpha"]
    shape = r + distinct["frequency"].to_numpy(dtype=float)
    # Mean gap while alive, E[1/lambda | history] = (alpha + T) / (r + x - 1): undefined (infinite)
    # when r + x <= 1, i.e. for one-time buyers when r < 1.
    distinct["expected_days_between_purchases"] = np.where(
        shape > 1.0, (alpha + distinct["T"].to_numpy(dtype=float)) / np.maximum(shape - 1.0, 1e-12), np.nan
    )
    return summary.merge(distinct, on=keys, how="left", validate="many_to_one")


def expected_order_value(spend: dict[str, float], frequency: np.ndarray, monetary: np.ndarray) -> np.ndarray:
    """Gamma-Gamma conditional mean spend per purchase, E[p / nu | x, z]; the population mean
    p * gamma / (q - 1) without a repeat purchase (pymc-marketing's expected_customer_spend)."""
    import arviz as az
    import xarray as xr
    from pymc_marketing import clv

    clv_model = clv.GammaGammaModel()
    clv_model.idata = az.InferenceData(
        posterior=xr.Dataset(
            {
                "p": (("chain", "draw"), [[spend["p"]]]),
                "q": (("chain", "draw"), [[spend["q"]]]),
                "v": (("chain", "draw"), [[spend["gamma"]]]),
            }
        )
    )
    data = pd.DataFrame(
        {
            "customer_id": np.arange(len(frequency)),
            "frequency": frequency.astype(float),
            "monetary_value": np.where(frequency > 0, np.nan_to_num(monetary, nan=0.0), 0.0),
        }
    )
    return _values(clv_model.expected_customer_spend(data))[0]


def _purchase_times_bg(
    rng: np.random.Generator, would_make: np.ndarray, made: np.ndarray, horizon_days: float
) -> tuple[np.ndarray, np.ndarray]:
    """Times of the first `made` of `would_make` uniform purchase times on (0, H], per path.

    The first m order statistics of n uniforms are (E1 + .. + Ej) / (E1 + .. + E(n+1)) for
    exponential E; the unused tail of the denominator is one Gamma(n - m + 1) draw, so the work is
    proportional to the purchases made (as in the sample-data generator).
    """
    owner = np.repeat(np.arange(len(made)), made)
    spacing = rng.exponential(1.0, owner.size)
    cumulative = np.cumsum(spacing)
    starts = np.concatenate([[0], np.cumsum(made)[:-1]])
    before = np.concatenate([[0.0], cumulative])[starts]
    cumulative -= before[owner]
    run_total = np.bincount(owner, weights=spacing, minlength=len(made))
    denominator = run_total + rng.gamma(np.maximum(would_make - made, 0) + 1.0, 1.0)
    return owner, horizon_days * cumulative / denominator[owner]


def simulate_discounted_spend(
    rng: np.random.Generator,
    model_name: str,
    draws: list[dict[str, float]],
    spend_draws: list[dict[str, float]],
    p_alive: np.ndarray,
    frequency: np.ndarray,
    recency: np.ndarray,
    T: np.ndarray,
    monetary: np.ndarray,
    horizon_days: float,
    annual_rate: float,
    monetary_frequency: np.ndarray | None = None,
) -> np.ndarray:
    """(draws, customers) simulated discounted spend over the horizon, conditional on history.

    Path s uses parameter draw s. Alive at T with probability p_alive (computed per draw); if
    alive, the purchase rate and dropout are drawn from their posterior given history and alive:
    BG/NBD lambda ~ Gamma(r + x, alpha + T), p ~ Beta(a, b + x), purchases Poisson while alive and
    a dropout chance p after each; Pareto/NBD lambda as BG/NBD, mu ~ Gamma(s, beta + T), remaining
    lifetime Exp(mu). Spend: nu ~ Gamma(q + p m, gamma + m z), each purchase ~ Gamma(p, nu), where
    z is the mean of the m repeat purchase days it was taken over (m = monetary_frequency,
    by default x).
    """
    draws_count, customers = p_alive.shape
    # Work on flat (draw, customer) cells, and only on the ones that matter: draws for alive
    # paths, then spend for paths with purchases. Cell k is draw k // customers, customer k % customers.
    alive_cells = np.flatnonzero(rng.random(draws_count * customers) < p_alive.reshape(-1))
    draw, customer = np.divmod(alive_cells, customers)
    x = frequency.astype(float)[customer]
    t = T.astype(float)[customer]

    def parameter(name: str, source: list[dict[str, float]]) -> np.ndarray:
        return np.array([values[name] for values in source])[draw]

    lam = rng.gamma(parameter("r", draws) + x, 1.0 / (parameter("alpha", draws) + t))
    if model_name == "bg_nbd":
        dropout = rng.beta(parameter("a", draws), parameter("b", draws) + x)
        would_make = rng.poisson(lam * horizon_days)
        made = np.minimum(would_make, rng.geometric(np.clip(dropout, 1e-12, 1.0)))
        buying = made > 0
        owner, times = _purchase_times_bg(rng, would_make[buying], made[buying], horizon_days)
    else:
        mu = rng.gamma(parameter("s", draws), 1.0 / (parameter("beta", draws) + t))
        window = np.minimum(rng.exponential(1.0 / np.maximum(mu, 1e-300)), horizon_days)
        made = rng.poisson(lam * window)
        buying = made > 0
        owner = np.repeat(np.arange(int(buying.sum())), made[buying])
        times = rng.random(owner.size) * window[buying][owner]

    draw, customer = draw[buying], customer[buying]
    m = (frequency if monetary_frequency is None else monetary_frequency).astype(float)[customer]
    z = np.where(m > 0, np.nan_to_num(monetary.astype(float), nan=0.0)[customer], 0.0)
    p = parameter("p", spend_draws)
    nu = rng.gamma(parameter("q", spend_draws) + p * m, 1.0 / (parameter("gamma", spend_draws) + m * z))
    values = rng.gamma(p[owner], 1.0 / nu[owner])
    factors = (1.0 + annual_rate) ** (-times / DAYS_PER_YEAR)
    totals = np.zeros(draws_count * customers)
    totals[alive_cells[buying]] = np.bincount(owner, weights=values * factors, minlength=int(buying.sum()))
    return totals.reshape(draws_count, customers)


def spend_interval(paths: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lower and upper bounds per customer (columns of `paths`) and the chance of spending nothing."""
    tail = (1.0 - level) / 2.0
    zero_share = (paths <= 0.0).mean(axis=0)
    lower, upper_equal = np.quantile(paths, [tail, 1.0 - tail], axis=0)
    upper_one_sided = np.quantile(paths, level, axis=0)
    one_sided = zero_share >= tail
    return np.where(one_sided, 0.0, lower), np.where(one_sided, upper_one_sided, upper_equal), zero_share


def interval_predictions(
    model_name: str,
    draws: list[dict[str, float]],
    spend_draws: list[dict[str, float]],
    summary: pd.DataFrame,
    horizon_days: float,
    annual_rate: float,
    level: float,
    seed: int,
) -> pd.DataFrame:
    """Interval bounds and the chance of no purchase per customer, simulated chunk by chunk."""
    draws_count = min(len(draws), len(spend_draws))
    draws, spend_draws = draws[:draws_count], spend_draws[:draws_count]
    clv_model = fitted_purchase_model(model_name, draws)
    chunk_size = max(1, SIMULATION_CELLS // draws_count)
    lower, upper, zero_share = (np.empty(len(summary)) for _ in range(3))
    for chunk_number, start in enumerate(range(0, len(summary), chunk_size)):
        chunk = summary.iloc[start : start + chunk_size]
        p_alive = np.clip(_values(clv_model.expected_probability_alive(as_customer_frame(chunk))), 0.0, 1.0)
        rng = np.random.default_rng([seed, chunk_number])
        paths = simulate_discounted_spend(
            rng,
            model_name,
            draws,
            spend_draws,
            p_alive,
            chunk["frequency"].to_numpy(),
            chunk["recency"].to_numpy(dtype=float),
            chunk["T"].to_numpy(dtype=float),
            chunk["monetary_value"].to_numpy(dtype=float),
            horizon_days,
            annual_rate,
            chunk["monetary_frequency"].to_numpy(),
        )
        bounds = spend_interval(paths, level)
        for target, values in zip((lower, upper, zero_share), bounds, strict=True):
            target[start : start + len(chunk)] = values
    return pd.DataFrame(
        {
            "customer_key": summary["customer_key"].to_numpy(),
            "predicted_clv_lower": lower,
            "predicted_clv_upper": upper,
            "probability_no_purchase": zero_share,
        }
    )


def latest_fit(fits: pd.DataFrame, model_name: str, as_of_date) -> pd.Series:
    """This run's fit of one model: the latest one recorded for the as-of date."""
    candidates = fits[(fits["model_name"] == model_name) & (pd.to_datetime(fits["as_of_date"]) == as_of_date)]
    if candidates.empty:
        raise ValueError(f"clv_model_fit holds no {model_name} fit as of {as_of_date.date()}: build it first")
    return candidates.sort_values("fitted_at").iloc[-1]


def estimates_of(fit: pd.Series, names: tuple[str, ...]) -> dict[str, float]:
    return {name: float(fit[name]) for name in names}


def score(
    raw_summary: pd.DataFrame,
    fits: pd.DataFrame,
    model_name: str,
    horizon_days: float,
    annual_rate: float,
    steps: int,
    level: float,
    seed: int,
) -> pd.DataFrame:
    """All predictions for the customers of the summary."""
    summary = pd.DataFrame(
        {
            "customer_key": raw_summary["customer_key"],
            "frequency": raw_summary["frequency"].astype("int64"),
            "recency": raw_summary["recency_days"].astype(float),
            "T": raw_summary["t_days"].astype(float),
            "monetary_value": raw_summary["monetary_value"].astype(float),
            # Repeat days the mean spend is taken over (fewer than frequency when staging lost lines).
            "monetary_frequency": raw_summary.get("monetary_frequency", raw_summary["frequency"]).astype(
                "int64"
            ),
        }
    )
    summary = summary.sort_values("customer_key", kind="stable").reset_index(drop=True)
    as_of_date = pd.Timestamp(raw_summary["as_of_date"].iloc[0])
    purchase_fit = latest_fit(fits, model_name, as_of_date)
    spend_fit = latest_fit(fits, "gamma_gamma", as_of_date)
    estimates = estimates_of(purchase_fit, PURCHASE_MODEL_PARAMETERS[model_name])
    spend = estimates_of(spend_fit, ("p", "q", "gamma"))

    scored = point_predictions(model_name, estimates, summary, horizon_days, steps, annual_rate)
    scored["expected_order_value"] = expected_order_value(
        spend, scored["monetary_frequency"].to_numpy(), scored["monetary_value"].to_numpy(dtype=float)
    )
    scored["predicted_clv"] = scored["expected_order_value"] * scored["discounted_purchases"]
    intervals = interval_predictions(
        model_name,
        json.loads(purchase_fit["parameter_draws"]),
        json.loads(spend_fit["parameter_draws"]),
        summary,
        horizon_days,
        annual_rate,
        level,
        seed,
    )
    scored = scored.merge(intervals, on="customer_key", how="left", validate="one_to_one")
    return pd.DataFrame(
        {
            "customer_key": scored["customer_key"],
            "as_of_date": as_of_date.date(),
            "clv_model": model_name,
            "purchase_fit_id": purchase_fit["fit_id"],
            "spend_fit_id": spend_fit["fit_id"],
            "frequency": scored["frequency"],
            "recency_days": scored["recency"],
            "t_days": scored["T"],
            "monetary_value": scored["monetary_value"],
            "monetary_frequency": scored["monetary_frequency"],
            "p_alive": scored["p_alive"],
            "expected_purchases": scored["expected_purchases"],
            "expected_order_value": scored["expected_order_value"],
            "expected_days_between_purchases": scored["expected_days_between_purchases"],
            "probability_no_purchase": scored["probability_no_purchase"],
            "predicted_clv": scored["predicted_clv"],
            "predicted_clv_lower": scored["predicted_clv_lower"],
            "predicted_clv_upper": scored["predicted_clv_upper"],
            "clv_horizon_days": horizon_days,
            "clv_annual_discount_rate": annual_rate,
            "clv_interval_level": level,
        }
    )


def model(dbt, session) -> pd.DataFrame:
    dbt.config(materialized="table")
    # One plain call per setting: dbt finds meta_get calls by reading this file, not by running it.
    model_name = dbt.config.meta_get("clv_model", "bg_nbd")
    horizon_days = dbt.config.meta_get("clv_horizon_days", 365)
    annual_rate = dbt.config.meta_get("clv_annual_discount_rate", 0.1)
    steps = dbt.config.meta_get("clv_discount_steps", 12)
    level = dbt.config.meta_get("clv_interval_level", 0.9)
    seed = dbt.config.meta_get("clv_random_seed", 0)
    raw_summary = dbt.ref("int_value__purchase_summary").df()
    fits = dbt.ref("clv_model_fit").df()
    return score(
        raw_summary,
        fits,
        str(model_name),
        float(horizon_days),
        float(annual_rate),
        int(steps),
        float(level),
        int(seed),
    )
