"""Planted causal effects: what randomized treatments and loyalty membership change, and the truth.

The measurement layer has to recover these effects from the raw data, and a later closed-loop
simulation has to apply the very same model to treatments the warehouse delivers itself, so the
model lives here in one place: `draw_responses` is the treatment model for any list of
deliveries (person, treatment, instant), and `apply_effects` uses it, plus the membership
effect, on one chunk of the generator.

Treatments (config TREATMENT_EFFECTS, intent to treat). A delivered treatment changes a customer
only if they are alive in the planted purchase process at that instant (first purchase before
it, not yet dropped out); prospects, customers dropped out or not yet acquired, and the control
group are unchanged. In the cell (needs segment, value tier) a responsive customer
- makes one incremental purchase in the response window with probability q (placed at a
  truncated-exponential delay, before a dropout that happens inside the window), and
- sees every order in the window (incremental or not) worth (1 + m) times its untreated value.
Effects do not depend on the channel, nor on whether the message was delivered or opened: the
offer is attached to the account.

Truth per assignment, exact given the generator's own counterfactual (the untreated outcome
Y0 of every assigned customer, treated or not, is known) and analytic over the incremental
draw:  conversion effect = q * (1 - Y0 converted),  revenue effect = m * R0 + q * (1 + m) * p / nu
(R0 = untreated revenue in the window, p / nu = the person's expected order value). The mean over
a group's assigned customers (both arms) is the effect a difference in means between its treated
and its control customers estimates without bias; so the planted effect of any grouping, e.g. by
estimated segments, is the mean of expected_effect_* over its assignments. A conversion is at
least one non-cancelled order of the person (any account or guest checkout) with ordered_at in
[assigned_at, assigned_at + 30 days); revenue is those orders' net value (lines after discounts,
before returns). The default RCT windows never overlap; with a history short enough that they
do, effects compound and each campaign's truth ignores the others'.

Sizes at 10,000 customers (seed 21; they scale linearly): treated / control 1,583 / 681
(RCT-01 WINBACK_10), 2,160 / 838 (RCT-02 CROSS_SELL), 2,657 / 1,104 (RCT-03 LOYALTY_BONUS),
3,026 / 1,294 (RCT-04 NEWSLETTER); average planted conversion effects +7.9, +3.0, +2.7 and 0
points, revenue per customer +4.5, +3.7, +3.2 and 0, against standard errors of about 1.0-1.8
points and 1.2-1.8 per customer: WINBACK_10 and its larger segments are detectable at this size,
the smaller effects need more customers.

Loyalty (config LoyaltyEffect): changed members buy at rate lambda * (1 + u) from joining until
they leave, drop out or the window ends (an added Poisson process at rate lambda * u); the other
members do not change at all.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pyarrow as pa

from orchestration.devtools.sample_data.accounts import Accounts
from orchestration.devtools.sample_data.arrays import (
    SECONDS_PER_DAY,
    days_to_seconds,
    rank_within,
    take_strings,
    ts_array,
)
from orchestration.devtools.sample_data.config import (
    RCT_CAMPAIGNS,
    RESPONSE_DELAY_DAYS,
    RESPONSE_WINDOW_DAYS,
    SEGMENTS,
    TREATMENT_CODES,
    TREATMENT_EFFECTS,
    VALUE_TIER_SHARES,
    VALUE_TIERS,
    TreatmentEffect,
)
from orchestration.devtools.sample_data.crm import MembershipPlan, member_ids
from orchestration.devtools.sample_data.marketing import GROUPS, AssignmentPlan
from orchestration.devtools.sample_data.persons import Persons, hours_of_habit
from orchestration.devtools.sample_data.purchases import CAMPAIGN, LOYALTY, MIN_ORDER_CENTS, PurchaseProcess
from orchestration.devtools.sample_data.truth import person_ids
from orchestration.devtools.sample_data.world import World, value_tiers

NEVER = np.iinfo(np.int64).max
TIER_NAMES: tuple[str, ...] = ("none", *VALUE_TIERS)  # truth spelling; 'none' = not a buyer
FIRST_DAYS = 90.0  # horizon of the per-member loyalty summary
_KEY_SHIFT = 2**32  # purchase key = buyer position * 2^32 + seconds since the window start


def effect_matrices() -> tuple[np.ndarray, np.ndarray]:
    """Planted (treatment x segment x value tier) incremental-purchase probability q and spend change m."""
    q = np.stack([TREATMENT_EFFECTS[t].purchase_probability() for t in TREATMENT_CODES])
    m = np.stack([TREATMENT_EFFECTS[t].spend_change() for t in TREATMENT_CODES])
    return q, m


@dataclass(frozen=True)
class Arms:
    """The arms of randomized campaigns: per arm its campaign, treatment code and planted effect.

    The RCTs have one arm per campaign; an outside multi-arm experiment has several arms sharing
    one campaign id (and one control group). Plans index arms through their `campaign` field.
    """

    campaign_ids: tuple[str, ...]
    treatment_codes: tuple[str, ...]
    purchase: np.ndarray  # (arm x segment x value tier) incremental-purchase probability
    spend: np.ndarray  # (arm x segment x value tier) relative order-value change

    @property
    def size(self) -> int:
        return len(self.campaign_ids)

    @property
    def matrices(self) -> tuple[np.ndarray, np.ndarray]:
        return self.purchase, self.spend

    def note(self, k: int, enabled: bool) -> str:
        if not enabled:
            return "effects disabled (--no-effects): no effect planted"
        if not self.purchase[k].any() and not self.spend[k].any():
            return "planted effect is zero"
        return "planted effect"

    @classmethod
    def of(cls, campaign_ids: list[str], codes: list[str], effects: list[TreatmentEffect]) -> Arms:
        return cls(
            campaign_ids=tuple(campaign_ids),
            treatment_codes=tuple(codes),
            purchase=np.stack([e.purchase_probability() for e in effects]),
            spend=np.stack([e.spend_change() for e in effects]),
        )


RCT_ARMS = Arms.of(
    [c.campaign_id for c in RCT_CAMPAIGNS],
    [c.treatment_code for c in RCT_CAMPAIGNS],
    [TREATMENT_EFFECTS[c.treatment_code] for c in RCT_CAMPAIGNS],
)


@dataclass(frozen=True)
class PersonState:
    """What the treatment model needs per person (aligned by person position)."""

    segment: np.ndarray  # needs segment index (segment_id - 1)
    value_tier: np.ndarray  # index into VALUE_TIERS, -1 for non-buyers
    acquired: np.ndarray  # epoch seconds of the first purchase, NEVER for non-buyers
    dropout: np.ndarray  # epoch seconds of the purchase after which the person dropped out, NEVER if alive
    spend_nu: np.ndarray  # Gamma-Gamma nu, NaN for non-buyers

    def alive_at(self, person: np.ndarray, at: np.ndarray) -> np.ndarray:
        return (self.acquired[person] < at) & (self.dropout[person] > at)


def person_state(world: World, persons: Persons, process: PurchaseProcess) -> PersonState:
    """The state of one chunk's persons, from the planted process."""
    n = persons.size
    tier = np.full(n, -1, np.int64)
    tier[process.buyers] = value_tiers(world, process.lam, process.nu)
    acquired = np.full(n, NEVER)
    acquired[process.buyers] = days_to_seconds(process.acquired, world.start_epoch)
    dropout = np.full(n, NEVER)
    dropped = ~np.isnan(process.dropout)
    dropout[process.buyers[dropped]] = days_to_seconds(process.dropout[dropped], world.start_epoch)
    nu = np.full(n, np.nan)
    nu[process.buyers] = process.nu
    return PersonState(persons.segment.astype(np.int64), tier, acquired, dropout, nu)


