"""CRM tables: consent history, loyalty memberships, service cases and NPS surveys.

Consents are produced in two steps: signup and preference-centre changes here, unsubscribes in
marketing (they depend on which messages were sent); `ConsentLog` carries the events between them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pyarrow as pa

from orchestration.devtools.sample_data.accounts import Accounts
from orchestration.devtools.sample_data.arrays import (
    categorical,
    categorical_rows,
    days_to_seconds,
    dict_column,
    ts_array,
)
from orchestration.devtools.sample_data.config import (
    CASE_CHANNELS,
    CASE_REASONS,
    CONSENT_CHANNELS,
    CONSENT_GRANT_PROBABILITY,
)
from orchestration.devtools.sample_data.ids import digits_needed, format_ids, scramble
from orchestration.devtools.sample_data.orders import CANCELLED, Orders, chunk_ids
from orchestration.devtools.sample_data.persons import REGISTERED_BUYER, Persons
from orchestration.devtools.sample_data.purchases import PurchaseProcess
from orchestration.devtools.sample_data.world import World

CONSENT_SOURCES = ("signup", "preference_centre", "unsubscribe_link", "call_centre")
SIGNUP, PREFERENCE_CENTRE, UNSUBSCRIBE_LINK, CALL_CENTRE = range(4)
CHANGE_CHANNEL_WEIGHTS = (0.5, 0.15, 0.15, 0.1, 0.1)
TIERS = ("bronze", "silver", "gold")
TIER_THRESHOLDS_CENTS = (25_000, 80_000)
CASE_REASON_WEIGHTS = np.array([[0.35, 0.10, 0.25, 0.15, 0.15], [0.20, 0.50, 0.15, 0.10, 0.05]])
CASE_CHANNEL_WEIGHTS = (0.35, 0.30, 0.25, 0.10)
TOUCHPOINTS = ("post_purchase", "service", "periodic")
PERIODIC_SURVEY_EVERY_DAYS = 182.0


@dataclass(frozen=True)
class ConsentLog:
    """Consent events: account index, channel index, epoch seconds, granted, source index."""

    account: np.ndarray
    channel: np.ndarray
    seconds: np.ndarray
    granted: np.ndarray
    source: np.ndarray

    @staticmethod
    def concat(logs: list[ConsentLog]) -> ConsentLog:
        return ConsentLog(
            *(np.concatenate([getattr(x, f) for x in logs]) for f in ConsentLog.__dataclass_fields__)
        )

    def with_unique_instants(self) -> ConsentLog:
        """Move a preference change by a second where it would share (account, channel, instant)
        with another event, so the raw key is unique; unsubscribes keep their exact instant."""
        seconds = self.seconds.copy()
        movable = (self.source == PREFERENCE_CENTRE) | (self.source == CALL_CENTRE)
        while True:
            order = np.lexsort((movable, seconds, self.channel, self.account))
            acc, ch, t = self.account[order], self.channel[order], seconds[order]
            clash = np.zeros(len(order), dtype=bool)
            clash[1:] = (acc[1:] == acc[:-1]) & (ch[1:] == ch[:-1]) & (t[1:] == t[:-1])
            clash &= movable[order]
            if not clash.any():
                return replace(self, seconds=seconds)
            seconds[order[clash]] += 1

    def table(self, accounts: Accounts) -> pa.Table:
        order = np.lexsort((self.seconds, self.account))
        return pa.table(
            {
                "customer_id": accounts.customer_id.take(pa.array(self.account[order])),
                "channel": dict_column(CONSENT_CHANNELS, self.channel[order]),
                "is_granted": pa.array(self.granted[order], type=pa.bool_()),
                "changed_at": ts_array(self.seconds[order]),
                "source": dict_column(CONSENT_SOURCES, self.source[order]),
            }
        )


def consent_history(
    world: World, rng: np.random.Generator, accounts: Accounts
) -> tuple[np.ndarray, ConsentLog]:
    """Signup grants for every account and channel, then preference changes for ~20% of accounts.

    Returns the signup state matrix (accounts x channels) and the log of all events.
    """
    n, c = accounts.size, len(CONSENT_CHANNELS)
    signup = rng.random((n, c)) < np.array(CONSENT_GRANT_PROBABILITY)
    sign_log = ConsentLog(
        account=np.repeat(np.arange(n), c),
        channel=np.tile(np.arange(c), n),
        seconds=np.repeat(accounts.created, c),
        granted=signup.ravel(),
        source=np.full(n * c, SIGNUP),
    )
    changers = np.flatnonzero(rng.random(n) < world.config.rates.consent_change_share)
    two = rng.random(changers.size) < 0.3
    end = world.end_epoch
    span = end - 1 - accounts.created[changers]
    t_a = accounts.created[changers] + 1 + np.floor(rng.random(changers.size) * span).astype(np.int64)
    t_b = accounts.created[changers] + 1 + np.floor(rng.random(changers.size) * span).astype(np.int64)
    t1, t2 = np.minimum(t_a, t_b), np.maximum(t_a, t_b) + 1
    ch1 = categorical(rng, CHANGE_CHANNEL_WEIGHTS, changers.size)
    ch2 = categorical(rng, CHANGE_CHANNEL_WEIGHTS, changers.size)
    v1 = ~signup[changers, ch1]
    v2 = ~np.where(ch2 == ch1, v1, signup[changers, ch2])
    keep2 = two & (t2 < end)
    source = np.where(rng.random(2 * changers.size) < 0.75, PREFERENCE_CENTRE, CALL_CENTRE)
    change_log = ConsentLog(
        account=np.concatenate([changers, changers[keep2]]),
        channel=np.concatenate([ch1, ch2[keep2]]),
        seconds=np.concatenate([t1, t2[keep2]]),
        granted=np.concatenate([v1, v2[keep2]]),
        source=source[: changers.size + int(keep2.sum())],
    )
    return signup, ConsentLog.concat([sign_log, change_log])


@dataclass(frozen=True)
class MembershipPlan:
    """Loyalty memberships, decided before any order is built because membership changes behaviour.

    Aligned arrays, one entry per member, in buyer order.
    """

    buyer_pos: np.ndarray  # index into the purchase process's buyers
    joined: np.ndarray  # epoch seconds
    left: np.ndarray  # epoch seconds, -1 while still a member at the end of the window
    changed: np.ndarray  # membership raises this member's purchase rate
    uplift: np.ndarray  # u: the changed member's rate is lambda * (1 + u); 0 for the others

    @property
    def size(self) -> int:
        return len(self.buyer_pos)


def plan_memberships(
    world: World, rng: np.random.Generator, persons: Persons, process: PurchaseProcess
) -> MembershipPlan:
    """Who joins, when, who leaves, and whose behaviour membership changes (see LoyaltyEffect).

    Frequent buyers are more likely to join, and only buyers still alive at the join date join.
    """
    from scipy.special import gammainc  # the planted Gamma CDF of purchase rates

    rates, loyalty, bg = world.config.rates, world.config.loyalty, world.config.bg_nbd
    start, end = world.start_epoch, world.end_epoch
    buyers = process.buyers
    nb = buyers.size
    intends = rng.random(nb) < rates.loyalty_share * (0.5 + gammainc(bg.r, process.lam * bg.alpha))
    early = rng.random(nb) < loyalty.early_join_share
    delay = np.where(
        early, rng.exponential(loyalty.early_join_days, nb), rng.uniform(*loyalty.late_join_days, nb)
    )
    acquired = days_to_seconds(process.acquired, start)
    # At least an hour after the first purchase, so joining never ties with the acquisition.
    joined = np.maximum(days_to_seconds(process.acquired + delay, start), acquired + 3_600)
    dropped = np.where(
        np.isnan(process.dropout),
        np.iinfo(np.int64).max,
        days_to_seconds(np.nan_to_num(process.dropout), start),
    )
    member = (persons.kind[buyers] == REGISTERED_BUYER) & intends & (joined < end) & (joined < dropped)
    pos = np.flatnonzero(member)
    joined = joined[pos]
    left = rng.random(pos.size) < rates.loyalty_left_share
    left_at = joined + 1 + np.floor(rng.random(pos.size) * (end - 1 - joined)).astype(np.int64)
    left &= left_at < end
    changed = rng.random(pos.size) < loyalty.changed_share
    uplift = np.where(changed, rng.uniform(loyalty.uplift_low, loyalty.uplift_high, pos.size), 0.0)
    return MembershipPlan(
        buyer_pos=pos, joined=joined, left=np.where(left, left_at, -1), changed=changed, uplift=uplift
    )


def member_ids(world: World, persons: Persons, person: np.ndarray) -> pa.Array:
    width = digits_needed(world.config.total_persons, 7)
    return format_ids("M", scramble(persons.gidx[person], width, world.config.seed + 5), width)


def loyalty_members(
    world: World,
    rng: np.random.Generator,
    persons: Persons,
    process: PurchaseProcess,
    accounts: Accounts,
    plan: MembershipPlan,
) -> tuple[pa.Table, np.ndarray]:
    """The planned memberships as crm.loyalty_members; tier and points follow the actual spend.

    Returns the table and the local person index per row.
    """
    buyers = process.buyers
    pos = plan.buyer_pos
    person = buyers[pos]
    purchase_seconds = days_to_seconds(process.day, world.start_epoch)
    spend = np.bincount(process.buyer_pos, weights=process.value_cents, minlength=buyers.size)[pos]
    joined = np.zeros(buyers.size, np.int64)
    joined[pos] = plan.joined
    after_join = np.isin(process.buyer_pos, pos) & (purchase_seconds >= joined[process.buyer_pos])
    spend_after = np.bincount(
        process.buyer_pos[after_join], weights=process.value_cents[after_join], minlength=buyers.size
    )[pos]
    tier = np.searchsorted(np.array(TIER_THRESHOLDS_CENTS), spend, side="right")
    left = plan.left >= 0
    points = np.where(left, 0, np.floor(spend_after / 100.0 * rng.uniform(0.2, 1.0, pos.size))).astype(
        np.int64
    )
    table = pa.table(
        {
            "member_id": member_ids(world, persons, person),
            "customer_id": accounts.customer_id.take(pa.array(accounts.first_of[person])),
            "joined_at": ts_array(plan.joined),
            "tier": dict_column(TIERS, tier),
            "points_balance": pa.array(points, type=pa.int64()),
            "left_at": ts_array(plan.left, ~left),
        }
    )
    return table, person


@dataclass(frozen=True)
class Cases:
    table: pa.Table
    person: np.ndarray
    account: np.ndarray
    resolved: np.ndarray  # epoch seconds, -1 while open
    satisfaction: np.ndarray  # 1..5, 0 when not given
    opened: np.ndarray


def service_cases(
    world: World, rng: np.random.Generator, chunk: int, persons: Persons, orders: Orders
) -> Cases:
    """Contacts following account orders; returns make a contact (about returns) more likely."""
    rates, end = world.config.rates, world.end_epoch
    has_return = np.bincount(orders.return_order, minlength=orders.size) > 0
    rate = world.segments.service_rate[persons.segment[orders.person]] * np.where(has_return, 2.5, 1.0)
    opened = orders.seconds + np.floor(rng.uniform(0.2, 15.0, orders.size) * 86_400).astype(np.int64)
    chosen = (
        (orders.account >= 0)
        & (orders.status != CANCELLED)
        & (rng.random(orders.size) < rate)
        & (opened < end)
    )
    idx = np.flatnonzero(chosen)
    opened = opened[idx]
    duration = rng.exponential(1.2, idx.size) + 0.02
    resolved = opened + np.floor(duration * 86_400).astype(np.int64)
    is_open = (rng.random(idx.size) < rates.open_case_share) | (resolved >= end)
    rated = ~is_open & (rng.random(idx.size) < 0.7)
    sat = np.clip(np.round(rng.normal(4.6 - 0.5 * duration, 1.0)), 1, 5).astype(np.int64)
    sat = np.where(rated, sat, 0)
    table = pa.table(
        {
            "case_id": chunk_ids("CS", chunk, np.arange(idx.size) + 1),
            "customer_id": _account_ids(orders, idx),
            "channel": dict_column(CASE_CHANNELS, categorical(rng, CASE_CHANNEL_WEIGHTS, idx.size)),
            "reason": dict_column(
                CASE_REASONS, categorical_rows(rng, CASE_REASON_WEIGHTS, has_return[idx].astype(int))
            ),
            "opened_at": ts_array(opened),
            "resolved_at": ts_array(resolved, is_open),
            "satisfaction": pa.array(sat, type=pa.int64(), mask=sat == 0),
        }
    )
    return Cases(
        table=table,
        person=orders.person[idx],
        account=orders.account[idx],
        resolved=np.where(is_open, -1, resolved),
        satisfaction=sat,
        opened=opened,
    )


def _account_ids(orders: Orders, idx: np.ndarray) -> pa.Array:
    return orders.orders_table.column("customer_id").take(pa.array(idx)).combine_chunks()


def surveys(
    world: World,
    rng: np.random.Generator,
    chunk: int,
    persons: Persons,
    accounts: Accounts,
    orders: Orders,
    cases: Cases,
) -> tuple[pa.Table, np.ndarray]:
    """NPS answers after orders, after resolved cases and in periodic waves.

    Scores follow the segment's tendency plus a personal offset; a badly rated service case
    before the answer costs three points, and service surveys also move with the case rating.
    """
    rates, end, start = world.config.rates, world.end_epoch, world.start_epoch
    post = np.flatnonzero((orders.account >= 0) & (orders.status != CANCELLED))
    post = post[rng.random(post.size) < rates.post_purchase_survey_share]
    post_t = orders.seconds[post] + np.floor(rng.uniform(1.0, 7.0, post.size) * 86_400).astype(np.int64)

    resolved = np.flatnonzero(cases.resolved >= 0)
    serv = resolved[rng.random(resolved.size) < rates.service_survey_share]
    serv_t = cases.resolved[serv] + np.floor(rng.uniform(0.05, 3.0, serv.size) * 86_400).astype(np.int64)

    waves = start + np.floor(np.arange(90.0, world.horizon, PERIODIC_SURVEY_EVERY_DAYS) * 86_400).astype(
        np.int64
    )
    wave_acc = [
        np.flatnonzero((accounts.created < w) & (rng.random(accounts.size) < rates.periodic_survey_share))
        for w in waves
    ]
    per_acc = np.concatenate([np.zeros(0, np.int64), *wave_acc])
    per_t = np.concatenate(
        [np.zeros(0, np.int64), *(np.full(a.size, w) for a, w in zip(wave_acc, waves, strict=True))]
    )
    per_t = per_t + np.floor(rng.uniform(0.0, 10.0, per_t.size) * 86_400).astype(np.int64)

    account = np.concatenate([orders.account[post], cases.account[serv], per_acc])
    seconds = np.concatenate([post_t, serv_t, per_t])
    touch = np.concatenate(
        [np.zeros(post.size, np.int64), np.ones(serv.size, np.int64), np.full(per_acc.size, 2)]
    )
    case_sat = np.concatenate(
        [np.zeros(post.size, np.int64), cases.satisfaction[serv], np.zeros(per_acc.size, np.int64)]
    )
    keep = seconds < end
    account, seconds, touch, case_sat = account[keep], seconds[keep], touch[keep], case_sat[keep]
    person = accounts.person[account]

    bad_at = np.full(persons.size, np.iinfo(np.int64).max)
    bad = (cases.satisfaction > 0) & (cases.satisfaction <= 2)
    np.minimum.at(bad_at, cases.person[bad], cases.opened[bad])
    mean = world.segments.nps_mean[persons.segment[person]] + persons.nps_offset[person]
    mean -= 3.0 * (bad_at[person] < seconds)
    mean += np.where(case_sat > 0, (case_sat - 3) * 1.0, 0.0)
    score = np.clip(np.round(rng.normal(mean, 1.5)), 0, 10).astype(np.int64)
    order = np.argsort(seconds, kind="stable")
    table = pa.table(
        {
            "response_id": chunk_ids("NPS", chunk, np.arange(order.size) + 1),
            "customer_id": accounts.customer_id.take(pa.array(account[order])),
            "nps_score": pa.array(score[order], type=pa.int64()),
            "touchpoint": dict_column(TOUCHPOINTS, touch[order]),
            "answered_at": ts_array(seconds[order]),
        }
    )
    return table, person[order]
