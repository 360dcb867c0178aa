"""Several currencies (shape multi_currency): monthly exchange rates and amounts in the order's currency.

The planted world draws every amount in the reporting currency (EUR). In this shape each buyer
pays in one currency (GBP in GB; USD for DOLLAR_BUYER_SHARE of the others, the shop's dollar
store; EUR otherwise), and an order's unit prices, discounts and refunds are the EUR amounts
divided by the rate of the order's currency in the order's month (UTC), rounded to cents. So
converting back with shop.exchange_rates gives the planted EUR values to within rounding, and a
pipeline that sums the raw amounts without converting is visibly wrong.

shop.exchange_rates: one row per currency and month from the month of the observation start to
the month of the last instant, rate_date the first day of the month, rate = EUR per unit,
rounded to 6 decimals. EUR is included with rate 1, so every order's currency has a rate.
Rates follow a random walk around CURRENCY_BASE_RATES (own random stream; same for any chunking).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa

from orchestration.devtools.sample_data.arrays import dict_column, money
from orchestration.devtools.sample_data.config import (
    COUNTRIES,
    CURRENCY_BASE_RATES,
    DOLLAR_BUYER_SHARE,
    RATE_MONTHLY_VOLATILITY,
    REPORTING_CURRENCY,
)

CURRENCIES: tuple[str, ...] = tuple(CURRENCY_BASE_RATES)  # reporting currency first
EUR, GBP, USD = (CURRENCIES.index(c) for c in ("EUR", "GBP", "USD"))
RATE_DECIMALS = 6
assert CURRENCIES[0] == REPORTING_CURRENCY


@dataclass(frozen=True)
class ExchangeRates:
    """Monthly rates: `rates[currency, month]` EUR per unit, month k starting on `month_start[k]`."""

    month_start: np.ndarray  # epoch days of each month's first day, ascending
    rates: np.ndarray  # (currencies x months)

    def month_of(self, seconds: np.ndarray) -> np.ndarray:
        """Index of the month holding each instant (UTC)."""
        days = np.floor_divide(np.asarray(seconds, dtype=np.int64), 86_400)
        return np.searchsorted(self.month_start, days, side="right") - 1

    def rate_at(self, currency: np.ndarray, seconds: np.ndarray) -> np.ndarray:
        """EUR per unit of each row's currency in the month of its instant."""
        return self.rates[np.asarray(currency, dtype=np.int64), self.month_of(seconds)]

    def table(self) -> pa.Table:
        """shop.exchange_rates rows: currency by currency, month by month."""
        n_cur, n_month = self.rates.shape
        return pa.table(
            {
                "currency": pa.array(np.repeat(CURRENCIES, n_month).tolist(), type=pa.string()),
                "rate_date": pa.array(
                    np.tile(self.month_start, n_cur).astype(np.int32), type=pa.int32()
                ).cast(pa.date32()),
                "rate": pa.array(self.rates.ravel(), type=pa.float64()),
            }
        )


def _month_starts(start_epoch: int, end_epoch: int) -> np.ndarray:
    """Epoch days of the first day of every month from the start's month to the last instant's."""
    first = datetime.fromtimestamp(start_epoch, tz=UTC)
    last = datetime.fromtimestamp(end_epoch - 1, tz=UTC)
    months = (last.year - first.year) * 12 + last.month - first.month + 1
    starts = []
    for k in range(months):
        year, month = divmod(first.month - 1 + k, 12)
        starts.append(int(datetime(first.year + year, month + 1, 1, tzinfo=UTC).timestamp()) // 86_400)
    return np.array(starts, dtype=np.int64)


def build_exchange_rates(rng: np.random.Generator, start_epoch: int, end_epoch: int) -> ExchangeRates:
    month_start = _month_starts(start_epoch, end_epoch)
    n = len(month_start)
    base = np.log(np.array([CURRENCY_BASE_RATES[c] for c in CURRENCIES]))
    steps = rng.normal(0.0, RATE_MONTHLY_VOLATILITY, (len(CURRENCIES), n))
    steps[:, 0] = 0.0
    steps[EUR] = 0.0
    rates = np.round(np.exp(base[:, None] + np.cumsum(steps, axis=1)), RATE_DECIMALS)
    return ExchangeRates(month_start=month_start, rates=rates)


def person_currencies(rng: np.random.Generator, country: np.ndarray) -> np.ndarray:
    """Each person's payment currency (index into CURRENCIES); one draw per person."""
    dollar = rng.random(len(country)) < DOLLAR_BUYER_SHARE
    in_gb = np.array([c.code == "GB" for c in COUNTRIES])[country]
    return np.where(in_gb, GBP, np.where(dollar, USD, EUR))


def to_currency(eur_cents: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """EUR cents as cents of a currency worth `rate` EUR per unit, rounded to the cent."""
    return np.round(np.asarray(eur_cents, dtype=float) / rate).astype(np.int64)


@dataclass(frozen=True)
class ConvertedOrders:
    """What the multi-currency conversion changed, and what the truth needs."""

    orders: pa.Table
    lines: pa.Table
    returns: pa.Table
    order_rate: np.ndarray  # EUR per unit of each order's currency
    order_currency: np.ndarray  # index into CURRENCIES
    order_local_cents: np.ndarray  # net amount of each order in its own currency


def convert_orders(
    rates: ExchangeRates,
    currency_of_person: np.ndarray,
    order_person: np.ndarray,
    order_seconds: np.ndarray,
    line_order: np.ndarray,
    line_quantity: np.ndarray,
    line_price_cents: np.ndarray,
    line_discount_cents: np.ndarray,
    return_order: np.ndarray,
    return_refund_cents: np.ndarray,
    tables: dict[str, pa.Table],
) -> ConvertedOrders:
    """Orders, lines and returns in each order's currency (amounts divided by its monthly rate)."""
    currency = currency_of_person[order_person]
    rate = rates.rate_at(currency, order_seconds)
    line_rate = rate[line_order]
    price = to_currency(line_price_cents, line_rate)
    discount = np.minimum(to_currency(line_discount_cents, line_rate), price * line_quantity)
    refund = to_currency(return_refund_cents, rate[return_order])
    local = np.bincount(line_order, weights=price * line_quantity - discount, minlength=len(currency))
    orders = tables["shop.orders"]
    lines = tables["shop.order_lines"]
    returns = tables["shop.returns"]
    return ConvertedOrders(
        orders=orders.set_column(
            orders.schema.get_field_index("currency"), "currency", dict_column(CURRENCIES, currency)
        ),
        lines=lines.set_column(
            lines.schema.get_field_index("unit_price"), "unit_price", money(price)
        ).set_column(lines.schema.get_field_index("discount_amount"), "discount_amount", money(discount)),
        returns=returns.set_column(
            returns.schema.get_field_index("refund_amount"), "refund_amount", money(refund)
        ),
        order_rate=rate,
        order_currency=currency,
        order_local_cents=np.round(local).astype(np.int64),
    )
