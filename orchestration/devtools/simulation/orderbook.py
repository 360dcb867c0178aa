"""Every order the simulated shop has, base and simulated, and the spend changes applied to them.

A treatment's planted spend change makes every order of a responding customer in its response
window worth (1 + m) times its untreated value. Those orders lie in the future of the build that
chose the treatment (the window opens at the send, after the run's as-of date), so changing them
changes nothing any build has seen yet: the simulated future simply turns out different. Raw
order lines are rewritten from their original values times the product of the factors applied
so far (unit price and discount both scale, so the net scales), which keeps the cents exact
however many changes an order collects.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.devtools.simulation.population import Population

LINES_DIR = ("shop", "order_lines")
ORDERS_DIR = ("shop", "orders")
BASE_PART = "part-00000.parquet"


def epoch_seconds(values: pd.Series) -> np.ndarray:
    return (
        pd.to_datetime(values, utc=True).astype("datetime64[us, UTC]").astype("int64") // 1_000_000
    ).to_numpy()


class OrderBook:
    """Orders (person, instant, status, cause) and their lines, with the files the lines live in."""

    def __init__(self, raw: Path, population: Population) -> None:
        self.raw = raw
        orders = pq.read_table(
            raw.joinpath(*ORDERS_DIR, BASE_PART), columns=["order_id", "ordered_at", "status"]
        )
        frame = orders.to_pandas()
        self.orders = pd.DataFrame(
            {
                "order_id": frame.order_id.to_numpy(),
                "person": population.order_person.loc[frame.order_id].to_numpy(),
                "seconds": epoch_seconds(frame.ordered_at),
                "is_cancelled": (frame.status == "cancelled").to_numpy(),
                "caused_by": None,  # activation treatment code of a simulated incremental order
            }
        )
        lines = pq.read_table(raw.joinpath(*LINES_DIR, BASE_PART))
        self.line_schema = lines.schema
        self.lines = lines.to_pandas()
        self.lines["file"] = BASE_PART
        self.factor = pd.Series(dtype=float)  # order_id -> product of spend factors applied
        self.changes: list[pd.DataFrame] = []  # ledger: order_id, send_id, treatment_code, factor
        self._dirty: set[str] = set()

    def add(self, orders: pd.DataFrame, lines: pd.DataFrame, file: str) -> None:
        """Register simulated orders (columns as self.orders) and their lines (raw columns)."""
        self.orders = pd.concat([self.orders, orders[self.orders.columns]], ignore_index=True)
        self.lines = pd.concat([self.lines, lines.assign(file=file)], ignore_index=True)

    def scale(self, windows: pd.DataFrame, visible_until: int) -> pd.DataFrame:
        """Apply spend changes: windows has send_id, person, treatment_code, start, end, factor.

        Orders of the person in [start, end) change, except those the same treatment itself
        caused (an incremental purchase already carries its spend change). Returns the ledger
        rows; refuses to touch an order a build may already have seen.
        """
        if windows.empty:
            return pd.DataFrame(columns=["order_id", "send_id", "treatment_code", "factor"])
        hit = windows.merge(self.orders, on="person")
        hit = hit[
            (hit.seconds >= hit.start)
            & (hit.seconds < hit.end)
            & (hit.caused_by.isna() | (hit.caused_by != hit.treatment_code))
        ]
        if (hit.seconds < visible_until).any():
            raise RuntimeError("a spend change would alter an order the warehouse has already seen")
        ledger = hit[["order_id", "send_id", "treatment_code", "factor"]].sort_values(["order_id", "send_id"])
        product = ledger.groupby("order_id").factor.prod()
        self.factor = self.factor.mul(product, fill_value=1.0)
        self.changes.append(ledger)
        self._dirty.update(self.lines.loc[self.lines.order_id.isin(product.index), "file"].unique())
        return ledger

    def write_changed(self) -> list[str]:
        """Rewrite the line files holding orders whose factor changed since the last write."""
        written = []
        for file in sorted(self._dirty):
            lines = self.lines[self.lines.file == file].drop(columns="file")
            factor = self.factor.reindex(lines.order_id).fillna(1.0).to_numpy()
            scaled = lines.copy()
            scaled["unit_price"] = np.round(lines.unit_price.to_numpy() * factor, 2)
            gross = scaled.quantity.to_numpy() * scaled.unit_price.to_numpy()
            scaled["discount_amount"] = np.minimum(
                np.round(lines.discount_amount.to_numpy() * factor, 2), gross
            )
            table = pa.Table.from_pandas(scaled, schema=self.line_schema, preserve_index=False)
            write_atomic(table, self.raw.joinpath(*LINES_DIR, file))
            written.append(file)
        self._dirty.clear()
        return written

    def ledger(self) -> pd.DataFrame:
        columns = ["order_id", "send_id", "treatment_code", "factor"]
        return pd.concat([pd.DataFrame(columns=columns), *self.changes], ignore_index=True)


def write_atomic(table: pa.Table, path: Path) -> None:
    """Write beside the target and rename: a build never reads half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, temporary)
    temporary.replace(path)
