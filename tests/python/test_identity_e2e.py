"""Identity resolution against the generator's planted persons.

Builds the default sample (the demo's 10,000 customers, seed 7, all faults) twice:
as of the day before the last day of data (models and seeds only), then as of the latest
data with the data tests, so the key snapshot sees one more day arrive. Figures are
printed (pytest -s) and recorded in docs/customer-360.md.
"""

from __future__ import annotations

import json

import duckdb
import pandas as pd
import pytest

from orchestration.dbt_cli import DbtWorkspace, run_dbt
from orchestration.devtools.sample_data import GeneratorConfig, generate

pytestmark = pytest.mark.slow

IDENTITY_MODELS = "+identity_map +identity_components +identity_graph_summary +customer_key_history"


def _pairs(group_sizes: pd.Series) -> int:
    return int((group_sizes * (group_sizes - 1) // 2).sum())


def _query(workspace: DbtWorkspace, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(workspace.duckdb_path), read_only=True) as connection:
        return connection.execute(sql).df()


@pytest.fixture(scope="module")
def resolved(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("identity")
    raw = root / "raw"
    generate(GeneratorConfig(customers=10_000, seed=7, out=raw, faults=True))
    workspace = DbtWorkspace(raw, root / "warehouse.duckdb", root / "dbt")
    end = json.loads((raw / "_truth" / "manifest.json").read_text())["arguments"]["end_date"]
    day_before = (pd.Timestamp(end) - pd.Timedelta(days=2)).date().isoformat()

    first = run_dbt(
        [
            "build",
            "--indirect-selection",
            "cautious",
            "--select",
            IDENTITY_MODELS,
            "--vars",
            f"{{as_of: '{day_before}'}}",
            # The data tests run once, on the second build.
            "--exclude-resource-type",
            "test",
            "unit_test",
        ],
        workspace,
    )
    assert first.returncode == 0, first.stdout[-5000:]
    keys_before = _query(workspace, "select identity_map_id, customer_key from customer_360.identity_map")
    second = run_dbt(["build", "--indirect-selection", "cautious", "--select", IDENTITY_MODELS], workspace)
    assert second.returncode == 0, second.stdout[-5000:]
    return {"raw": raw, "workspace": workspace, "keys_before": keys_before, "day_before": day_before}


def test_resolved_persons_match_planted_persons(resolved: dict) -> None:
    truth = pd.read_parquet(resolved["raw"] / "_truth" / "persons.parquet")
    truth = truth[~truth.is_shared & ~truth.is_placeholder]
    resolved_map = _query(
        resolved["workspace"],
        "select identifier_type, identifier_value, customer_key from customer_360.identity_map",
    )
    joined = resolved_map.merge(truth, on=["identifier_type", "identifier_value"])
    together = _pairs(joined.groupby(["customer_key", "person_id"]).size())
    precision = together / _pairs(joined.groupby("customer_key").size())
    recall = together / _pairs(joined.groupby("person_id").size())
    coverage = len(joined) / len(truth)
    print(
        f"\nidentity resolution, 10,000 customers with faults: pairwise precision {precision:.4f}, "
        f"recall {recall:.4f}, planted identifiers resolved {coverage:.4f}"
    )
    assert precision >= 0.99
    assert recall >= 0.99


def _main_keys(resolved: dict) -> pd.DataFrame:
    """Each planted person's key: where most of the person's accounts, emails, phones and
    member ids are (cookies only count for persons who have nothing else)."""
    truth = pd.read_parquet(resolved["raw"] / "_truth" / "persons.parquet")
    truth = truth[~truth.is_shared & ~truth.is_placeholder]
    resolved_map = _query(
        resolved["workspace"],
        "select identifier_type, identifier_value, customer_key from customer_360.identity_map",
    )
    joined = resolved_map.merge(truth, on=["identifier_type", "identifier_value"])
    joined["weight"] = (joined.identifier_type != "anonymous_id") * 1000 + 1
    weights = joined.groupby(["person_id", "customer_key"]).weight.sum()
    return (
        weights.reset_index()
        .sort_values(["person_id", "weight", "customer_key"])
        .drop_duplicates("person_id", keep="last")
    )


def test_every_staged_order_reaches_a_customer_key(resolved: dict) -> None:
    unresolved = _query(
        resolved["workspace"],
        """
        select count(*) as n
        from staging.stg_shop__orders as orders
        left join customer_360.identity_map as by_account
            on by_account.identifier_type = 'customer_id' and orders.customer_id = by_account.identifier_value
        left join customer_360.identity_map as by_email
            on by_email.identifier_type = 'email' and orders.email = by_email.identifier_value
        left join customer_360.identity_map as by_order
            on by_order.identifier_type = 'guest_order' and orders.order_id = by_order.identifier_value
        where coalesce(by_account.customer_key, by_email.customer_key, by_order.customer_key) is null
        """,
    ).n[0]
    assert unresolved == 0


def test_guest_orders_and_anonymous_sessions_land_on_their_person(resolved: dict) -> None:
    main = _main_keys(resolved).set_index("person_id").customer_key
    order_owner = pd.read_parquet(
        resolved["raw"] / "_truth" / "orders.parquet", columns=["order_id", "person_id"]
    )
    guest_orders = _query(
        resolved["workspace"],
        """
        select
            orders.order_id,
            coalesce(by_email.customer_key, by_order.customer_key) as customer_key,
            -- Evidence anyone could use: a usable email, or a confirmation page seen by a cookie.
            by_email.customer_key is not null
            or exists (select 1 from staging.stg_web__events as events where events.order_id = orders.order_id)
            as has_evidence
        from staging.stg_shop__orders as orders
        left join customer_360.identity_map as by_email
            on by_email.identifier_type = 'email' and orders.email = by_email.identifier_value
        left join customer_360.identity_map as by_order
            on by_order.identifier_type = 'guest_order' and orders.order_id = by_order.identifier_value
        where orders.customer_id is null
        """,
    ).merge(order_owner, on="order_id")
    traceable = guest_orders[guest_orders.has_evidence]
    guest_right = (traceable.customer_key == traceable.person_id.map(main)).mean()

    truth = pd.read_parquet(resolved["raw"] / "_truth" / "persons.parquet")
    cookies = truth[(truth.identifier_type == "anonymous_id") & ~truth.is_shared]
    anonymous = _query(
        resolved["workspace"],
        """
        with evidence as (
            -- Cookies that ever showed who uses them: a login or an order confirmation.
            select distinct anonymous_id from staging.stg_web__events
            where user_id is not null or order_id is not null
        )

        select
            events.anonymous_id,
            map.customer_key,
            evidence.anonymous_id is not null as has_evidence,
            count(*) as events
        from staging.stg_web__events as events
        inner join customer_360.identity_map as map
            on map.identifier_type = 'anonymous_id' and events.anonymous_id = map.identifier_value
        left join evidence on events.anonymous_id = evidence.anonymous_id
        where events.user_id is null
        group by 1, 2, 3
        """,
    ).merge(cookies, left_on="anonymous_id", right_on="identifier_value")
    anonymous = anonymous[anonymous.person_id.isin(main.index)]
    unlinkable_events = anonymous.events[~anonymous.has_evidence].sum()
    anonymous = anonymous[anonymous.has_evidence]
    on_person = anonymous.customer_key == anonymous.person_id.map(main)
    session_right = anonymous.events[on_person].sum() / anonymous.events.sum()
    print(
        f"\nguest orders on their person's key: {guest_right:.4f} of {len(traceable)} "
        f"({len(guest_orders) - len(traceable)} more carry no identifier at all: placeholder email, in store); "
        f"anonymous events of known persons on their key: {session_right:.4f} "
        f"({unlinkable_events} more on cookies that never logged in nor confirmed an order)"
    )
    assert len(traceable) > 0 and guest_right >= 0.99
    assert session_right >= 0.99


def test_one_more_day_keeps_unmerged_keys(resolved: dict) -> None:
    before = resolved["keys_before"]
    after = _query(
        resolved["workspace"], "select identity_map_id, customer_key from customer_360.identity_map"
    )
    both = before.merge(after, on="identity_map_id", suffixes=("_before", "_after"))
    moved = both[both.customer_key_before != both.customer_key_after]
    # A key may only change when the new key gathers identifiers of two or more earlier keys.
    sources = both.groupby("customer_key_after").customer_key_before.nunique()
    assert (moved.customer_key_after.map(sources) >= 2).all()
    history = _query(
        resolved["workspace"],
        "select previous_customer_key, customer_key from customer_360.customer_key_history",
    )
    recorded = set(map(tuple, history.to_numpy()))
    assert set(zip(moved.customer_key_before, moved.customer_key_after, strict=True)) <= recorded
    print(
        f"\none more day of data ({resolved['day_before']} -> latest): {len(both)} identifiers kept, "
        f"{len(moved)} moved by {moved.customer_key_after.nunique()} merges, all recorded in customer_key_history"
    )