def person_state_from_truth(parameters: pa.Table) -> PersonState:
    """The state of the persons in `_truth/person_parameters.parquet` rows (for the closed loop).

    A simulation that delivers treatments to persons of a generated dataset can rebuild their
    state from the truth alone; dropout_at is the last purchase of the untreated process.
    """

    def seconds(name: str) -> np.ndarray:
        col = parameters.column(name).cast(pa.timestamp("s", tz="UTC")).cast(pa.int64())
        return col.fill_null(NEVER).to_numpy()

    tiers = parameters.column("value_tier").to_pylist()
    return PersonState(
        segment=parameters.column("segment_id").to_numpy() - 1,
        value_tier=np.array([TIER_NAMES.index(t or "none") - 1 for t in tiers], dtype=np.int64),
        acquired=seconds("acquired_at"),
        dropout=seconds("dropout_at"),
        spend_nu=parameters.column("spend_nu").fill_null(np.nan).to_numpy(),
    )


@dataclass(frozen=True)
class Deliveries:
    """Treatments reaching persons: the response window opens at `at`.

    No channel: the planted effects do not depend on it (nor on delivery or opening).
    """

    person: np.ndarray  # position in the PersonState arrays
    treatment: np.ndarray  # index into TREATMENT_CODES
    at: np.ndarray  # epoch seconds

    @property
    def size(self) -> int:
        return len(self.person)


