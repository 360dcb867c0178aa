"""Revenue truth of every shape: totals, identified vs unidentified revenue, Pareto shares, currencies.

Computed per chunk from the clean rows as written (partial sums, plus per-buyer revenues that the
generator concatenates), so the truth is exactly what the raw files say:

* revenue = sum over non-cancelled orders of quantity * unit_price - discount_amount (before
  returns), converted to the reporting currency with the rate of the order's currency in the
  order's month (shop.exchange_rates; rate 1 where the shape has one currency);
* an order is identified when it carries a customer_id or an email, else it is unidentified (an
  anonymous purchase, not a customer);
* Pareto shares rank true persons (the truth's person_id, i.e. after identity resolution) by the
  revenue of their identified orders; the top x% are the first ceil(x * n) of them, as the value
  mart's revenue_rank_share < x selects.

Persons never span chunks, so per-chunk per-person sums are complete.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.devtools.sample_data.currency import CURRENCIES

PARETO_TOP_SHARE = 0.2
COUNT_SUMS = (
    "orders",
    "cancelled_orders",
    "identified_orders",
    "unidentified_orders",
    "identified_non_buyers",
)
CENT_SUMS = ("revenue_cents", "identified_revenue_cents", "unidentified_revenue_cents")
CURRENCY_SUMS = tuple(
    f"{what}_{code}" for code in CURRENCIES for what in ("orders", "local_cents", "reporting_cents")
)
REVENUE_SUMS = (*COUNT_SUMS, *CENT_SUMS, *CURRENCY_SUMS)
BUYER_REVENUE, GUEST_ORDER_REVENUE = "identified_buyer_revenue", "unidentified_order_revenue"


@dataclass(frozen=True)
class OrderMoney:
    """Per order of one chunk: what it is worth, in its own and in the reporting currency."""

    person: np.ndarray  # local person index
    is_purchase: np.ndarray  # not cancelled
    identified: np.ndarray  # customer_id or email present
    currency: np.ndarray  # index into CURRENCIES
    local_cents: np.ndarray  # net amount in the order's currency, cents
    rate: np.ndarray  # reporting currency per unit of the order's currency

    @property
    def reporting_cents(self) -> np.ndarray:
        return self.local_cents * self.rate


def identified_orders(orders: pa.Table) -> np.ndarray:
    """Per order row: does it carry an identifier (customer_id or email)?"""
    customer_id = orders.column("customer_id").combine_chunks()
    email = orders.column("email").combine_chunks()
    return pc.or_(pc.is_valid(customer_id), pc.is_valid(email)).to_numpy(zero_copy_only=False)


def revenue_parts(
    money: OrderMoney, customers_person: np.ndarray, n_persons: int
) -> tuple[pa.Table, dict[str, pa.Table]]:
    """One chunk's partial sums (REVENUE_SUMS, one row) and its per-buyer / per-guest-order revenues."""
    buy, ident = money.is_purchase, money.identified
    value = money.reporting_cents
    sums: dict[str, float] = {
        "orders": len(buy),
        "cancelled_orders": int((~buy).sum()),
        "identified_orders": int(ident.sum()),
        "unidentified_orders": int((~ident).sum()),
        "revenue_cents": float(value[buy].sum()),
        "identified_revenue_cents": float(value[buy & ident].sum()),
        "unidentified_revenue_cents": float(value[buy & ~ident].sum()),
    }
    for k, code in enumerate(CURRENCIES):
        mine = buy & (money.currency == k)
        sums[f"orders_{code}"] = int(mine.sum())
        sums[f"local_cents_{code}"] = float(money.local_cents[mine].sum())
        sums[f"reporting_cents_{code}"] = float(value[mine].sum())

    paying = buy & ident
    revenue = np.bincount(money.person[paying], weights=value[paying], minlength=n_persons)
    buyer = np.bincount(money.person[paying], minlength=n_persons) > 0
    known = np.zeros(n_persons, dtype=bool)
    known[customers_person] = True
    known[money.person[ident]] = True
    sums["identified_non_buyers"] = int((known & ~buyer).sum())
    samples = {
        BUYER_REVENUE: pa.table({"revenue_cents": pa.array(revenue[buyer])}),
        GUEST_ORDER_REVENUE: pa.table({"revenue_cents": pa.array(value[buy & ~ident].astype(float))}),
    }
    return pa.table({name: pa.array([float(sums[name])]) for name in REVENUE_SUMS}), samples


