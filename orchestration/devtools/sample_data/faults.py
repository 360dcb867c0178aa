"""Deliberate data-quality faults, planted on the clean tables of one chunk.

Each faulted row gets exactly one fault: row sets are disjoint per table, duplicates copy rows
that are otherwise clean, and lines/returns of faulted or late orders are never faulted, so
every planted fault maps to one reason code in staging. Every fault is recorded with the key of
the row as written (null when the key itself was nulled).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.contract import raw_table
from orchestration.devtools.sample_data.arrays import int_text, money_text, ts_array, ts_text_mixed
from orchestration.devtools.sample_data.config import CHANNELS
from orchestration.devtools.sample_data.mutations import (
    as_plain,
    future_seconds,
    future_text,
    ip_addresses,
    is_non_ascii,
    mojibake,
    negated_text,
    null_rows,
    orphan_customers,
    orphan_orders,
    orphan_products,
    replace_rows,
    unparseable,
)
from orchestration.devtools.sample_data.world import World

# Columns that carry unparseable values are text in every file, so the schema never changes.
STRING_COLUMNS_UNDER_FAULTS: dict[str, tuple[str, ...]] = {
    "shop.orders": ("ordered_at",),
    "shop.order_lines": ("quantity",),
    "shop.products": ("list_price",),
    "shop.returns": ("returned_at",),
    "web.events": ("occurred_at",),
    "crm.surveys": ("nps_score",),
}
DRIFT_COLUMNS: dict[str, str] = {"shop.orders": "legacy_channel_code", "web.events": "ip_address"}
# Columns referring to a shop account: a row is refused with its account.
ACCOUNT_REFERENCES: dict[str, str] = {
    "shop.orders": "customer_id",
    "web.events": "user_id",
    "crm.consents": "customer_id",
    "crm.loyalty_members": "customer_id",
    "crm.service_cases": "customer_id",
    "crm.surveys": "customer_id",
    "marketing.communications": "customer_id",
    "marketing.assignments": "customer_id",
}
LEGACY_CHANNEL_CODES = ("WEB01", "APP02", "STO03")  # aligned with CHANNELS
LATE_TABLES: tuple[str, ...] = ("shop.orders", "shop.order_lines", "web.events")
PLACEHOLDER_EMAIL, PLACEHOLDER_PHONE, PLACEHOLDER_GUEST_EMAIL = (
    "test@test.com",
    "0000000000",
    "noemail@example.com",
)
PLACEHOLDER_SHARE = 0.002

D, N, U, NEG, FUT, ORPH, INV = (
    "duplicate", "null_key", "unparseable_value", "negative_value", "after_as_of", "orphan_reference", "invalid_value",
)  # fmt: skip
# (fault_kind, column, expected_reason); the reason equals the kind for quarantined faults.
PLANS: dict[str, tuple[tuple[str, str | None, str | None], ...]] = {
    "shop.customers": ((D, None, D), (N, "customer_id", N), ("bad_encoding", "first_name", None),
                       ("bad_encoding", "last_name", None), ("bad_encoding", "city", None),
                       ("placeholder_identifier", "email", None), ("placeholder_identifier", "phone", None)),
    "shop.products": ((D, None, D), (U, "list_price", U), ("bad_encoding", "name", None)),
    "shop.orders": ((D, None, D), (N, "order_id", N), (U, "ordered_at", U), ("future_timestamp", "ordered_at", FUT),
                    (ORPH, "customer_id", ORPH), ("placeholder_identifier", "email", None)),
    "shop.order_lines": ((D, None, D), (N, "line_number", N), (U, "quantity", U), (NEG, "quantity", NEG),
                         (NEG, "unit_price", NEG), (ORPH, "product_id", ORPH), (ORPH, "order_id", ORPH),
                         (INV, "discount_amount", INV)),
    "shop.returns": ((D, None, D), (U, "returned_at", U), (NEG, "refund_amount", NEG), (ORPH, "order_id", ORPH)),
    "web.events": ((D, None, D), (N, "event_id", N), (U, "occurred_at", U), ("future_timestamp", "occurred_at", FUT)),
    "crm.consents": ((D, None, D), (N, "customer_id", N), (ORPH, "customer_id", ORPH)),
    "crm.loyalty_members": ((D, None, D), (ORPH, "customer_id", ORPH)),
    "crm.service_cases": ((D, None, D), (ORPH, "customer_id", ORPH)),
    "crm.surveys": ((D, None, D), (N, "response_id", N), (U, "nps_score", U), ("future_timestamp", "answered_at", FUT),
                    (INV, "nps_score", INV)),
    "marketing.communications": ((D, None, D), (N, "send_id", N)),
    "marketing.assignments": ((D, None, D),),
}  # fmt: skip
FAULT_SCHEMA = pa.schema(
    [
        (c, pa.string())
        for c in ("source", "table_name", "fault_kind", "row_key", "column_name", "expected_reason")
    ]
)


@dataclass(frozen=True)
class ChunkLinks:
    """How rows of one chunk relate, by position: what the planter needs beyond the tables."""

    order_day: np.ndarray
    order_is_guest: np.ndarray
    order_person: np.ndarray
    line_order: np.ndarray
    return_order: np.ndarray
    event_order: np.ndarray
    customers_person: np.ndarray
    line_product: np.ndarray  # internal product index per order line
    return_product: np.ndarray
    event_product: np.ndarray  # -1 for events without a product


@dataclass
class PlantedFaults:
    main: dict[str, pa.Table]
    late: dict[str, pa.Table]
    records: list[pa.Table] = field(default_factory=list)
    # (identifier_type, placeholder value, local person indices that received it)
    placeholders: list[tuple[str, str, np.ndarray]] = field(default_factory=list)


def _key_text(col: pa.Array) -> pa.Array:
    if pa.types.is_timestamp(col.type):
        return pc.strftime(col.cast(pa.timestamp("s", tz="UTC")), format="%Y-%m-%d %H:%M:%S")
    return col if pa.types.is_string(col.type) else col.cast(pa.string())


class TablePlanter:
    """Applies one table's faults on a working copy of its columns."""

    def __init__(
        self, world: World, rng: np.random.Generator, name: str, table: pa.Table, chunk: int
    ) -> None:
        self.world, self.rng, self.name, self.chunk = world, rng, name, chunk
        self.contract = raw_table(*name.split("."))
        self.clean = table
        # Columns stay as built (often dictionary-encoded) unless a fault has to rewrite them.
        self.cols: dict[str, pa.Array] = {c: table.column(c).combine_chunks() for c in table.column_names}
        self.n = table.num_rows
        self.taken = np.zeros(self.n, dtype=bool)
        self.late = np.zeros(self.n, dtype=bool)
        self.duplicates: list[np.ndarray] = []
        self.picks: list[tuple[str, str | None, str | None, np.ndarray, bool]] = []
        share = world.config.rates.fault_share
        kinds = [k for k, _, _ in PLANS.get(name, ())]
        self.share = {k: share / kinds.count(k) for k in kinds}
        self.share["placeholder_identifier"] = PLACEHOLDER_SHARE

    def count(self, kind: str) -> int:
        return max(2, round(self.share[kind] * self.n))

    def pick(self, n: int, eligible: np.ndarray | None = None) -> np.ndarray:
        free = ~self.taken if eligible is None else (~self.taken & eligible)
        candidates = np.flatnonzero(free)
        rows = np.sort(self.rng.choice(candidates, size=min(n, candidates.size), replace=False))
        self.taken[rows] = True
        return rows

    def to_text(self) -> None:
        """Turn this table's fault-prone columns into text for all rows."""
        rates = self.world.config.rates
        for col in STRING_COLUMNS_UNDER_FAULTS.get(self.name, ()):
            arr = self.cols[col]
            if pa.types.is_string(arr.type):
                continue  # already text (a shape's date-only column)
            if pa.types.is_timestamp(arr.type):
                secs = pc.cast(arr.cast(pa.timestamp("s", tz="UTC")), pa.int64()).to_numpy(
                    zero_copy_only=False
                )
                self.cols[col] = ts_text_mixed(self.rng, secs, rates.offset_text_share)
            elif pa.types.is_floating(arr.type):
                self.cols[col] = money_text(
                    np.round(arr.to_numpy(zero_copy_only=False) * 100).astype(np.int64)
                )
            else:
                self.cols[col] = int_text(arr.to_numpy(zero_copy_only=False))

    def run(self, eligible: dict[tuple[str, str | None], np.ndarray] | None = None) -> None:
        """Pick rows and damage them, entry by entry of the table's plan."""
        eligible = eligible or {}
        for kind, column, reason in PLANS.get(self.name, ()):
            mask = eligible.get((kind, column))
            if kind == "bad_encoding":
                non_ascii = is_non_ascii(self.cols[column])
                mask = non_ascii if mask is None else mask & non_ascii
            rows = self.pick(self.count(kind), mask)
            if rows.size == 0:
                continue
            if kind == "duplicate":
                self.duplicates.append(rows)
            else:
                self._damage(kind, column, rows)
            self.picks.append((kind, column, reason, rows, kind == "null_key"))

    def _damage(self, kind: str, column: str, rows: np.ndarray) -> None:
        rng, col, k = self.rng, as_plain(self.cols[column]), rows.size
        end, cfg = self.world.end_epoch, self.world.config
        if kind == "null_key":
            new = null_rows(col, rows)
        elif kind == "unparseable_value":
            logical = next(c.logical_type for c in self.contract.columns if c.name == column)
            new = replace_rows(col, rows, unparseable(rng, logical, k))
        elif kind == "negative_value":
            vals = (
                negated_text(col, rows)
                if pa.types.is_string(col.type)
                else pc.negate(col.take(pa.array(rows)))
            )
            new = replace_rows(col, rows, vals)
        elif kind == "future_timestamp":
            vals = (
                future_text(rng, end, k)
                if pa.types.is_string(col.type)
                else ts_array(future_seconds(rng, end, k))
            )
            new = replace_rows(col, rows, vals)
        elif kind == "orphan_reference":
            maker = {
                "customer_id": lambda: orphan_customers(cfg.total_persons, self.chunk, k, cfg.seed),
                "order_id": lambda: orphan_orders(self.chunk, k),
                "product_id": lambda: orphan_products(rng, k),
            }[column]
            new = replace_rows(col, rows, maker())
        elif kind == "invalid_value" and column == "nps_score":
            new = replace_rows(col, rows, pa.array(np.where(rng.random(k) < 0.5, "11", "-1")))
        elif kind == "invalid_value":
            qty = self.clean.column("quantity").to_numpy()[rows]
            price = self.clean.column("unit_price").to_numpy()[rows]
            new = replace_rows(col, rows, np.round(qty * price + rng.uniform(0.01, 20.0, k), 2))
        elif kind == "bad_encoding":
            new = replace_rows(col, rows, mojibake(col.take(pa.array(rows))))
        elif kind == "placeholder_identifier":
            value = {"shop.customers": {"email": PLACEHOLDER_EMAIL, "phone": PLACEHOLDER_PHONE}}.get(
                self.name, {"email": PLACEHOLDER_GUEST_EMAIL}
            )[column]
            new = replace_rows(col, rows, pa.array([value] * k, type=pa.string()))
        else:
            raise ValueError(f"unknown fault kind {kind}")
        self.cols[column] = new

    def add_drift(self) -> None:
        drift = DRIFT_COLUMNS.get(self.name)
        if drift == "ip_address":
            self.cols[drift] = ip_addresses(self.rng, self.n)
        elif drift == "legacy_channel_code":
            channel = pc.index_in(as_plain(self.clean.column("channel")), value_set=pa.array(CHANNELS))
            self.cols[drift] = pa.array(LEGACY_CHANNEL_CODES, pa.string()).take(channel)

    def finish(self, out: PlantedFaults) -> None:
        """Assemble main/late tables and this table's fault records."""
        table = pa.table(self.cols)
        dups = np.concatenate([np.zeros(0, np.int64), *self.duplicates])
        main = table.filter(pa.array(~self.late)) if self.late.any() else table
        # Exact copies go after the chunk's rows; filter + append is far cheaper than a full take.
        out.main[self.name] = pa.concat_tables([main, table.take(pa.array(dups))])
        if self.name in LATE_TABLES:
            out.late[self.name] = table.filter(pa.array(self.late))

        def keys(rows: np.ndarray) -> pa.Array:
            picked = table.take(pa.array(rows))
            return pc.binary_join_element_wise(
                *(_key_text(as_plain(picked.column(c))) for c in self.contract.key), "|"
            )

        entries = [*self.picks]
        if self.late.any():
            entries.append(("late_arriving", None, None, np.flatnonzero(self.late), False))
        source, name = self.name.split(".")
        for kind, column, reason, rows, null_key in entries:
            k = rows.size
            row_key = pa.nulls(k, pa.string()) if null_key else keys(rows)
            out.records.append(
                pa.table(
                    {
                        "source": pa.repeat(pa.scalar(source, pa.string()), k),
                        "table_name": pa.repeat(pa.scalar(name, pa.string()), k),
                        "fault_kind": pa.repeat(pa.scalar(kind, pa.string()), k),
                        "row_key": row_key,
                        "column_name": pa.repeat(pa.scalar(column, pa.string()), k),
                        "expected_reason": pa.repeat(pa.scalar(reason, pa.string()), k),
                    },
                    schema=FAULT_SCHEMA,
                )
            )