@dataclass(frozen=True)
class Responses:
    """Per delivery: the planted effect that applies and the drawn incremental purchase."""

    responsive: np.ndarray  # alive at delivery; only they can change
    purchase_probability: np.ndarray  # q of the cell, 0 when not responsive
    spend_change: np.ndarray  # m of the cell, 0 when not responsive
    window_end: np.ndarray  # epoch seconds, exclusive: min(at + window, end of data)
    purchased: np.ndarray  # the incremental purchase happens
    purchase_at: np.ndarray  # its instant, epoch seconds (-1 if none)
    purchase_cents: np.ndarray  # its net value, spend change included (0 if none)

    def conversion_effect(self, baseline_converted: np.ndarray) -> np.ndarray:
        """Expected change of P(at least one purchase in the window) given the untreated outcome."""
        return self.purchase_probability * (1.0 - baseline_converted)

    def revenue_effect(self, baseline_cents: np.ndarray, mean_order_cents: np.ndarray) -> np.ndarray:
        """Expected change of window revenue (cents) given the untreated window revenue."""
        q, m = self.purchase_probability, self.spend_change
        return m * baseline_cents + q * (1.0 + m) * np.nan_to_num(mean_order_cents)


def draw_responses(
    rng: np.random.Generator,
    state: PersonState,
    deliveries: Deliveries,
    end_epoch: int,
    gamma_gamma_p: float,
    window_days: float = RESPONSE_WINDOW_DAYS,
    delay_days: float = RESPONSE_DELAY_DAYS,
    matrices: tuple[np.ndarray, np.ndarray] | None = None,
) -> Responses:
    """The planted treatment model for any deliveries (RCT assignments or a simulated sync).

    Draws the same number of variates for every delivery, so a delivery's response depends only
    on the stream and its position, never on the others' outcomes. `deliveries.treatment` indexes
    `matrices` (purchase probability, spend change; treatment x segment x tier), by default the
    catalogue's effect_matrices(); an outside experiment passes its own arms' matrices.
    """
    n, person, at = deliveries.size, deliveries.person, deliveries.at
    q_all, m_all = effect_matrices() if matrices is None else matrices
    tier = state.value_tier[person]
    window_end = np.minimum(at + int(window_days * SECONDS_PER_DAY), end_epoch)
    until = np.minimum(window_end, state.dropout[person])
    responsive = (tier >= 0) & state.alive_at(person, at) & (until > at)
    cell = (deliveries.treatment, state.segment[person], np.maximum(tier, 0))
    q = np.where(responsive, q_all[cell], 0.0)
    m = np.where(responsive, m_all[cell], 0.0)

    u, v = rng.random(n), rng.random(n)
    nu = state.spend_nu[person]
    value = rng.gamma(gamma_gamma_p, np.where(nu > 0, 1.0 / np.where(nu > 0, nu, 1.0), 1.0), n)
    purchased = responsive & (u < q)
    # Delay ~ Exponential(delay_days) cut at the time left, by inverting its truncated CDF.
    span = np.maximum(until - at, 1).astype(float)
    scale = delay_days * SECONDS_PER_DAY
    delay = -scale * np.log1p(-v * -np.expm1(-span / scale))
    purchase_at = np.minimum(at + np.floor(delay).astype(np.int64), until - 1)
    cents = np.maximum(MIN_ORDER_CENTS, np.round(value * 100.0 * (1.0 + m))).astype(np.int64)
    return Responses(
        responsive=responsive,
        purchase_probability=q,
        spend_change=m,
        window_end=window_end,
        purchased=purchased,
        purchase_at=np.where(purchased, purchase_at, -1),
        purchase_cents=np.where(purchased, cents, 0),
    )


# --- applying the effects to one chunk ----------------------------------------------------------


@dataclass(frozen=True)
class AppliedEffects:
    process: PurchaseProcess  # with incremental purchases and changed order values
    truth: dict[str, pa.Table]  # assignment_outcomes, loyalty_effect
    stats: dict[str, pa.Table]  # effect_cells, effect_summary: partial sums the generator adds up


def _days(seconds: np.ndarray, start_epoch: int) -> np.ndarray:
    """Fractional days that days_to_seconds maps back to exactly these seconds."""
    return (np.asarray(seconds, dtype=np.int64) - start_epoch + 0.5) / SECONDS_PER_DAY


def _habit_instants(
    rng: np.random.Generator,
    persons: Persons,
    who: np.ndarray,
    seconds: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    start_epoch: int,
) -> np.ndarray:
    """Move each instant to the person's habitual hour of the same UTC day when that stays in [low, high)."""
    day_start = start_epoch + (seconds - start_epoch) // SECONDS_PER_DAY * SECONDS_PER_DAY
    moved = day_start + np.floor(hours_of_habit(rng, persons, who) * 3_600).astype(np.int64)
    return np.where((moved >= low) & (moved < high), moved, seconds)


def _purchase_keys(process: PurchaseProcess, start_epoch: int) -> np.ndarray:
    seconds = days_to_seconds(process.day, start_epoch) - start_epoch
    return process.buyer_pos.astype(np.int64) * _KEY_SHIFT + seconds


