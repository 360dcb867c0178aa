"""Turn the full world's clean tables into the configured shape's (shapes.py), chunk by chunk.

Shapes change only what a company's export would show: identifiers, vocabularies, channels,
currencies and timestamp precision. Persons, purchases and segments stay the full world's, so
one planted truth serves every shape. Every shape draws from its own random stream (the
chunk's SHAPE_STREAM), so `full` is untouched. Faults are planted after shaping, on the shaped
rows; the writer then keeps the shape's tables only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.devtools.sample_data.accounts import Accounts
from orchestration.devtools.sample_data.currency import CURRENCIES, convert_orders, person_currencies
from orchestration.devtools.sample_data.music import music_events, music_products
from orchestration.devtools.sample_data.orders import Orders
from orchestration.devtools.sample_data.orders_only import (
    anonymous_buyers,
    bare_products,
    dates_only,
    identified_customers,
    last_version_per_day,
    walk_in_orders,
)
from orchestration.devtools.sample_data.persons import Persons
from orchestration.devtools.sample_data.revenue import OrderMoney, identified_orders
from orchestration.devtools.sample_data.sales_channels import SALES_CHANNELS, with_phone_orders
from orchestration.devtools.sample_data.shapes import EXPERIMENT, MULTI_CURRENCY, ORDERS_ONLY
from orchestration.devtools.sample_data.world import SHAPE_WORLD_STREAM, VOCABULARY_SUBSTREAM, World


def shape_products(world: World, products: pa.Table) -> pa.Table:
    """shop.products as the shape's company records it (before any product fault)."""
    name = world.shape.name
    if name == ORDERS_ONLY:
        return bare_products(products)
    if name == EXPERIMENT:
        return music_products(world.rng(SHAPE_WORLD_STREAM, VOCABULARY_SUBSTREAM), world.catalog, products)
    return products


@dataclass
class ShapedChunk:
    """One chunk's tables in the shape, and what the truth needs to read them."""

    tables: dict[str, pa.Table]  # every table of the world; the generator writes the shape's
    customers_person: np.ndarray  # local person of each shop.customers row
    money: OrderMoney
    counts: dict[str, float] = field(default_factory=dict)  # per-shape counts, summed over chunks

    def counts_table(self) -> pa.Table:
        return pa.table({name: pa.array([float(v)]) for name, v in self.counts.items()})


def _currency_index(orders: pa.Table) -> np.ndarray:
    labels = orders.column("currency").combine_chunks()
    if pa.types.is_dictionary(labels.type):
        labels = labels.cast(labels.type.value_type)
    index = pc.index_in(labels, value_set=pa.array(CURRENCIES, type=pa.string()))
    return index.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def shape_chunk(
    world: World,
    rng: np.random.Generator,
    persons: Persons,
    accounts: Accounts,
    orders: Orders,
    tables: dict[str, pa.Table],
) -> ShapedChunk:
    """The chunk's tables as the configured shape's company would export them."""
    shape = world.shape
    tables = dict(tables)
    customers_person = accounts.customers_person
    local_cents, rate = orders.value_cents, np.ones(orders.size)
    counts: dict[str, float] = {}
    if shape.name == ORDERS_ONLY:
        anonymous = anonymous_buyers(rng, persons)
        tables["shop.orders"] = walk_in_orders(tables["shop.orders"], anonymous[orders.person])
        tables["shop.customers"], customers_person = identified_customers(
            tables["shop.customers"], customers_person, anonymous
        )
        counts["anonymous_buyers"] = int(anonymous.sum())
    elif shape.name == EXPERIMENT:
        tables["shop.orders"], channel = with_phone_orders(world, rng, orders.channel, tables["shop.orders"])
        tables["web.events"] = music_events(tables["web.events"])
        counts |= {f"orders_{c}": int((channel == k).sum()) for k, c in enumerate(SALES_CHANNELS)}
    elif shape.name == MULTI_CURRENCY:
        assert world.exchange_rates is not None
        converted = convert_orders(
            world.exchange_rates,
            person_currencies(rng, persons.country),
            orders.person,
            orders.seconds,
            orders.lines.order,
            orders.lines.quantity,
            orders.lines.price_cents,
            orders.lines.discount_cents,
            orders.return_order,
            orders.return_refund_cents,
            tables,
        )
        tables["shop.orders"], tables["shop.order_lines"] = converted.orders, converted.lines
        tables["shop.returns"] = converted.returns
        local_cents, rate = converted.order_local_cents, converted.order_rate
    for name in sorted({table for table, _ in shape.date_only}):
        tables[name] = dates_only(tables[name], shape.date_only_columns(name))
    if "updated_at" in shape.date_only_columns("shop.customers"):
        tables["shop.customers"], customers_person = last_version_per_day(
            tables["shop.customers"], customers_person
        )
    money = OrderMoney(
        person=orders.person,
        is_purchase=orders.is_purchase,
        identified=identified_orders(tables["shop.orders"]),
        currency=_currency_index(tables["shop.orders"]),
        local_cents=np.asarray(local_cents, dtype=float),
        rate=rate,
    )
    return ShapedChunk(tables=tables, customers_person=customers_person, money=money, counts=counts)