def plant_chunk_faults(
    world: World, rng: np.random.Generator, chunk: int, tables: dict[str, pa.Table], links: ChunkLinks
) -> PlantedFaults:
    """Plant every per-chunk fault; orders first, so their lines and returns can be kept clean."""
    out = PlantedFaults(main={}, late={})
    planters = {name: TablePlanter(world, rng, name, table, chunk) for name, table in tables.items()}
    for planter in planters.values():
        planter.to_text()

    # Rows whose parent is refused by a fault elsewhere would be refused too (a knock-on), so they
    # never carry a planted fault of their own: each planted fault must map to one reason.
    customers = planters["shop.customers"]
    customers.run({("null_key", "customer_id"): _accounts_with_versions(customers.cols["customer_id"])})
    dead = _dead_accounts(tables["shop.customers"].column("customer_id"), customers.cols["customer_id"])
    for name, column in ACCOUNT_REFERENCES.items():
        planters[name].taken |= pc.fill_null(
            pc.is_in(planters[name].cols[column], value_set=dead), False
        ).to_numpy(zero_copy_only=False)
    refused = (
        world.refused_products if world.refused_products is not None else np.zeros(world.catalog.size, bool)
    )
    line_refused = refused[links.line_product]

    orders = planters["shop.orders"]
    order_has_refused_product = np.bincount(links.line_order[line_refused], minlength=orders.n) > 0
    orders.taken |= order_has_refused_product
    older_half = links.order_day < world.horizon / 2
    late = orders.pick(max(2, round(world.config.rates.late_share * orders.n)), older_half)
    orders.late[late] = True
    guest = links.order_is_guest
    orders.run({("orphan_reference", "customer_id"): ~guest, ("placeholder_identifier", "email"): guest})
    order_faulted = orders.taken.copy()

    lines = planters["shop.order_lines"]
    lines.late[:] = orders.late[links.line_order]
    lines.taken |= order_faulted[links.line_order] | line_refused
    lines.run()
    order_has_bad_line = np.zeros(orders.n, dtype=bool)
    for _, _, _, rows, _ in lines.picks:
        order_has_bad_line[links.line_order[rows]] = True

    returns = planters["shop.returns"]
    returns.taken |= order_faulted[links.return_order] | order_has_bad_line[links.return_order]
    returns.taken |= refused[links.return_product]
    returns.run()

    events = planters["web.events"]
    bought = links.event_order >= 0
    events.late[:] = bought & orders.late[np.maximum(links.event_order, 0)]
    events.taken |= events.late | ((links.event_product >= 0) & refused[np.maximum(links.event_product, 0)])
    events.run()

    for name, planter in planters.items():
        if name not in ("shop.customers", "shop.orders", "shop.order_lines", "shop.returns", "web.events"):
            planter.run()
    for kind, column, _, rows, _ in planters["shop.customers"].picks:
        if kind == "placeholder_identifier":
            value = PLACEHOLDER_EMAIL if column == "email" else PLACEHOLDER_PHONE
            out.placeholders.append((column, value, links.customers_person[rows]))
    for kind, _, _, rows, _ in orders.picks:
        if kind == "placeholder_identifier":
            out.placeholders.append(("email", PLACEHOLDER_GUEST_EMAIL, links.order_person[rows]))

    orders.add_drift()
    events.add_drift()
    for planter in planters.values():
        planter.finish(out)
    return out