def _window_ranges(
    keys: np.ndarray, buyer: np.ndarray, low: np.ndarray, high: np.ndarray, start_epoch: int
) -> tuple[np.ndarray, np.ndarray]:
    """[lo, hi) positions of each buyer's purchases in [low, high); empty for buyer -1."""
    base = np.maximum(buyer, 0).astype(np.int64) * _KEY_SHIFT - start_epoch
    lo = np.searchsorted(keys, base + low, side="left")
    hi = np.searchsorted(keys, base + high, side="left")
    none = buyer < 0
    return np.where(none, 0, lo), np.where(none, 0, hi)


def _window_totals(
    process: PurchaseProcess,
    keys: np.ndarray,
    buyer: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    start: int,
) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = _window_ranges(keys, buyer, low, high, start)
    cumulative = np.concatenate([[0], np.cumsum(process.value_cents)])
    return hi - lo, cumulative[hi] - cumulative[lo]


def _loyalty(
    world: World,
    rng: np.random.Generator,
    persons: Persons,
    process: PurchaseProcess,
    plan: MembershipPlan,
    enabled: bool,
) -> tuple[PurchaseProcess, dict[str, np.ndarray]]:
    start, end = world.start_epoch, world.end_epoch
    pos = plan.buyer_pos
    dropped = np.where(
        np.isnan(process.dropout[pos]),
        NEVER,
        days_to_seconds(np.nan_to_num(process.dropout[pos]), start),
    )
    stop = np.minimum(np.minimum(np.where(plan.left >= 0, plan.left, NEVER), dropped), end)
    span_days = np.maximum(stop - plan.joined, 0) / SECONDS_PER_DAY
    uplift = plan.uplift if enabled else np.zeros(plan.size)
    rate = process.lam[pos] * uplift
    first_days = np.minimum(span_days, FIRST_DAYS)
    count = rng.poisson(rate * span_days) if enabled else np.zeros(plan.size, np.int64)
    owner = np.repeat(np.arange(plan.size), count)
    t = plan.joined[owner] + np.floor(rng.random(owner.size) * (stop - plan.joined)[owner]).astype(np.int64)
    who = process.buyers[pos[owner]]
    t = _habit_instants(rng, persons, who, t, plan.joined[owner], stop[owner], start)
    value = rng.gamma(world.config.gamma_gamma.p, 1.0 / process.nu[pos[owner]])
    cents = np.maximum(MIN_ORDER_CENTS, np.round(value * 100.0)).astype(np.int64)
    mean_order = world.config.gamma_gamma.p / process.nu[pos]
    info = {
        "stop": stop,
        "changed": plan.changed & enabled,
        "multiplier": 1.0 + uplift,
        "expected": rate * span_days,
        "expected_first": rate * first_days,
        "expected_revenue": rate * span_days * mean_order,
        "realized": count,
        "member_days": span_days,
    }
    return process.with_purchases(pos[owner], _days(t, start), cents, LOYALTY), info


