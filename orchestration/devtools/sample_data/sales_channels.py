"""Phone and telesales orders (shape experiment): sales channels the generator's world does not have.

Real shops record channels the warehouse has never seen; a user groups them (e.g. 'phone' and
'telesales' as phone sales) in a seed. Phone orders are taken from store orders, because store
orders have no web session: a phone order never shows a web purchase. They lose their store_id.
Shares of all orders: config PHONE_CHANNEL_SHARES (divided by the planted share of store orders,
so the expected shares of all orders are as configured).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from orchestration.devtools.sample_data.arrays import dict_column
from orchestration.devtools.sample_data.config import CHANNELS, PHONE_CHANNEL_SHARES
from orchestration.devtools.sample_data.ids import with_nulls
from orchestration.devtools.sample_data.mutations import as_plain
from orchestration.devtools.sample_data.world import World

SALES_CHANNELS: tuple[str, ...] = (*CHANNELS, *PHONE_CHANNEL_SHARES)
STORE = CHANNELS.index("store")


def expected_store_share(world: World) -> float:
    """Planted share of store orders: segment shares times their store channel weight."""
    seg = world.segments
    weights = seg.channel / seg.channel.sum(axis=1, keepdims=True)
    return float(seg.share @ weights[:, STORE] / seg.share.sum())


def with_phone_orders(
    world: World, rng: np.random.Generator, channel: np.ndarray, orders: pa.Table
) -> tuple[pa.Table, np.ndarray]:
    """shop.orders with some store orders moved to the phone channels; and the new channel index per order."""
    u = rng.random(len(channel))
    bounds = np.cumsum(list(PHONE_CHANNEL_SHARES.values())) / expected_store_share(world)
    phone = np.searchsorted(bounds, u, side="right")  # 0 = first phone channel, len(bounds) = none
    moved = (channel == STORE) & (phone < len(bounds))
    new_channel = np.where(moved, len(CHANNELS) + phone, channel)
    store_id = with_nulls(as_plain(orders.column("store_id")), moved)
    orders = orders.set_column(
        orders.schema.get_field_index("channel"), "channel", dict_column(SALES_CHANNELS, new_channel)
    )
    orders = orders.set_column(orders.schema.get_field_index("store_id"), "store_id", store_id)
    return orders, new_channel