def _accounts_with_versions(customer_id: pa.Array) -> np.ndarray:
    """Rows of accounts with several record versions: nulling one key leaves the account alive."""
    counts = pc.value_counts(customer_id)
    multi = counts.field("values").filter(pc.greater(counts.field("counts"), 1))
    return pc.is_in(customer_id, value_set=multi).to_numpy(zero_copy_only=False)


def _dead_accounts(before: pa.ChunkedArray, after: pa.Array) -> pa.Array:
    """Accounts whose every customers row lost its key (only when no multi-version rows were left)."""
    ids = pc.unique(before.combine_chunks())
    return ids.filter(pc.invert(pc.is_in(ids, value_set=pc.unique(after.drop_null()))))


def refused_products(world: World, planted: PlantedFaults) -> np.ndarray:
    """Per internal product index: is its products row refused by staging (a quarantining fault)?"""
    keys = [
        key
        for records in planted.records
        for key, kind, reason in zip(
            records.column("row_key").to_pylist(),
            records.column("fault_kind").to_pylist(),
            records.column("expected_reason").to_pylist(),
            strict=True,
        )
        if reason is not None and kind != "duplicate"
    ]
    return pc.is_in(world.catalog.ids, value_set=pa.array(keys, pa.string())).to_numpy(zero_copy_only=False)


def plant_product_faults(world: World, rng: np.random.Generator, products: pa.Table) -> PlantedFaults:
    out = PlantedFaults(main={}, late={})
    planter = TablePlanter(world, rng, "shop.products", products, chunk=0)
    planter.to_text()
    planter.run()
    planter.finish(out)
    return out


def unknown_column_records() -> pa.Table:
    """One record per table with a drift column: a schema fault, not a row fault."""
    names = sorted(DRIFT_COLUMNS)
    return pa.table(
        {
            "source": [n.split(".")[0] for n in names],
            "table_name": [n.split(".")[1] for n in names],
            "fault_kind": ["unknown_column"] * len(names),
            "row_key": pa.nulls(len(names), pa.string()),
            "column_name": [DRIFT_COLUMNS[n] for n in names],
            "expected_reason": pa.nulls(len(names), pa.string()),
        },
        schema=FAULT_SCHEMA,
    )


def records_of_tables(records: pa.Table, tables: set[str]) -> pa.Table:
    """Fault records of the given tables only (a shape plants faults on tables it does not write)."""
    qualified = pc.binary_join_element_wise(records.column("source"), records.column("table_name"), ".")
    return records.filter(pc.is_in(qualified, value_set=pa.array(sorted(tables), type=pa.string())))