def apply_treatments(
    world: World,
    rng: np.random.Generator,
    persons: Persons,
    process: PurchaseProcess,
    state: PersonState,
    person: np.ndarray,
    plan: AssignmentPlan,
    arms: Arms,
    cause: np.ndarray,
) -> tuple[PurchaseProcess, Responses, dict[str, np.ndarray]]:
    """Apply randomized treatments to the chunk's process: responses, spend changes, extra purchases.

    `plan` rows are the assignments to evaluate (`plan.campaign` indexes `arms`, `person` is each
    row's person); only treated rows change anything, so a control row may be evaluated under
    several arms (a shared control group). `cause` is the campaign index recorded on each row's
    incremental purchase. Returns the changed process, the responses and the per-row outcomes.
    """
    cfg, start, end = world.config, world.start_epoch, world.end_epoch
    deliveries = Deliveries(person, plan.campaign, plan.at)
    resp = draw_responses(rng, state, deliveries, end, cfg.gamma_gamma.p, matrices=arms.matrices)
    if not cfg.effects:
        zero = np.zeros(plan.size)
        resp = Responses(
            resp.responsive,
            zero,
            zero,
            resp.window_end,
            zero.astype(bool),
            np.full(plan.size, -1),
            np.zeros(plan.size, np.int64),
        )

    buyer_of = np.full(persons.size, -1, np.int64)
    buyer_of[process.buyers] = np.arange(process.buyers.size)
    buyer = buyer_of[person]
    keys = _purchase_keys(process, start)
    n0, r0 = _window_totals(process, keys, buyer, plan.at, resp.window_end, start)
    converted0 = n0 > 0

    # Spend change on every order of a treated responsive customer in the window.
    changes = plan.treated & (resp.spend_change != 0)
    lo, hi = _window_ranges(keys, buyer[changes], plan.at[changes], resp.window_end[changes], start)
    factor = np.ones(len(process.day))
    idx = np.repeat(lo, hi - lo) + rank_within(hi - lo)
    np.multiply.at(factor, idx, np.repeat(1.0 + resp.spend_change[changes], hi - lo))
    changed = factor != 1.0
    value = process.value_cents.copy()
    value[changed] = np.maximum(MIN_ORDER_CENTS, np.round(value[changed] * factor[changed])).astype(np.int64)
    process = replace(process, value_cents=value)

    extra = np.flatnonzero(plan.treated & resp.purchased)
    until = np.minimum(resp.window_end[extra], state.dropout[person[extra]])
    t = _habit_instants(rng, persons, person[extra], resp.purchase_at[extra], plan.at[extra], until, start)
    process = process.with_purchases(
        buyer[extra], _days(t, start), resp.purchase_cents[extra], CAMPAIGN, cause[extra]
    )
    n1, r1 = _window_totals(process, _purchase_keys(process, start), buyer, plan.at, resp.window_end, start)

    mean_order = cfg.gamma_gamma.p / state.spend_nu[person] * 100.0
    incremental = (plan.treated & resp.purchased).astype(np.int64)
    outcome = {
        "person": person,
        "responsive": resp.responsive,
        "n0": n0,
        "converted0": converted0,
        "r0": r0,
        "tau_conv": resp.conversion_effect(converted0.astype(float)),
        "tau_rev": resp.revenue_effect(r0.astype(float), mean_order) / 100.0,
        "incremental": incremental,
        "incremental_cents": np.where(incremental > 0, resp.purchase_cents, 0),
        "n1": n1,
        "r1": r1,
    }
    return process, resp, outcome


def apply_effects(
    world: World,
    rng: np.random.Generator,
    persons: Persons,
    process: PurchaseProcess,
    accounts: Accounts,
    assignment_ids: pa.Array,
    rct: AssignmentPlan,
    members: MembershipPlan,
) -> AppliedEffects:
    """Loyalty effect, then the RCT effects, on the chunk's process; with truth and partial sums.

    With config.effects False nothing changes and the truth says so (all effects zero).
    """
    enabled = world.config.effects
    process, loyalty = _loyalty(world, rng, persons, process, members, enabled)
    state = person_state(world, persons, process)
    person = accounts.person[rct.account]
    process, resp, outcome = apply_treatments(
        world, rng, persons, process, state, person, rct, RCT_ARMS, rct.campaign
    )
    truth = {
        "assignment_outcomes": assignment_truth(persons, accounts, assignment_ids, rct, state, resp, outcome),
        "loyalty_effect": _loyalty_truth(world, persons, process, accounts, members, loyalty),
    }
    stats = {
        "effect_cells": cell_sums(rct, state, outcome, RCT_ARMS.size),
        "effect_summary": _summary_sums(process, members, loyalty),
    }
    return AppliedEffects(process=process, truth=truth, stats=stats)


def assignment_truth(
    persons: Persons,
    accounts: Accounts,
    assignment_ids: pa.Array,
    rct: AssignmentPlan,
    state: PersonState,
    resp: Responses,
    outcome: dict[str, np.ndarray],
    arms: Arms = RCT_ARMS,
) -> pa.Table:
    """One truth row per evaluated assignment (_truth/assignment_outcomes.parquet's columns)."""
    person, n0 = outcome["person"], outcome["n0"]
    tier = state.value_tier[person]
    return pa.table(
        {
            "assignment_id": assignment_ids,
            "customer_id": accounts.customer_id.take(pa.array(rct.account)),
            "person_id": person_ids(persons.gidx[person]),
            "campaign_id": take_strings(arms.campaign_ids, rct.campaign),
            "treatment_code": take_strings(arms.treatment_codes, rct.campaign),
            "group": take_strings(GROUPS, (~rct.treated).astype(np.int64)),
            "assigned_at": ts_array(rct.at),
            "window_end": ts_array(resp.window_end),
            "segment_id": pa.array(state.segment[person] + 1, type=pa.int64()),
            "value_tier": take_strings(TIER_NAMES, tier + 1),
            "is_responsive": pa.array(resp.responsive),
            "planted_purchase_probability": pa.array(resp.purchase_probability, type=pa.float64()),
            "planted_spend_change": pa.array(resp.spend_change, type=pa.float64()),
            "baseline_purchases": pa.array(n0, type=pa.int64()),
            "baseline_converted": pa.array(outcome["converted0"]),
            "baseline_revenue": pa.array(np.round(outcome["r0"] / 100.0, 2)),
            "expected_effect_conversion": pa.array(outcome["tau_conv"], type=pa.float64()),
            "expected_effect_revenue": pa.array(outcome["tau_rev"], type=pa.float64()),
            "incremental_purchases": pa.array(outcome["incremental"], type=pa.int64()),
            "outcome_purchases": pa.array(outcome["n1"], type=pa.int64()),
            "outcome_converted": pa.array(outcome["n1"] > 0),
            "outcome_revenue": pa.array(np.round(outcome["r1"] / 100.0, 2)),
        }
    )


