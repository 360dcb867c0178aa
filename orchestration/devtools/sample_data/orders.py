"""Orders, order lines and returns of one chunk (shop.orders, shop.order_lines, shop.returns).

Every purchase occasion of the process becomes one completed order; about 2% extra cancelled
orders are placed shortly before a repeat purchase (a cancel-and-reorder) and are not purchase
occasions. Orders are attributed to an account (split over both accounts once a second account
exists) or placed as guest checkouts with the person's email.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.devtools.sample_data.accounts import Accounts, Spellings
from orchestration.devtools.sample_data.arrays import (
    categorical_rows,
    days_to_seconds,
    dict_column,
    money,
    ts_array,
)
from orchestration.devtools.sample_data.baskets import Baskets, build_baskets
from orchestration.devtools.sample_data.config import (
    CATEGORIES,
    CHANNELS,
    COUNTRIES,
    RETURN_REASONS,
    STORES_PER_COUNTRY,
)
from orchestration.devtools.sample_data.ids import format_ids
from orchestration.devtools.sample_data.persons import GUEST_BUYER, Persons
from orchestration.devtools.sample_data.purchases import PurchaseProcess
from orchestration.devtools.sample_data.world import World

CHUNK_ID_STRIDE = 10**7  # ids of chunk k are k * stride + local number: unique without coordination
STATUSES = ("completed", "cancelled", "returned")
COMPLETED, CANCELLED, RETURNED = 0, 1, 2
SHOP_CURRENCY = "EUR"  # the one currency of the world's prices; the multi_currency shape converts
STORE_IDS = tuple(f"S{k:02d}" for k in range(1, len(COUNTRIES) * STORES_PER_COUNTRY + 1))
# Fitting problems dominate returns of clothing and sports gear, damage dominates elsewhere.
RETURN_REASON_WEIGHTS = np.array([[0.45, 0.10, 0.20, 0.17, 0.08], [0.05, 0.25, 0.30, 0.28, 0.12]])
SIZE_CATEGORIES = (CATEGORIES.index("fashion"), CATEGORIES.index("sports"))


def chunk_ids(
    prefix: str, chunk: int, local: np.ndarray, digits: int = 10, stride: int = CHUNK_ID_STRIDE
) -> pa.Array:
    if len(local) and int(np.max(local)) >= stride:
        raise ValueError(f"too many {prefix} ids in one chunk")
    return format_ids(prefix, chunk * stride + np.asarray(local, dtype=np.int64), digits)


@dataclass(frozen=True)
class Orders:
    """Orders sorted by time; lines and returns refer to orders by position."""

    person: np.ndarray
    day: np.ndarray
    seconds: np.ndarray
    account: np.ndarray  # account index, -1 for guest checkouts
    channel: np.ndarray  # index into CHANNELS
    status: np.ndarray  # index into STATUSES
    value_cents: np.ndarray
    purchase: np.ndarray  # index into the process's purchases, -1 for cancelled orders
    order_id: pa.Array
    lines: Baskets
    return_order: np.ndarray
    return_line: np.ndarray
    return_seconds: np.ndarray
    return_quantity: np.ndarray
    return_refund_cents: np.ndarray
    orders_table: pa.Table
    lines_table: pa.Table
    returns_table: pa.Table

    @property
    def is_purchase(self) -> np.ndarray:
        return self.status != CANCELLED

    @property
    def size(self) -> int:
        return len(self.person)


def _cancelled(
    world: World, rng: np.random.Generator, process: PurchaseProcess
) -> tuple[np.ndarray, np.ndarray]:
    """Cancelled orders between a repeat purchase and the purchase before it."""
    repeats = np.flatnonzero(process.seq > 0)
    if repeats.size == 0:
        return np.zeros(0, np.int64), np.zeros(0)
    rate = min(1.0, world.config.rates.cancelled_share * len(process.day) / repeats.size)
    picked = repeats[rng.random(repeats.size) < rate]
    prev, cur = process.day[picked - 1], process.day[picked]
    return picked, prev + (cur - prev) * rng.uniform(0.05, 0.95, picked.size)


def build_orders(
    world: World,
    rng: np.random.Generator,
    chunk: int,
    persons: Persons,
    process: PurchaseProcess,
    accounts: Accounts,
    spell: Spellings,
) -> Orders:
    rates, seg = world.config.rates, world.segments
    picked, cancel_day = _cancelled(world, rng, process)
    buyer_pos = np.concatenate([process.buyer_pos, process.buyer_pos[picked]])
    day = np.concatenate([process.day, cancel_day])
    status = np.concatenate([np.zeros(len(process.day), np.int64), np.full(len(picked), CANCELLED)])
    cancel_value = np.maximum(
        50, np.round(rng.gamma(world.config.gamma_gamma.p, 1.0 / process.nu[process.buyer_pos[picked]]) * 100)
    )
    value = np.concatenate([process.value_cents, cancel_value.astype(np.int64)])
    purchase = np.concatenate([np.arange(len(process.day)), np.full(len(picked), -1)])
    order = np.argsort(day, kind="stable")
    buyer_pos, day, status, value = buyer_pos[order], day[order], status[order], value[order]
    purchase = purchase[order]
    person = process.buyers[buyer_pos]
    seconds = days_to_seconds(day, world.start_epoch)
    n = len(day)

    segment = persons.segment[person]
    channel = categorical_rows(rng, seg.channel, segment)
    second = accounts.second_of[person]
    use_second = (second >= 0) & (rng.random(n) < 0.5)
    use_second &= seconds >= accounts.created[np.maximum(second, 0)]
    account = np.where(use_second, second, accounts.first_of[person])
    guest = (persons.kind[person] == GUEST_BUYER) | (rng.random(n) < rates.guest_checkout_share)
    account = np.where(guest, -1, account)

    lines = build_baskets(rng, world.catalog, seg, segment, value)
    ret = _returns(world, rng, persons, person, status, seconds, lines)
    fully_returned = np.bincount(lines.order[ret["line"][ret["full"]]], minlength=n)
    status = np.where((status == COMPLETED) & (fully_returned == lines.n_lines), RETURNED, status)

    order_id = chunk_ids("O", chunk, np.arange(n) + 1)
    orders_table = _orders_table(
        world, rng, persons, person, accounts, spell, account, channel, status, seconds, order_id
    )
    lines_table = pa.table(
        {
            "order_id": order_id.take(pa.array(lines.order)),
            "line_number": pa.array(lines.line_number, type=pa.int64()),
            "product_id": world.catalog.ids.take(pa.array(lines.product)),
            "quantity": pa.array(lines.quantity, type=pa.int64()),
            "unit_price": money(lines.price_cents),
            "discount_amount": money(lines.discount_cents),
        }
    )
    r_order = lines.order[ret["line"]]
    returns_table = pa.table(
        {
            "return_id": chunk_ids("R", chunk, np.arange(len(r_order)) + 1),
            "order_id": order_id.take(pa.array(r_order)),
            "product_id": world.catalog.ids.take(pa.array(lines.product[ret["line"]])),
            "quantity": pa.array(ret["quantity"], type=pa.int64()),
            "refund_amount": money(ret["refund"]),
            "returned_at": ts_array(ret["seconds"]),
            "reason": dict_column(RETURN_REASONS, ret["reason"]),
        }
    )
    return Orders(
        person=person,
        day=day,
        seconds=seconds,
        account=account,
        channel=channel,
        status=status,
        value_cents=value,
        purchase=purchase,
        order_id=order_id,
        lines=lines,
        return_order=r_order,
        return_line=ret["line"],
        return_seconds=ret["seconds"],
        return_quantity=ret["quantity"],
        return_refund_cents=ret["refund"],
        orders_table=orders_table,
        lines_table=lines_table,
        returns_table=returns_table,
    )


def _orders_table(
    world: World,
    rng: np.random.Generator,
    persons: Persons,
    person: np.ndarray,
    accounts: Accounts,
    spell: Spellings,
    account: np.ndarray,
    channel: np.ndarray,
    status: np.ndarray,
    seconds: np.ndarray,
    order_id: pa.Array,
) -> pa.Table:
    n = len(person)
    guest = account < 0
    pa_person = pa.array(person)
    guest_email = pc.if_else(
        pa.array(rng.random(n) < 0.2), spell.email_messy.take(pa_person), spell.email.take(pa_person)
    )
    account_email = accounts.email.take(pa.array(np.maximum(account, 0)))
    show_account_email = rng.random(n) < world.config.rates.checkout_email_share
    email = pc.if_else(pa.array(guest), guest_email, account_email)
    email = pc.if_else(pa.array(guest | show_account_email), email, pa.scalar(None, pa.string()))
    country = persons.country[person]
    store = country * STORES_PER_COUNTRY + rng.integers(0, STORES_PER_COUNTRY, n)
    is_store = channel == CHANNELS.index("store")
    return pa.table(
        {
            "order_id": order_id,
            "customer_id": accounts.customer_id.take(pa.array(np.maximum(account, 0), mask=guest)),
            "email": email,
            "channel": dict_column(CHANNELS, channel),
            "store_id": dict_column(STORE_IDS, store, ~is_store),
            "ordered_at": ts_array(seconds),
            # Every amount the world draws is in one shop currency: labelling GB orders GBP would
            # claim amounts in two currencies that are not (multi_currency plants real ones).
            "currency": dict_column([SHOP_CURRENCY], np.zeros(n, dtype=np.int32)),
            "status": dict_column(STATUSES, status),
        }
    )


def _returns(
    world: World,
    rng: np.random.Generator,
    persons: Persons,
    person: np.ndarray,
    status: np.ndarray,
    seconds: np.ndarray,
    lines: Baskets,
) -> dict[str, np.ndarray]:
    """Returned lines of completed orders, 3-30 days later; refunds are the line's net share."""
    line_person = person[lines.order]
    rate = world.segments.return_rate[persons.segment[line_person]]
    returned_at = seconds[lines.order] + np.floor(rng.uniform(3.0, 30.0, len(line_person)) * 86_400).astype(
        np.int64
    )
    chosen = (
        (status[lines.order] == COMPLETED)
        & (rng.random(len(line_person)) < rate)
        & (returned_at < world.end_epoch)
    )
    line = np.flatnonzero(chosen)
    qty = lines.quantity[line]
    partial = (qty > 1) & (rng.random(line.size) < 0.5)
    returned_qty = np.where(partial, 1 + np.floor(rng.random(line.size) * (qty - 1)).astype(np.int64), qty)
    refund = np.round(lines.net_cents[line] * returned_qty / qty).astype(np.int64)
    size_group = np.isin(world.catalog.category[lines.product[line]], SIZE_CATEGORIES)
    reason = categorical_rows(rng, RETURN_REASON_WEIGHTS, np.where(size_group, 0, 1))
    return {
        "line": line,
        "quantity": returned_qty,
        "refund": refund,
        "seconds": returned_at[line],
        "reason": reason,
        "full": returned_qty == qty,
    }
