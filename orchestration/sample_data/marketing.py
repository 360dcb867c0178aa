"""Marketing tables: communications (with unsubscribes fed back into consents) and RCT assignments.

Campaigns are processed in send order (a loop over ~80 campaigns, vectorised over accounts) so
that targeting always sees the consent state at send time, including withdrawals caused by
unsubscribes from earlier messages.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from orchestration.sample_data.accounts import Accounts
from orchestration.sample_data.arrays import dict_column, ts_array
from orchestration.sample_data.campaigns import MESSAGE_CHANNELS, WELCOME_WINDOW_DAYS
from orchestration.sample_data.config import (
    CLICK_RATE,
    CONSENT_CHANNELS,
    DELIVERY_RATE,
    OPEN_RATE,
    RCT_CAMPAIGNS,
    RCT_INCLUSION,
    RCT_TREATMENT_SHARE,
    TREATMENT_CODES,
)
from orchestration.sample_data.crm import SIGNUP, UNSUBSCRIBE_LINK, ConsentLog
from orchestration.sample_data.orders import chunk_ids
from orchestration.sample_data.persons import Persons
from orchestration.sample_data.world import World

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


def communications(
    world: World,
    rng: np.random.Generator,
    chunk: int,
    persons: Persons,
    accounts: Accounts,
    signup: np.ndarray,
    preferences: ConsentLog,
) -> tuple[pa.Table, ConsentLog]:
    """Messages per campaign to consenting accounts, and the consent withdrawals from unsubscribes."""
    camp, end = world.campaigns, world.end_epoch
    state = signup[:, : len(MESSAGE_CHANNELS)].copy()
    engagement = world.segments.engagement[persons.segment[accounts.person]]
    pending: list[ConsentLog] = []
    previous = np.iinfo(np.int64).min
    parts: dict[str, list[np.ndarray]] = {
        k: [] for k in ("acc", "camp", "sent", "deliv", "open", "click", "unsub")
    }

    for k in range(camp.size):
        send = world.start_epoch + int(camp.day[k] * 86_400)
        # Signup grants are already in `state`; later changes and unsubscribes apply in time order.
        log = ConsentLog.concat([preferences, *pending])
        _apply(state, log, (log.seconds >= previous) & (log.seconds < send) & (log.source != SIGNUP))
        previous = send

        ch = int(camp.channel[k])
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
            "campaign_id": dict_column(list(camp.ids), cols["camp"]),
            "treatment_code": dict_column(TREATMENT_CODES, camp.treatment[cols["camp"]]),
            "channel": dict_column(MESSAGE_CHANNELS, camp.channel[cols["camp"]]),
            "sent_at": ts_array(cols["sent"]),
            "delivered_at": ts_array(cols["deliv"], cols["deliv"] < 0),
            "opened_at": ts_array(cols["open"], cols["open"] < 0),
            "clicked_at": ts_array(cols["click"], cols["click"] < 0),
            "unsubscribed_at": ts_array(cols["unsub"], cols["unsub"] < 0),
        }
    )
    return table, ConsentLog.concat([preferences, *pending])


def assignments(world: World, rng: np.random.Generator, chunk: int, accounts: Accounts) -> pa.Table:
    """Randomised campaigns run outside the warehouse: ~40% of existing accounts, 80/20 split."""
    acc_parts, rct_parts, t_parts = [], [], []
    for k, (_, _, position) in enumerate(RCT_CAMPAIGNS):
        at = world.start_epoch + int(np.floor(position * world.horizon)) * 86_400 + 6 * 3_600
        acc = np.flatnonzero((accounts.created < at) & (rng.random(accounts.size) < RCT_INCLUSION))
        acc_parts.append(acc)
        rct_parts.append(np.full(acc.size, k))
        t_parts.append(np.full(acc.size, at, dtype=np.int64))
    acc, rct, at = (np.concatenate(p) for p in (acc_parts, rct_parts, t_parts))
    group = (rng.random(acc.size) >= RCT_TREATMENT_SHARE).astype(np.int64)
    return pa.table(
        {
            "assignment_id": chunk_ids("ASG", chunk, np.arange(acc.size) + 1),
            "customer_id": accounts.customer_id.take(pa.array(acc)),
            "campaign_id": dict_column([c[0] for c in RCT_CAMPAIGNS], rct),
            "treatment_code": dict_column([c[1] for c in RCT_CAMPAIGNS], rct),
            "group": dict_column(GROUPS, group),
            "assigned_at": ts_array(at),
        }
    )


def treatment_effects() -> pa.Table:
    """The planted causal effects of the randomised campaigns: none yet."""
    n = len(RCT_CAMPAIGNS)
    return pa.table(
        {
            "campaign_id": [c[0] for c in RCT_CAMPAIGNS],
            "treatment_code": [c[1] for c in RCT_CAMPAIGNS],
            "true_effect_purchase_probability": pa.array([0.0] * n, type=pa.float64()),
            "true_effect_revenue": pa.array([0.0] * n, type=pa.float64()),
            "note": ["no effect planted"] * n,
        }
    )
