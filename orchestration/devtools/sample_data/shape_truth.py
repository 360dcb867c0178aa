"""_truth/shape.json: what a pipeline must recover from one shape's raw files, in one place.

Every shape writes it (full included), with the same keys, so end-to-end tests read one file
whatever the shape: the tables written, revenue identified vs unidentified, Pareto shares on
identified persons, the planted BG/NBD and Gamma-Gamma parameters, revenue per currency; plus a
section per shape (anonymous buyers; the music vocabulary, sales channels and the outside
experiment's arms; the exchange rates).
"""

from __future__ import annotations

import pyarrow as pa

from orchestration.devtools.sample_data.config import (
    ANONYMOUS_BUYER_SHARE,
    CATEGORIES,
    CURRENCY_BASE_RATES,
    DOLLAR_BUYER_SHARE,
    EXTERNAL_ARMS,
    EXTERNAL_CAMPAIGN_ID,
    EXTERNAL_INCLUSION,
    MUSIC_CATEGORIES,
    PHONE_CHANNEL_SHARES,
    REPORTING_CURRENCY,
)
from orchestration.devtools.sample_data.currency import CURRENCIES
from orchestration.devtools.sample_data.external import external_assigned_at
from orchestration.devtools.sample_data.revenue import revenue_truth
from orchestration.devtools.sample_data.sales_channels import SALES_CHANNELS
from orchestration.devtools.sample_data.shapes import EXPERIMENT, MULTI_CURRENCY, ORDERS_ONLY
from orchestration.devtools.sample_data.truth import process_json
from orchestration.devtools.sample_data.world import World

ARM_FIGURES = (
    "n_treatment",
    "n_control",
    "n_responsive",
    "true_effect_purchase_probability",
    "true_effect_revenue",
    "baseline_conversion_rate",
    "baseline_revenue_per_customer",
    "incremental_purchases",
    "observed_conversion_treatment",
    "observed_conversion_control",
    "observed_revenue_treatment",
    "observed_revenue_control",
    "note",
)


def _counts(stats: dict[str, pa.Table]) -> dict[str, int]:
    table = stats.get("shape_counts")
    return {} if table is None else {name: int(table.column(name)[0].as_py()) for name in table.column_names}


def _rounded(value: object) -> object:
    return round(value, 6) if isinstance(value, float) else value


def external_experiment(world: World, effects: pa.Table) -> dict:
    """The outside experiment's planted arms and their truth (rows of treatment_effects.parquet)."""
    rows = [
        r
        for r in effects.to_pylist()
        if r["level"] == "campaign" and r["campaign_id"] == EXTERNAL_CAMPAIGN_ID
    ]
    arms = {r["treatment_code"]: {k: _rounded(r[k]) for k in ARM_FIGURES} for r in rows}
    enabled = world.config.effects
    for arm in EXTERNAL_ARMS:
        if arm.treatment_code in arms:
            arms[arm.treatment_code]["planted_purchase_probability"] = arm.effect.purchase if enabled else 0.0
            arms[arm.treatment_code]["planted_spend_change"] = arm.effect.spend if enabled else 0.0
    assigned = pa.scalar(external_assigned_at(world) * 1_000_000, pa.timestamp("us", tz="UTC")).as_py()
    return {
        "campaign_id": EXTERNAL_CAMPAIGN_ID,
        "assigned_at": assigned.isoformat(),
        "inclusion": EXTERNAL_INCLUSION,
        "arm_shares": {a.treatment_code: round(a.share, 6) for a in EXTERNAL_ARMS},
        "n_control": rows[0]["n_control"] if rows else 0,
        "control_rows": "group = 'control' with a null treatment_code: control for every arm of the campaign",
        "arms": arms,
        "truth_files": ["treatment_effects.parquet", "external_assignment_outcomes.parquet"],
    }


def shape_json(
    world: World, stats: dict[str, pa.Table], samples: dict[str, pa.Table], effects: pa.Table
) -> dict:
    """The content of _truth/shape.json (see the module docstring)."""
    shape, cfg = world.shape, world.config
    process = process_json(world)
    counts = _counts(stats)
    payload: dict = {
        "shape": shape.name,
        "description": shape.description,
        "tables": list(shape.tables),
        "date_only_columns": {
            name: list(shape.date_only_columns(name))
            for name in shape.tables
            if shape.date_only_columns(name)
        },
        **revenue_truth(stats["revenue"], samples, REPORTING_CURRENCY),
        "time_unit": process["time_unit"],
        "bg_nbd": process["bg_nbd"],
        "gamma_gamma": process["gamma_gamma"],
        "effects_enabled": cfg.effects,
        "observation_start": process["observation_start"],
        "observation_end": process["observation_end"],
    }
    if shape.name == ORDERS_ONLY:
        payload["anonymous_buyers"] = {
            "planted_share": ANONYMOUS_BUYER_SHARE,
            "persons": counts.get("anonymous_buyers", 0),
            "definition": "buyers none of whose orders carries a customer_id or an email; they own no account",
            "notes": "_truth/orders.parquet still names the true person behind every anonymous order",
        }
    if shape.name == EXPERIMENT:
        payload["category_mapping"] = dict(MUSIC_CATEGORIES)
        payload["categories"] = [MUSIC_CATEGORIES[c] for c in CATEGORIES]
        payload["sales_channels"] = {c: counts.get(f"orders_{c}", 0) for c in SALES_CHANNELS}
        payload["phone_channels"] = {
            "values": list(PHONE_CHANNEL_SHARES),
            "planted_shares": PHONE_CHANNEL_SHARES,
        }
        payload["external_experiment"] = external_experiment(world, effects)
    if shape.name == MULTI_CURRENCY:
        rates = world.exchange_rates
        assert rates is not None
        payload["exchange_rates"] = {
            "table": "shop.exchange_rates",
            "currencies": list(CURRENCIES),
            "includes_reporting_currency": True,
            "rate": "units of the reporting currency for one unit of the currency (EUR rows have rate 1)",
            "rate_date": "first day of each month; an order uses its currency's rate of its month (UTC)",
            "months": int(rates.rates.shape[1]),
            "base_rates": dict(CURRENCY_BASE_RATES),
            "dollar_buyer_share": DOLLAR_BUYER_SHARE,
            "notes": (
                "the other truth files (orders.parquet net_revenue, person_parameters spend) are in the"
                " reporting currency: an order's raw amounts are its EUR amounts divided by the rate and"
                " rounded to cents"
            ),
        }
    return payload
