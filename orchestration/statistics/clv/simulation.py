"""The CLV interval: simulated futures of each customer, conditional on their history.

An interval of the customer's *realised* discounted spend over the horizon (a predictive
interval, not an interval of the mean), which no closed form gives: for each of the fit's
parameter draws, the customer's future is drawn from the fitted process given their history
(alive or not, purchase rate, dropout, purchase times, order values), and the empirical
quantiles of those paths are taken. The simulation's mean matches pymc-marketing's closed-form
expectations (tested), which is what makes it trustworthy.

Memory is bounded: customers are simulated in chunks of SIMULATION_CELLS draws x customers,
each chunk with its own seeded generator, so results do not depend on the machine.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from orchestration.statistics.clv.posterior import customer_frame, draw_values, purchase_model_with

DAYS_PER_YEAR = 365.0
# Customers simulated together; keeps the draws x customers arrays to a few million cells.
SIMULATION_CELLS = 4_000_000


def purchase_times_bg(
    rng: np.random.Generator, would_make: np.ndarray, made: np.ndarray, horizon_days: float
) -> tuple[np.ndarray, np.ndarray]:
    """Times of the first `made` of `would_make` uniform purchase times on (0, H], per path.

    The first m order statistics of n uniforms are (E1 + .. + Ej) / (E1 + .. + E(n+1)) for
    exponential E; the unused tail of the denominator is one Gamma(n - m + 1) draw, so the work is
    proportional to the purchases made (as in the sample-data generator). Returns the owning
    path of each purchase and its time.
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
    by default x). `recency` enters through p_alive only.
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
        owner, times = purchase_times_bg(rng, would_make[buying], made[buying], horizon_days)
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
    """Lower and upper bounds per customer (columns of `paths`) and the chance of spending nothing.

    Equal-tailed at `level` when the chance of spending nothing is below (1 - level) / 2;
    otherwise [0, quantile level], which still holds `level` of the probability (a customer
    likely to buy nothing cannot have a lower bound above 0).
    """
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
    """Interval bounds and the chance of no purchase per customer of `summary` (prepared, see
    data.prepare_summary), simulated chunk by chunk."""
    draws_count = min(len(draws), len(spend_draws))
    draws, spend_draws = draws[:draws_count], spend_draws[:draws_count]
    purchase_model = purchase_model_with(model_name, draws)
    chunk_size = max(1, SIMULATION_CELLS // draws_count)
    lower, upper, zero_share = (np.empty(len(summary)) for _ in range(3))
    for chunk_number, start in enumerate(range(0, len(summary), chunk_size)):
        chunk = summary.iloc[start : start + chunk_size]
        p_alive = np.clip(
            draw_values(purchase_model.expected_probability_alive(customer_frame(chunk))), 0.0, 1.0
        )
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
