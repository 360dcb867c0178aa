"""Planted ground truth (DIR/_truth): who is who, segments, process parameters, order ownership.

Identity truth is derived from the clean rows actually generated (not from what a person could
have used), so every identifier in the clean raw data is present and nothing is listed that
never appears, except placeholder identifiers planted by faults, which are flagged.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.devtools.sample_data.arrays import SECONDS_PER_DAY, take_strings, ts_array
from orchestration.devtools.sample_data.config import (
    COUNTRIES,
    EXTERNAL_CAMPAIGN_ID,
    PERSON_TYPES,
    RCT_CAMPAIGNS,
    SEGMENTS,
    VALUE_TIERS,
)
from orchestration.devtools.sample_data.ids import format_ids
from orchestration.devtools.sample_data.orders import Orders
from orchestration.devtools.sample_data.persons import Persons
from orchestration.devtools.sample_data.purchases import BASELINE, PURCHASE_SOURCES, PurchaseProcess
from orchestration.devtools.sample_data.world import (
    World,
    expected_annual_spend,
    observation_window,
    value_tiers,
)

# Campaign of an incremental purchase by its cause index: the RCTs, then the outside experiment.
CAUSE_CAMPAIGN_IDS: tuple[str, ...] = (*(c.campaign_id for c in RCT_CAMPAIGNS), EXTERNAL_CAMPAIGN_ID)
PERSONS_SCHEMA = pa.schema(
    [
        ("identifier_type", pa.string()),
        ("identifier_value", pa.string()),
        ("person_id", pa.string()),
        ("is_shared", pa.bool_()),
        ("is_placeholder", pa.bool_()),
    ]
)


def person_ids(gidx: np.ndarray) -> pa.Array:
    return format_ids("PRS", gidx, 9)


def normalise_email(arr: pa.Array) -> pa.Array:
    """How staging normalises emails: lower(trim())."""
    return pc.utf8_lower(pc.utf8_trim(arr, characters=" "))


def normalise_phone(arr: pa.Array) -> pa.Array:
    """How staging normalises phones: digits only."""
    return pc.replace_substring_regex(arr, pattern="[^0-9]", replacement="")


def identity_rows(
    parts: list[tuple[str, pa.Array, np.ndarray]],
    placeholders: list[tuple[str, str, np.ndarray]],
    gidx: np.ndarray,
) -> pa.Table:
    """Unique (type, value, person) rows; shared = used by more than one person of the chunk.

    `parts` holds (identifier_type, normalised values, local person per value); nulls are dropped.
    Households and duplicate accounts never cross chunks, so per-chunk sharing is global sharing.
    """
    types, values, persons, placeholder = [], [], [], []
    for kind, vals, who in parts:
        valid = pc.is_valid(vals)
        types.append(pa.repeat(pa.scalar(kind), int(pc.sum(valid).as_py() or 0)))
        values.append(vals.filter(valid))
        persons.append(who[valid.to_numpy(zero_copy_only=False)])
        placeholder.append(np.zeros(len(persons[-1]), bool))
    for kind, value, who in placeholders:
        types.append(pa.repeat(pa.scalar(kind), len(who)))
        values.append(pa.repeat(pa.scalar(value), len(who)))
        persons.append(who)
        placeholder.append(np.ones(len(who), bool))
    table = pa.table(
        {
            "identifier_type": pa.concat_arrays([t.cast(pa.string()) for t in types]),
            "identifier_value": pa.concat_arrays([v.cast(pa.string()) for v in values]),
            "person": pa.array(np.concatenate(persons).astype(np.int64)),
            "is_placeholder": pa.array(np.concatenate(placeholder)),
        }
    )
    unique = table.group_by(
        ["identifier_type", "identifier_value", "person", "is_placeholder"], use_threads=False
    ).aggregate([])
    counts = unique.group_by(["identifier_type", "identifier_value"], use_threads=False).aggregate(
        [("person", "count")]
    )
    unique = unique.join(counts, keys=["identifier_type", "identifier_value"], use_threads=False)
    unique = unique.sort_by(
        [("identifier_type", "ascending"), ("identifier_value", "ascending"), ("person", "ascending")]
    )
    return pa.table(
        {
            "identifier_type": unique.column("identifier_type"),
            "identifier_value": unique.column("identifier_value"),
            "person_id": person_ids(gidx[unique.column("person").to_numpy()]),
            "is_shared": pc.greater(unique.column("person_count"), 1),
            "is_placeholder": unique.column("is_placeholder"),
        },
        schema=PERSONS_SCHEMA,
    )


def segments_table(gidx: np.ndarray, segment: np.ndarray) -> pa.Table:
    return pa.table(
        {
            "person_id": person_ids(gidx),
            "segment_id": pa.array(segment + 1, type=pa.int64()),
            "segment_name": take_strings([s.name for s in SEGMENTS], segment),
        }
    )


def parameters_table(world: World, persons: Persons, process: PurchaseProcess) -> pa.Table:
    n = persons.size
    buyer = np.zeros(n, bool)
    buyer[process.buyers] = True

    def per_person(values: np.ndarray, fill: float = np.nan) -> np.ndarray:
        out = np.full(n, fill, dtype=float)
        out[process.buyers] = values
        return out

    gg_p = world.config.gamma_gamma.p
    incremental = np.bincount(
        process.buyer_pos[process.source != BASELINE], minlength=len(process.buyers)
    ).astype(float)
    tiers = value_tiers(world, process.lam, process.nu).astype(float)
    acquired = per_person(process.acquired)
    dropout = per_person(process.dropout)
    start = world.start_epoch
    acq_secs = start + np.floor(np.nan_to_num(acquired) * SECONDS_PER_DAY).astype(np.int64)
    drop_secs = start + np.floor(np.nan_to_num(dropout) * SECONDS_PER_DAY).astype(np.int64)
    return pa.table(
        {
            "person_id": person_ids(persons.gidx),
            "person_type": take_strings(PERSON_TYPES, persons.kind),
            "segment_id": pa.array(persons.segment + 1, type=pa.int64()),
            "country": take_strings([c.code for c in COUNTRIES], persons.country),
            "purchase_rate_per_day": pa.array(per_person(process.lam), mask=~buyer),
            "dropout_probability": pa.array(per_person(process.p), mask=~buyer),
            "spend_nu": pa.array(per_person(process.nu), mask=~buyer),
            "mean_spend": pa.array(per_person(gg_p / process.nu), mask=~buyer),
            "acquired_at": ts_array(acq_secs, ~buyer),
            "dropout_at": ts_array(drop_secs, np.isnan(dropout)),
            "n_repeat_purchases": pa.array(per_person(process.n_repeat, 0.0).astype(np.int64), mask=~buyer),
            "is_alive_at_end": pa.array(buyer & np.isnan(dropout), mask=~buyer),
            # Purchases the planted effects added on top of the BG/NBD process (campaigns, loyalty).
            "n_incremental_purchases": pa.array(per_person(incremental, 0.0).astype(np.int64), mask=~buyer),
            "expected_annual_spend": pa.array(
                per_person(expected_annual_spend(world.config, process.lam, process.nu)), mask=~buyer
            ),
            "value_tier": take_strings(VALUE_TIERS, per_person(tiers, 0.0).astype(np.int64), ~buyer),
        }
    )


def orders_truth(orders: Orders, process: PurchaseProcess, gidx: np.ndarray) -> pa.Table:
    """Order -> person; for purchases also what caused them and their value without campaigns.

    purchase_source: baseline (the BG/NBD process), campaign (an RCT's or the outside
    experiment's incremental purchase; effect_campaign_id says which) or loyalty (a changed
    member's extra purchase); null for cancelled orders. baseline_net_revenue: the value without any campaign effect (0 for a
    campaign purchase, which would not exist).
    """
    purchase = orders.purchase
    is_purchase = purchase >= 0
    at = np.maximum(purchase, 0)
    cause = np.where(is_purchase, process.cause[at], -1)
    baseline = np.where(is_purchase, process.baseline_cents[at], orders.value_cents)
    return pa.table(
        {
            "order_id": orders.order_id,
            "person_id": person_ids(gidx[orders.person]),
            "is_purchase_occasion": pa.array(orders.is_purchase),
            "net_revenue": pa.array(np.round(orders.value_cents / 100.0, 2)),
            "purchase_source": take_strings(PURCHASE_SOURCES, process.source[at], ~is_purchase),
            "effect_campaign_id": take_strings(CAUSE_CAMPAIGN_IDS, np.maximum(cause, 0), cause < 0),
            "baseline_net_revenue": pa.array(np.round(baseline / 100.0, 2)),
        }
    )


def process_json(world: World) -> dict:
    cfg = world.config
    start, end = observation_window(cfg)
    bg, gg = cfg.bg_nbd, cfg.gamma_gamma
    return {
        "time_unit": "day",
        "bg_nbd": {"r": bg.r, "alpha": bg.alpha, "a": bg.a, "b": bg.b},
        "gamma_gamma": {"p": gg.p, "q": gg.q, "gamma": gg.gamma},
        "observation_start": start.isoformat(),
        "observation_end": end.isoformat(),
        "seed": cfg.seed,
        "notes": "purchase occasions = non-cancelled orders; order revenue = net of line discounts, before returns",
    }


def write_json(path: Path, payload: dict) -> None:
    path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n", encoding="utf-8")