def _loyalty_truth(
    world: World,
    persons: Persons,
    process: PurchaseProcess,
    accounts: Accounts,
    plan: MembershipPlan,
    info: dict[str, np.ndarray],
) -> pa.Table:
    person = process.buyers[plan.buyer_pos]
    return pa.table(
        {
            "member_id": member_ids(world, persons, person),
            "person_id": person_ids(persons.gidx[person]),
            "customer_id": accounts.customer_id.take(pa.array(accounts.first_of[person])),
            "joined_at": ts_array(plan.joined),
            "left_at": ts_array(plan.left, plan.left < 0),
            "effect_end_at": ts_array(info["stop"]),
            "is_changed": pa.array(info["changed"]),
            "rate_multiplier": pa.array(info["multiplier"], type=pa.float64()),
            "purchase_rate_per_day": pa.array(process.lam[plan.buyer_pos], type=pa.float64()),
            "expected_incremental_purchases": pa.array(info["expected"], type=pa.float64()),
            "expected_incremental_purchases_90d": pa.array(info["expected_first"], type=pa.float64()),
            "expected_incremental_revenue": pa.array(np.round(info["expected_revenue"], 2)),
            "incremental_purchases": pa.array(info["realized"], type=pa.int64()),
        }
    )


# --- partial sums per chunk, and the aggregated truth ----------------------------------------------

N_SEGMENTS, N_TIER_CODES = len(SEGMENTS), len(TIER_NAMES)
CELL_SUMS = (
    "n_treatment",
    "n_control",
    "n_responsive",
    "baseline_converted",
    "baseline_revenue",
    "expected_effect_conversion",
    "expected_effect_revenue",
    "incremental_purchases",
    "incremental_revenue",
    "converted_treatment",
    "converted_control",
    "revenue_treatment",
    "revenue_control",
)
SUMMARY_SUMS = (
    "purchases",
    "campaign_purchases",
    "loyalty_purchases",
    "revenue",
    "campaign_revenue",
    "loyalty_revenue",
    "members",
    "changed_members",
    "changed_uplift",
    "member_days",
    "expected_loyalty_purchases",
    "expected_loyalty_purchases_90d",
    "expected_loyalty_revenue",
)


def cell_sums(
    rct: AssignmentPlan, state: PersonState, outcome: dict[str, np.ndarray], n_arms: int
) -> pa.Table:
    """Sums per (arm, segment, tier code) over the chunk's evaluated assignments; fixed row set."""
    person = outcome["person"]
    key = (rct.campaign * N_SEGMENTS + state.segment[person]) * N_TIER_CODES + state.value_tier[person] + 1
    size = n_arms * N_SEGMENTS * N_TIER_CODES
    t, c = rct.treated, ~rct.treated
    converted1 = outcome["n1"] > 0
    weights = {
        "n_treatment": t,
        "n_control": c,
        "n_responsive": outcome["responsive"],
        "baseline_converted": outcome["converted0"],
        "baseline_revenue": outcome["r0"] / 100.0,
        "expected_effect_conversion": outcome["tau_conv"],
        "expected_effect_revenue": outcome["tau_rev"],
        "incremental_purchases": outcome["incremental"],
        "incremental_revenue": outcome["incremental_cents"] / 100.0,
        "converted_treatment": converted1 & t,
        "converted_control": converted1 & c,
        "revenue_treatment": np.where(t, outcome["r1"], 0) / 100.0,
        "revenue_control": np.where(c, outcome["r1"], 0) / 100.0,
    }
    return pa.table(
        {
            name: pa.array(np.bincount(key, weights=np.asarray(weights[name], float), minlength=size))
            for name in CELL_SUMS
        }
    )


def _summary_sums(process: PurchaseProcess, plan: MembershipPlan, info: dict[str, np.ndarray]) -> pa.Table:
    campaign, loyalty = process.source == CAMPAIGN, process.source == LOYALTY
    cents = process.value_cents
    values = {
        "purchases": len(cents),
        "campaign_purchases": campaign.sum(),
        "loyalty_purchases": loyalty.sum(),
        "revenue": cents.sum() / 100.0,
        "campaign_revenue": cents[campaign].sum() / 100.0,
        "loyalty_revenue": cents[loyalty].sum() / 100.0,
        "members": plan.size,
        "changed_members": info["changed"].sum(),
        "changed_uplift": (info["multiplier"] - 1.0).sum(),
        "member_days": info["member_days"].sum(),
        "expected_loyalty_purchases": info["expected"].sum(),
        "expected_loyalty_purchases_90d": info["expected_first"].sum(),
        "expected_loyalty_revenue": info["expected_revenue"].sum(),
    }
    return pa.table({name: pa.array([float(values[name])]) for name in SUMMARY_SUMS})


