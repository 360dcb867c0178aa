"""Marketing tables: communications (with unsubscribes fed back into consents) and RCT assignments.

Campaigns are processed in send order (a loop over ~80 campaigns, vectorised over accounts) so
that targeting always sees the consent state at send time, including withdrawals caused by
unsubscribes from earlier messages. The randomized campaigns (config RCT_CAMPAIGNS) are planned
before the orders, because their treated customers respond (effects.py); their messages join the
same send loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from orchestration.devtools.sample_data.accounts import Accounts
from orchestration.devtools.sample_data.arrays import dict_column, ts_array
from orchestration.devtools.sample_data.campaigns import MESSAGE_CHANNELS, WELCOME_WINDOW_DAYS
from orchestration.devtools.sample_data.config import (
    CLICK_RATE,
    CONSENT_CHANNELS,
    DELIVERY_RATE,
    OPEN_RATE,
    RCT_ASSIGNMENT_HOUR_UTC,
    RCT_CAMPAIGNS,
    RCT_INCLUSION,
    RCT_TREATMENT_SHARE,
    TREATMENT_CODES,
)
from orchestration.devtools.sample_data.crm import SIGNUP, UNSUBSCRIBE_LINK, ConsentLog
from orchestration.devtools.sample_data.orders import chunk_ids
from orchestration.devtools.sample_data.persons import Persons
from orchestration.devtools.sample_data.world import World

SEND_ID_STRIDE = 10**8
GROUPS = ("treatment", "control")
# Message channels are the first three consent channels, in the same order.
assert CONSENT_CHANNELS[: len(MESSAGE_CHANNELS)] == MESSAGE_CHANNELS


def _apply(state: np.ndarray, log: ConsentLog, mask: np.ndarray) -> None:
    """Apply the masked consent events in time order; the latest event per (account, channel) wins."""
    idx = np.flatnonzero(mask & (log.channel < len(MESSAGE_CHANNELS)))
    if idx.size == 0:
        return
    idx = idx[np.argsort(log.seconds[idx], kind="stable")]
    key = log.account[idx] * len(MESSAGE_CHANNELS) + log.channel[idx]
    _, last_rev = np.unique(key[::-1], return_index=True)
    last = idx[::-1][last_rev]
    state[log.account[last], log.channel[last]] = log.granted[last]


@dataclass(frozen=True)
class AssignmentPlan:
    """Who is in which randomized campaign and group; drawn before any order, as treated customers respond."""

    account: np.ndarray
    campaign: np.ndarray  # index into RCT_CAMPAIGNS
    at: np.ndarray  # assigned_at, epoch seconds
    treated: np.ndarray

    @property
    def size(self) -> int:
        return len(self.account)


def rct_assigned_at(world: World, k: int) -> int:
    """The assignment instant of RCT campaign k: 06:00 UTC on the day at its position in the window."""
    day = int(np.floor(RCT_CAMPAIGNS[k].position * world.horizon))
    return world.start_epoch + day * 86_400 + RCT_ASSIGNMENT_HOUR_UTC * 3_600


def plan_assignments(world: World, rng: np.random.Generator, accounts: Accounts) -> AssignmentPlan:
    """Each RCT takes RCT_INCLUSION of the first accounts existing at its date and treats RCT_TREATMENT_SHARE.

    One assignment per person and campaign (second accounts are left out), so a person is never in
    both groups of one experiment.
    """
    acc_parts, rct_parts, t_parts = [], [], []
    for k in range(len(RCT_CAMPAIGNS)):
        at = rct_assigned_at(world, k)
        eligible = ~accounts.is_second & (accounts.created < at)
        acc = np.flatnonzero(eligible & (rng.random(accounts.size) < RCT_INCLUSION))
        acc_parts.append(acc)
        rct_parts.append(np.full(acc.size, k))
        t_parts.append(np.full(acc.size, at, dtype=np.int64))
    acc, rct, at = (np.concatenate(p) for p in (acc_parts, rct_parts, t_parts))
    return AssignmentPlan(
        account=acc, campaign=rct, at=at, treated=rng.random(acc.size) < RCT_TREATMENT_SHARE
    )


def communications(
    world: World,
    rng: np.random.Generator,
    chunk: int,
    persons: Persons,
    accounts: Accounts,
    signup: np.ndarray,
    preferences: ConsentLog,
    plan: AssignmentPlan,
) -> tuple[pa.Table, ConsentLog]:
    """Messages per campaign to consenting accounts, and the consent withdrawals from unsubscribes.

    The RCT campaigns send their message to the treated customers who consent to the campaign's
    channel at the assignment (campaign_id RCT-xx); the control group gets nothing. The planted
    effect does not depend on the message (see effects.py).
    """
    camp, end = world.campaigns, world.end_epoch
    n_rct = len(RCT_CAMPAIGNS)
    ids = [*camp.ids, *(c.campaign_id for c in RCT_CAMPAIGNS)]
    channels = np.concatenate([camp.channel, [MESSAGE_CHANNELS.index(c.channel) for c in RCT_CAMPAIGNS]])
    treatments = np.concatenate(
        [camp.treatment, [TREATMENT_CODES.index(c.treatment_code) for c in RCT_CAMPAIGNS]]
    ).astype(np.int64)
    sends = np.concatenate(
        [
            world.start_epoch + (camp.day * 86_400).astype(np.int64),
            [rct_assigned_at(world, k) for k in range(n_rct)],
        ]
    ).astype(np.int64)
    state = signup[:, : len(MESSAGE_CHANNELS)].copy()
    engagement = world.segments.engagement[persons.segment[accounts.person]]
    pending: list[ConsentLog] = []
    previous = np.iinfo(np.int64).min
    parts: dict[str, list[np.ndarray]] = {
        k: [] for k in ("acc", "camp", "sent", "deliv", "open", "click", "unsub")
    }

    for k in np.argsort(sends, kind="stable"):
        send = int(sends[k])
        # Signup grants are already in `state`; later changes and unsubscribes apply in time order.
        log = ConsentLog.concat([preferences, *pending])
        _apply(state, log, (log.seconds >= previous) & (log.seconds < send) & (log.source != SIGNUP))
        previous = send

        ch = int(channels[k])
        if k >= camp.size:
            treated = plan.account[(plan.campaign == k - camp.size) & plan.treated]
            acc = treated[state[treated, ch]]
        else:
            eligible = (accounts.created < send) & state[:, ch]
            if TREATMENT_CODES[camp.treatment[k]] == "WELCOME":
                eligible &= accounts.created >= send - int(WELCOME_WINDOW_DAYS * 86_400)
            acc = np.flatnonzero(eligible & (rng.random(accounts.size) < camp.target_share[k]))
        name = MESSAGE_CHANNELS[ch]
        eng = engagement[acc]
        sent = send + rng.integers(0, 7_200, acc.size)
        delivered = rng.random(acc.size) < DELIVERY_RATE[name]
        deliv_t = np.where(delivered, sent + rng.integers(5, 600, acc.size), -1)
        opened = delivered & (rng.random(acc.size) < OPEN_RATE[name] * eng)
        open_t = np.where(
            opened, deliv_t + np.floor(rng.exponential(6 * 3_600, acc.size)).astype(np.int64), -1
        )
        if name == "sms":
            clicked = delivered & (rng.random(acc.size) < CLICK_RATE[name] * eng)
            click_base = deliv_t
        else:
            clicked = opened & (rng.random(acc.size) < CLICK_RATE[name] * eng)
            click_base = open_t
        click_t = np.where(
            clicked, click_base + np.floor(rng.exponential(600, acc.size)).astype(np.int64), -1
        )
        unsub = delivered & (rng.random(acc.size) < world.config.rates.unsubscribe_rate)
        unsub_t = np.where(unsub, np.maximum(open_t, deliv_t) + rng.integers(60, 2 * 86_400, acc.size), -1)
        # Anything that would happen after the window has not happened yet.
        open_t, click_t, unsub_t = (np.where(t < end, t, -1) for t in (open_t, click_t, unsub_t))
        click_t = np.where(open_t >= 0, click_t, -1) if name != "sms" else click_t
        got = unsub_t >= 0
        pending.append(
            ConsentLog(
                account=acc[got],
                channel=np.full(int(got.sum()), ch),
                seconds=unsub_t[got],
                granted=np.zeros(int(got.sum()), bool),
                source=np.full(int(got.sum()), UNSUBSCRIBE_LINK),
            )
        )
        for key, val in (("acc", acc), ("camp", np.full(acc.size, k)), ("sent", sent), ("deliv", deliv_t),
                         ("open", open_t), ("click", click_t), ("unsub", unsub_t)):  # fmt: skip
            parts[key].append(val)

    cols = {k: np.concatenate([np.zeros(0, np.int64), *v]).astype(np.int64) for k, v in parts.items()}
    n = cols["acc"].size
    table = pa.table(
        {
            "send_id": chunk_ids("SND", chunk, np.arange(n) + 1, digits=11, stride=SEND_ID_STRIDE),
            "customer_id": accounts.customer_id.take(pa.array(cols["acc"])),
            "campaign_id": dict_column(ids, cols["camp"]),
            "treatment_code": dict_column(TREATMENT_CODES, treatments[cols["camp"]]),
            "channel": dict_column(MESSAGE_CHANNELS, channels[cols["camp"]]),
            "sent_at": ts_array(cols["sent"]),
            "delivered_at": ts_array(cols["deliv"], cols["deliv"] < 0),
            "opened_at": ts_array(cols["open"], cols["open"] < 0),
            "clicked_at": ts_array(cols["click"], cols["click"] < 0),
            "unsubscribed_at": ts_array(cols["unsub"], cols["unsub"] < 0),
        }
    )
    return table, ConsentLog.concat([preferences, *pending])


def assignments(chunk: int, accounts: Accounts, plan: AssignmentPlan) -> pa.Table:
    """marketing.assignments from the plan, in plan order (campaign, then account)."""
    return pa.table(
        {
            "assignment_id": chunk_ids("ASG", chunk, np.arange(plan.size) + 1),
            "customer_id": accounts.customer_id.take(pa.array(plan.account)),
            "campaign_id": dict_column([c.campaign_id for c in RCT_CAMPAIGNS], plan.campaign),
            "treatment_code": dict_column([c.treatment_code for c in RCT_CAMPAIGNS], plan.campaign),
            "group": dict_column(GROUPS, (~plan.treated).astype(np.int64)),
            "assigned_at": ts_array(plan.at),
        }
    )
