"""The planted purchase process: BG/NBD purchase timing and Gamma-Gamma order values.

Per buyer: lambda ~ Gamma(r, rate=alpha), p ~ Beta(a, b). After the first purchase at t0, repeat
purchases arrive as a Poisson(lambda) process; after every repeat purchase the buyer drops out
with probability p. Vectorised as K ~ Geometric(p) (the repeat after which the buyer drops out)
and n ~ Poisson(lambda * (T - t0)) repeats that would happen if alive throughout; the buyer
makes the first min(n, K) of those n uniformly placed repeats.

Only the first min(n, K) order statistics of n uniforms are needed, so they are drawn directly
from exponential spacings: U(j) = (E1 + .. + Ej) / (E1 + .. + E(n+1)), with the unused tail of
the denominator drawn as one Gamma(n - m + 1) variable. This keeps work proportional to the
purchases actually made even for buyers with very high lambda.

Time-of-day habit: every purchase is then moved to an hour drawn from the person's habit
*within its own UTC day*, and each buyer's purchases are re-sorted; no purchase changes day, so
the day-level process, t0's day and the window bounds are untouched.

The planted effects (effects.py) later add incremental purchases and change order values; the
process keeps the untouched BG/NBD parameters, acquisition, dropout and repeat count, and marks
every purchase with its source (baseline, campaign or loyalty) and its untreated value.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from orchestration.devtools.sample_data.arrays import rank_within, starts_of
from orchestration.devtools.sample_data.persons import Persons, hours_of_habit
from orchestration.devtools.sample_data.world import World

MIN_ORDER_CENTS = 50  # guard against sub-cent Gamma draws; far below any realistic order
PURCHASE_SOURCES = ("baseline", "campaign", "loyalty")
BASELINE, CAMPAIGN, LOYALTY = range(3)


@dataclass(frozen=True)
class PurchaseProcess:
    """Per-buyer parameters (aligned with `buyers`) and purchases grouped by buyer in time order."""

    buyers: np.ndarray  # local person indices
    lam: np.ndarray
    p: np.ndarray
    nu: np.ndarray
    acquired: np.ndarray  # days since observation start, first purchase
    dropout: np.ndarray  # days, NaN while alive at the end of the window
    n_repeat: np.ndarray
    buyer_pos: np.ndarray  # per purchase: index into `buyers`
    day: np.ndarray  # per purchase: days since observation start
    seq: np.ndarray  # per purchase: 0 for the first purchase
    value_cents: np.ndarray  # per purchase: net order value
    source: np.ndarray  # per purchase: index into PURCHASE_SOURCES
    cause: np.ndarray  # per purchase: RCT campaign index of a campaign purchase, else -1
    baseline_cents: np.ndarray  # per purchase: value without campaign effects; 0 for campaign purchases

    @property
    def person(self) -> np.ndarray:
        return self.buyers[self.buyer_pos]

    @property
    def alive(self) -> np.ndarray:
        return np.isnan(self.dropout)

    def with_purchases(
        self,
        buyer_pos: np.ndarray,
        day: np.ndarray,
        value_cents: np.ndarray,
        source: int,
        cause: np.ndarray | None = None,
    ) -> PurchaseProcess:
        """The process plus incremental purchases (never first purchases), re-sorted by buyer and time."""
        n = len(buyer_pos)
        all_pos = np.concatenate([self.buyer_pos, buyer_pos])
        all_day = np.concatenate([self.day, day])
        order = np.lexsort((all_day, all_pos))
        extra_cause = np.full(n, -1, np.int64) if cause is None else np.asarray(cause, np.int64)

        def merged(old: np.ndarray, new: np.ndarray) -> np.ndarray:
            return np.concatenate([old, new.astype(old.dtype)])[order]

        counts = np.bincount(all_pos, minlength=len(self.buyers))
        return replace(
            self,
            buyer_pos=all_pos[order],
            day=all_day[order],
            seq=rank_within(counts),
            value_cents=merged(self.value_cents, np.asarray(value_cents)),
            source=merged(self.source, np.full(n, source)),
            cause=merged(self.cause, extra_cause),
            # Loyalty purchases happen without any campaign; campaign purchases have no untreated value.
            baseline_cents=merged(
                self.baseline_cents, np.asarray(value_cents) if source == LOYALTY else np.zeros(n, np.int64)
            ),
        )


def draw_purchases(world: World, rng: np.random.Generator, persons: Persons) -> PurchaseProcess:
    bg, gg = world.config.bg_nbd, world.config.gamma_gamma
    horizon = world.horizon
    buyers = np.flatnonzero(persons.is_buyer)
    nb = len(buyers)

    lam = rng.gamma(bg.r, 1.0 / bg.alpha, nb)
    p = np.maximum(rng.beta(bg.a, bg.b, nb), 1e-12)
    nu = rng.gamma(gg.q, 1.0 / gg.gamma, nb)
    # The last day is kept free so every buyer has some time at risk of repeating.
    t0 = rng.uniform(0.0, horizon - 1.0, nb)
    drop_after = rng.geometric(p)
    would_make = rng.poisson(lam * (horizon - t0))
    m = np.minimum(would_make, drop_after)

    spacing = rng.exponential(1.0, int(m.sum()))
    owner = np.repeat(np.arange(nb), m)
    cum = np.cumsum(spacing)
    before = np.concatenate([[0.0], cum])[starts_of(m)]
    cum -= before[owner]
    run_total = np.zeros(nb)
    np.add.at(run_total, owner, spacing)
    denominator = run_total + rng.gamma(would_make - m + 1.0, 1.0)
    repeat_day = t0[owner] + (horizon - t0[owner]) * cum / denominator[owner]

    buyer_pos = np.concatenate([np.arange(nb), owner])
    day = np.concatenate([t0, repeat_day])
    hours = hours_of_habit(rng, persons, buyers[buyer_pos])
    day = np.floor(day) + hours / 24.0
    order = np.lexsort((day, buyer_pos))
    buyer_pos, day = buyer_pos[order], day[order]
    counts = m + 1
    seq = rank_within(counts)
    first = starts_of(counts)
    last = first + counts - 1

    value = rng.gamma(gg.p, 1.0 / nu[buyer_pos])
    value_cents = np.maximum(MIN_ORDER_CENTS, np.round(value * 100.0)).astype(np.int64)
    dropped = drop_after <= would_make
    return PurchaseProcess(
        buyers=buyers,
        lam=lam,
        p=p,
        nu=nu,
        acquired=day[first],
        dropout=np.where(dropped, day[last], np.nan),
        n_repeat=m.astype(np.int64),
        buyer_pos=buyer_pos,
        day=day,
        seq=seq,
        value_cents=value_cents,
        source=np.full(len(day), BASELINE, np.int8),
        cause=np.full(len(day), -1, np.int64),
        baseline_cents=value_cents.copy(),
    )