def add_sums(total: pa.Table | None, part: pa.Table) -> pa.Table:
    """Column-wise sum of two partial-sum tables (chunks are added in index order: deterministic)."""
    if total is None:
        return part
    return pa.table(
        {
            name: pa.array(total.column(name).to_numpy() + part.column(name).to_numpy())
            for name in part.column_names
        }
    )


def treatment_effects_table(cells: pa.Table | None, enabled: bool, arms: Arms = RCT_ARMS) -> pa.Table:
    """_truth/treatment_effects.parquet: per campaign arm, overall and per segment, tier and cell.

    Effects are means over the group's assigned customers (treated and control) of the expected
    individual effects; `observed_*` are the groups' realized outcomes, so observed treatment
    minus observed control is the naive estimate a perfect pipeline would compute. With a shared
    control group every arm counts the whole control group.
    """
    k_n, s_n, t_n = arms.size, N_SEGMENTS, N_TIER_CODES
    size = k_n * s_n * t_n
    sums = {
        name: (cells.column(name).to_numpy() if cells is not None else np.zeros(size)).reshape(k_n, s_n, t_n)
        for name in CELL_SUMS
    }
    q_all, m_all = arms.matrices
    rows: list[dict] = []
    levels = (("campaign", (1, 2)), ("segment", (2,)), ("value_tier", (1,)), ("cell", ()))
    for level, axes in levels:
        agg = {name: values.sum(axis=axes, keepdims=True) for name, values in sums.items()}
        shape = agg["n_treatment"].shape
        for k, s, t in np.ndindex(shape):
            n_t, n_c = agg["n_treatment"][k, s, t], agg["n_control"][k, s, t]
            n = n_t + n_c
            if n == 0:
                continue
            planted = level == "cell" and t > 0 and enabled
            rows.append(
                {
                    "level": level,
                    "campaign_id": arms.campaign_ids[k],
                    "treatment_code": arms.treatment_codes[k],
                    "segment_id": s + 1 if shape[1] > 1 else None,
                    "segment_name": SEGMENTS[s].name if shape[1] > 1 else None,
                    "value_tier": TIER_NAMES[t] if shape[2] > 1 else None,
                    "n_treatment": int(n_t),
                    "n_control": int(n_c),
                    "n_responsive": int(agg["n_responsive"][k, s, t]),
                    "planted_purchase_probability": float(q_all[k, s, t - 1]) if planted else None,
                    "planted_spend_change": float(m_all[k, s, t - 1]) if planted else None,
                    "baseline_conversion_rate": agg["baseline_converted"][k, s, t] / n,
                    "baseline_revenue_per_customer": agg["baseline_revenue"][k, s, t] / n,
                    "true_effect_purchase_probability": agg["expected_effect_conversion"][k, s, t] / n,
                    "true_effect_revenue": agg["expected_effect_revenue"][k, s, t] / n,
                    "incremental_purchases": int(agg["incremental_purchases"][k, s, t]),
                    "incremental_revenue": float(agg["incremental_revenue"][k, s, t]),
                    "observed_conversion_treatment": agg["converted_treatment"][k, s, t] / n_t
                    if n_t
                    else None,
                    "observed_conversion_control": agg["converted_control"][k, s, t] / n_c if n_c else None,
                    "observed_revenue_treatment": agg["revenue_treatment"][k, s, t] / n_t if n_t else None,
                    "observed_revenue_control": agg["revenue_control"][k, s, t] / n_c if n_c else None,
                    "note": arms.note(k, enabled),
                }
            )
    return pa.Table.from_pylist(rows, schema=TREATMENT_EFFECTS_SCHEMA)


TREATMENT_EFFECTS_SCHEMA = pa.schema(
    [
        ("level", pa.string()),
        ("campaign_id", pa.string()),
        ("treatment_code", pa.string()),
        ("segment_id", pa.int64()),
        ("segment_name", pa.string()),
        ("value_tier", pa.string()),
        ("n_treatment", pa.int64()),
        ("n_control", pa.int64()),
        ("n_responsive", pa.int64()),
        ("planted_purchase_probability", pa.float64()),
        ("planted_spend_change", pa.float64()),
        ("baseline_conversion_rate", pa.float64()),
        ("baseline_revenue_per_customer", pa.float64()),
        ("true_effect_purchase_probability", pa.float64()),
        ("true_effect_revenue", pa.float64()),
        ("incremental_purchases", pa.int64()),
        ("incremental_revenue", pa.float64()),
        ("observed_conversion_treatment", pa.float64()),
        ("observed_conversion_control", pa.float64()),
        ("observed_revenue_treatment", pa.float64()),
        ("observed_revenue_control", pa.float64()),
        ("note", pa.string()),
    ]
)