def top_share(revenue: np.ndarray, share: float = PARETO_TOP_SHARE, zeros: int = 0) -> float | None:
    """Share of the total that the top ceil(share * n) of n = len(revenue) + zeros carry."""
    n = len(revenue) + zeros
    total = float(np.sum(revenue))
    if n == 0 or total <= 0:
        return None
    k = math.ceil(round(share * n, 9))
    return float(np.sort(revenue)[::-1][:k].sum() / total)


def _money(cents: float) -> float:
    return round(cents / 100.0, 2)


def revenue_truth(sums: pa.Table, samples: dict[str, pa.Table], reporting_currency: str) -> dict:
    """The revenue, orders, pareto and currencies sections of _truth/shape.json."""
    s = {name: float(sums.column(name)[0].as_py()) for name in REVENUE_SUMS}
    buyers = samples[BUYER_REVENUE].column("revenue_cents").to_numpy() / 100.0
    guests = samples[GUEST_ORDER_REVENUE].column("revenue_cents").to_numpy() / 100.0
    zeros = int(s["identified_non_buyers"])

    def rounded(x: float | None) -> float | None:
        return None if x is None else round(x, 6)

    return {
        "reporting_currency": reporting_currency,
        "revenue": {
            "definition": (
                "sum over non-cancelled orders of quantity * unit_price - discount_amount (before returns),"
                " in the reporting currency (each order converted with its currency's rate in the order's"
                " month); identified = the order has a customer_id or an email"
            ),
            "total": _money(s["revenue_cents"]),
            "identified": _money(s["identified_revenue_cents"]),
            "unidentified": _money(s["unidentified_revenue_cents"]),
            "unidentified_share": rounded(s["unidentified_revenue_cents"] / s["revenue_cents"])
            if s["revenue_cents"]
            else None,
        },
        "orders": {
            "total": int(s["orders"]),
            "cancelled": int(s["cancelled_orders"]),
            "identified": int(s["identified_orders"]),
            "unidentified": int(s["unidentified_orders"]),
            "unidentified_share": rounded(s["unidentified_orders"] / s["orders"]) if s["orders"] else None,
        },
        "pareto": {
            "definition": (
                "true persons ranked by the revenue of their identified non-cancelled orders; the top"
                " ceil(0.2 * n) persons' share of that revenue"
            ),
            "top_share": PARETO_TOP_SHARE,
            "identified_buyers": len(buyers),
            "top_20_percent_revenue_share": rounded(top_share(buyers)),
            "identified_persons": len(buyers) + zeros,
            "top_20_percent_revenue_share_identified_persons": rounded(top_share(buyers, zeros=zeros)),
            "top_20_percent_revenue_share_guest_orders_as_customers": rounded(
                top_share(np.concatenate([buyers, guests]))
            ),
            "notes": (
                "top_20_percent_revenue_share: over identified buyers (persons with an identified purchase);"
                " _identified_persons: also counting identified persons without a purchase (e.g. prospects)"
                " at zero; _guest_orders_as_customers: the misreading that takes every unidentified order"
                " for a customer of its own"
            ),
        },
        "currencies": {
            code: {
                "non_cancelled_orders": int(s[f"orders_{code}"]),
                "revenue": _money(s[f"local_cents_{code}"]),
                "revenue_reporting": _money(s[f"reporting_cents_{code}"]),
            }
            for code in CURRENCIES
            if s[f"orders_{code}"]
        },
    }
