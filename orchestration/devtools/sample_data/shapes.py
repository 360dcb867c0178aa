"""Shapes of company the generator makes: which raw tables exist and how they differ from `full`.

Few companies have every table of the contract, and each names its categories and sales channels
its own way. A shape is the one planted world (the same persons, purchase process and needs
segments for a given seed) seen through one such company, so the end-to-end tests can hold the
warehouse to the same truth whatever shape the data comes in:

* full: every table except shop.exchange_rates and crm.erasure_requests (the generator plants no
  erasure: tests write their own request files), exactly the generator's historical output.
* orders_only: shop.customers, shop.orders, shop.order_lines and shop.products only; about a
  quarter of the orders are walk-in purchases with no identifier at all, products carry no
  category, subcategory or unit cost, order and customer timestamps are dates without a time
  of day, and every order is in EUR (a one-currency shop).
* experiment: the full world with a music shop's category vocabulary, phone and telesales
  orders, and one multi-arm experiment run outside the warehouse with a shared control group.
* multi_currency: the full world with orders in EUR, GBP and USD (amounts in the order's
  currency) and the monthly rates in shop.exchange_rates.

This module is plain data (no generator imports), so the writer, the world and the tests can all
read it.
"""

from __future__ import annotations

from dataclasses import dataclass

from orchestration.contract import ERASURE_REQUESTS, RAW_TABLES, TABLES_BY_NAME, RawTable

FULL, ORDERS_ONLY, EXPERIMENT, MULTI_CURRENCY = "full", "orders_only", "experiment", "multi_currency"
EXCHANGE_RATES = "shop.exchange_rates"
CORE_TABLES: tuple[str, ...] = ("shop.customers", "shop.products", "shop.orders", "shop.order_lines")
FULL_TABLES: tuple[str, ...] = tuple(
    t.qualified_name for t in RAW_TABLES if t.qualified_name not in (EXCHANGE_RATES, ERASURE_REQUESTS)
)


@dataclass(frozen=True)
class Shape:
    """One company shape: the raw tables it has and the timestamp columns written as bare dates."""

    name: str
    tables: tuple[str, ...]  # qualified names, in contract order
    description: str
    # (qualified table, column) pairs of timestamp columns written as 'YYYY-MM-DD' text (UTC date)
    date_only: tuple[tuple[str, str], ...] = ()

    @property
    def raw_tables(self) -> tuple[RawTable, ...]:
        return tuple(TABLES_BY_NAME[name] for name in self.tables)

    def date_only_columns(self, table: str) -> tuple[str, ...]:
        return tuple(column for name, column in self.date_only if name == table)


def _in_contract_order(names: set[str]) -> tuple[str, ...]:
    return tuple(t.qualified_name for t in RAW_TABLES if t.qualified_name in names)


SHAPES: dict[str, Shape] = {
    FULL: Shape(FULL, FULL_TABLES, "every source: shop, web, crm and marketing (one world, as always)"),
    ORDERS_ONLY: Shape(
        ORDERS_ONLY,
        _in_contract_order(set(CORE_TABLES)),
        "customers, orders, order lines and products only; anonymous walk-in orders, no categories or"
        " costs, date-only timestamps, one currency",
        date_only=(
            ("shop.customers", "created_at"),
            ("shop.customers", "updated_at"),
            ("shop.orders", "ordered_at"),
        ),
    ),
    EXPERIMENT: Shape(
        EXPERIMENT,
        FULL_TABLES,
        "every source, a music shop's categories, phone and telesales orders, and an outside"
        " multi-arm experiment with one shared control group",
    ),
    MULTI_CURRENCY: Shape(
        MULTI_CURRENCY,
        _in_contract_order({*FULL_TABLES, EXCHANGE_RATES}),
        "every source, orders in EUR, GBP and USD, and monthly exchange rates to EUR",
    ),
}
SHAPE_NAMES: tuple[str, ...] = tuple(SHAPES)


def shape_of(name: str) -> Shape:
    """The shape called `name`; a ValueError naming the known shapes otherwise."""
    try:
        return SHAPES[name]
    except KeyError:
        raise ValueError(f"unknown shape {name!r}; known shapes: {', '.join(SHAPE_NAMES)}") from None