def effects_summary(summary: pa.Table | None, cells: pa.Table | None, enabled: bool) -> dict:
    """Realized effect figures for manifest.json: incremental shares, loyalty, per campaign."""
    if summary is None:
        return {"enabled": enabled}
    s = {name: float(summary.column(name)[0].as_py()) for name in SUMMARY_SUMS}
    members = max(s["members"], 1.0)
    effects = treatment_effects_table(cells, enabled).to_pylist()
    return {
        "enabled": enabled,
        "purchases": int(s["purchases"]),
        "incremental_purchases": {
            "campaign": int(s["campaign_purchases"]),
            "loyalty": int(s["loyalty_purchases"]),
            "share_of_purchases": round(
                (s["campaign_purchases"] + s["loyalty_purchases"]) / max(s["purchases"], 1), 5
            ),
            "share_of_revenue": round(
                (s["campaign_revenue"] + s["loyalty_revenue"]) / max(s["revenue"], 1), 5
            ),
        },
        "loyalty": {
            "members": int(s["members"]),
            "changed_members": int(s["changed_members"]),
            "changed_share": round(s["changed_members"] / members, 5),
            "mean_rate_multiplier_of_changed": round(
                1 + s["changed_uplift"] / max(s["changed_members"], 1), 5
            ),
            "incremental_purchases_per_member_first_90d": round(
                s["expected_loyalty_purchases_90d"] / members, 5
            ),
            "incremental_purchases_per_90_member_days": round(
                90.0 * s["expected_loyalty_purchases"] / max(s["member_days"], 1.0), 5
            ),
            "incremental_revenue_per_member": round(s["expected_loyalty_revenue"] / members, 2),
            "realized_incremental_purchases": int(s["loyalty_purchases"]),
            "expected_incremental_purchases": round(s["expected_loyalty_purchases"], 2),
        },
        "campaigns": {
            row["campaign_id"]: {
                "treatment_code": row["treatment_code"],
                "n_treatment": row["n_treatment"],
                "n_control": row["n_control"],
                "true_effect_purchase_probability": round(row["true_effect_purchase_probability"], 6),
                "true_effect_revenue": round(row["true_effect_revenue"], 4),
                "incremental_purchases": row["incremental_purchases"],
            }
            for row in effects
            if row["level"] == "campaign"
        },
    }


def planted_json(world: World) -> dict:
    """The planted effect parameters, for purchase_process.json."""
    cfg = world.config
    q, m = effect_matrices()
    loyalty = cfg.loyalty
    return {
        "enabled": cfg.effects,
        "response_window_days": RESPONSE_WINDOW_DAYS,
        "response_delay_days": RESPONSE_DELAY_DAYS,
        "value_tiers": {
            "names": list(VALUE_TIERS),
            "shares": list(VALUE_TIER_SHARES),
            "expected_annual_spend_bounds": [round(b, 4) for b in world.value_tier_bounds],
            "definition": "buyers ranked by 365 * lambda * p / nu; prospects are 'none'",
        },
        "treatments": {
            code: {
                "purchase_probability": np.round(q[i], 6).tolist(),
                "spend_change": np.round(m[i], 6).tolist(),
                "rows": "needs segments 1..5",
                "columns": list(VALUE_TIERS),
            }
            for i, code in enumerate(TREATMENT_CODES)
        },
        "rct_campaigns": [
            {
                "campaign_id": c.campaign_id,
                "treatment_code": c.treatment_code,
                "channel": c.channel,
                "position": c.position,
            }
            for c in RCT_CAMPAIGNS
        ],
        "loyalty": {
            "loyalty_share": cfg.rates.loyalty_share,
            "early_join_share": loyalty.early_join_share,
            "early_join_days": loyalty.early_join_days,
            "late_join_days": list(loyalty.late_join_days),
            "changed_share": loyalty.changed_share,
            "rate_uplift_range": [loyalty.uplift_low, loyalty.uplift_high],
        },
        "notes": (
            "treatment effects are intent-to-treat, only for customers alive at assignment; conversion ="
            " at least one non-cancelled order in [assigned_at, assigned_at + window); revenue = net order"
            " value of those orders. Loyalty: changed members buy at lambda * (1 + u) from joining until"
            " they leave, drop out or the window ends."
        ),
    }
