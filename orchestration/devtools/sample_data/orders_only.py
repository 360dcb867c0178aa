"""A small shop with only its order system (shape orders_only): walk-ins, bare products, dates only.

* Anonymous walk-in buyers: ANONYMOUS_BUYER_SHARE of the buyers (registered or guest, drawn per
  person, independently of their purchase process) buy without any identifier: their orders have
  neither customer_id nor email, and they own no account (their shop.customers rows are not
  written). Every other order keeps its identifiers, so all purchases of an identified person
  are identified, and the planted purchase process holds for the identified persons.
* Products without category, subcategory or unit cost (null): margin is unknown.
* Order and customer timestamps are bare dates: 'YYYY-MM-DD', the UTC date of the instant
  (written as text, whatever the file format). Record versions of an account that fall on one
  date keep only the day's last version, as a daily export would, so (customer_id, updated_at)
  stays a key.
* One currency: every order in EUR (what the world's amounts are).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.devtools.sample_data.arrays import dict_column
from orchestration.devtools.sample_data.config import ANONYMOUS_BUYER_SHARE, REPORTING_CURRENCY
from orchestration.devtools.sample_data.ids import with_nulls
from orchestration.devtools.sample_data.mutations import as_plain
from orchestration.devtools.sample_data.persons import Persons
from orchestration.devtools.sample_data.timetext import iso_text

DATE_WIDTH = 10  # YYYY-MM-DD


def anonymous_buyers(rng: np.random.Generator, persons: Persons) -> np.ndarray:
    """Per person of the chunk: does this buyer buy only as an anonymous walk-in?"""
    return persons.is_buyer & (rng.random(persons.size) < ANONYMOUS_BUYER_SHARE)


def date_text(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Timestamps as 'YYYY-MM-DD' text (the UTC date), nulls kept."""
    plain = as_plain(column)
    seconds = pc.cast(plain.cast(pa.timestamp("s", tz="UTC")), pa.int64())
    text = iso_text(seconds.fill_null(0).to_numpy())
    return with_nulls(
        pc.utf8_slice_codeunits(text, 0, DATE_WIDTH), seconds.is_null().to_numpy(zero_copy_only=False)
    )


def bare_products(products: pa.Table) -> pa.Table:
    """shop.products without category, subcategory and unit cost."""
    for name in ("category", "subcategory", "unit_cost"):
        index = products.schema.get_field_index(name)
        products = products.set_column(index, name, pa.nulls(products.num_rows, products.field(name).type))
    return products


def walk_in_orders(orders: pa.Table, anonymous: np.ndarray) -> pa.Table:
    """shop.orders with the walk-ins' identifiers removed and every order in EUR.

    `anonymous` is per order: placed by an anonymous walk-in buyer.
    """
    for name in ("customer_id", "email"):
        index = orders.schema.get_field_index(name)
        orders = orders.set_column(index, name, with_nulls(as_plain(orders.column(name)), anonymous))
    index = orders.schema.get_field_index("currency")
    currency = dict_column([REPORTING_CURRENCY], np.zeros(orders.num_rows, np.int64))
    return orders.set_column(index, "currency", currency)


def identified_customers(
    customers: pa.Table, owner: np.ndarray, anonymous: np.ndarray
) -> tuple[pa.Table, np.ndarray]:
    """shop.customers without the walk-ins' accounts; and the person of each kept row."""
    keep = ~anonymous[owner]
    return customers.filter(pa.array(keep)), owner[keep]


def dates_only(table: pa.Table, columns: tuple[str, ...]) -> pa.Table:
    """The table with `columns` (timestamps) written as bare dates."""
    for name in columns:
        index = table.schema.get_field_index(name)
        table = table.set_column(index, name, date_text(table.column(name)))
    return table


def last_version_per_day(customers: pa.Table, owner: np.ndarray) -> tuple[pa.Table, np.ndarray]:
    """Keep the last record version of each (customer_id, updated_at date); rows stay in order.

    Versions of an account are consecutive and in time order, so a row is dropped when the next
    row is the same account on the same date.
    """
    ids = as_plain(customers.column("customer_id"))
    dates = as_plain(customers.column("updated_at"))
    n = customers.num_rows
    if n < 2:
        return customers, owner
    same = pc.and_(
        pc.equal(ids.slice(0, n - 1), ids.slice(1)), pc.equal(dates.slice(0, n - 1), dates.slice(1))
    )
    drop = np.append(pc.fill_null(same, False).to_numpy(zero_copy_only=False), False)
    return customers.filter(pa.array(~drop)), owner[~drop]
