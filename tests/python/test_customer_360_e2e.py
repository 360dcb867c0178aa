"""End to end: generate raw data with every fault kind, build the customer 360 with dbt,
and hold it to the generator's truth: every staged order reaches one customer, the 360
has one row per known customer, its revenue reconciles with staging, and the planted
needs segments show in the category mix.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from orchestration.dbt_cli import DbtWorkspace

pytestmark = pytest.mark.slow

# The category each planted segment buys most (orchestration/devtools/sample_data/config.py):
# its members must have the highest average share of it among all segments.
SEGMENT_TOP_CATEGORY = {
    "bargain_families": "kids",
    "tech_enthusiasts": "electronics",
    "style_seekers": "fashion",
    "home_makers": "home",
    "outdoor_actives": "sports",
}


def _query(workspace: DbtWorkspace, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(workspace.duckdb_path), read_only=True) as connection:
        return connection.execute(sql).df()


@pytest.fixture(scope="module")
def build(full_build: DbtWorkspace) -> DbtWorkspace:
    """The session's full build (3,000 customers, every fault kind): read only."""
    return full_build


def _truth(workspace: DbtWorkspace, name: str) -> pd.DataFrame:
    return pd.read_parquet(Path(workspace.raw_path) / "_truth" / f"{name}.parquet")


def _key_persons(workspace: DbtWorkspace) -> pd.DataFrame:
    """customer_key -> the true person who placed most of its orders."""
    orders = _query(workspace, "select order_id, customer_key from intermediate.int_customer__orders")
    owned = orders.merge(_truth(workspace, "orders")[["order_id", "person_id"]], on="order_id")
    counts = owned.groupby(["customer_key", "person_id"]).size().rename("orders").reset_index()
    counts = counts.sort_values(["customer_key", "orders", "person_id"], ascending=[True, False, True])
    return counts.drop_duplicates("customer_key")[["customer_key", "person_id"]]


def test_every_staged_order_reaches_one_customer_key(build: DbtWorkspace) -> None:
    staged = _query(build, "select order_id from staging.stg_shop__orders")
    attributed = _query(
        build, "select order_id, customer_key, attribution_method from intermediate.int_customer__orders"
    )
    print(f"staged orders={len(staged)}; by method: {attributed.attribution_method.value_counts().to_dict()}")
    assert len(attributed) == len(staged)
    assert attributed.order_id.is_unique
    assert set(attributed.order_id) == set(staged.order_id)
    assert attributed.customer_key.notna().all()

    # Orders of one key should belong to one true person.
    truth = _truth(build, "orders")[["order_id", "person_id"]]
    owned = attributed.merge(truth, on="order_id").merge(
        _key_persons(build), on="customer_key", suffixes=("", "_of_key")
    )
    purity = (owned.person_id == owned.person_id_of_key).mean()
    keys_per_person = owned.groupby("person_id").customer_key.nunique()
    print(
        f"orders whose key's main person is their true person: {purity:.4f}; "
        f"persons split over several keys: {(keys_per_person > 1).sum()} of {len(keys_per_person)}"
    )
    assert purity >= 0.98


def test_customer_360_has_one_row_per_known_customer(build: DbtWorkspace) -> None:
    c360 = _query(build, "select customer_key from customer_360.customer_360")
    known = _query(
        build, "select distinct customer_key from customer_360.identity_map where is_known_customer"
    )
    persons = _truth(build, "person_parameters")
    print(
        f"customer_360 rows={len(c360)}; known keys={len(known)}; true non-anonymous persons="
        f"{(persons.person_type != 'anonymous_visitor').sum()}"
    )
    assert c360.customer_key.is_unique
    assert c360.customer_key.notna().all()
    assert set(c360.customer_key) == set(known.customer_key)


def test_revenue_reconciles_with_staging(build: DbtWorkspace) -> None:
    staged = _query(
        build,
        "select sum(lines.net_amount) as revenue, count(distinct orders.order_id) as orders "
        "from staging.stg_shop__orders as orders "
        "left join staging.stg_shop__order_lines as lines on orders.order_id = lines.order_id "
        "where orders.status != 'cancelled'",
    )
    c360 = _query(
        build,
        "select sum(net_revenue) as revenue, sum(orders_count) as orders from customer_360.customer_360",
    )
    # Anonymous purchases (guest orders no identifier links to anyone) are revenue, not a customer's.
    anonymous = _query(
        build,
        "select coalesce(sum(net_amount), 0) as revenue, count(*) as orders "
        "from intermediate.int_customer__orders where not is_cancelled and not is_known_customer",
    )
    print(
        f"net revenue: staged={staged.revenue[0]:.2f} customer_360={c360.revenue[0]:.2f} "
        f"anonymous={anonymous.revenue[0]:.2f}; orders: staged={staged.orders[0]} "
        f"customer_360={int(c360.orders[0])} anonymous={anonymous.orders[0]}"
    )
    assert float(c360.revenue[0]) + float(anonymous.revenue[0]) == pytest.approx(
        float(staged.revenue[0]), abs=0.01
    )
    assert int(c360.orders[0]) + int(anonymous.orders[0]) == int(staged.orders[0])
    # In the full world only guest orders with an unusable (blocklisted) email are anonymous: a handful.
    assert int(anonymous.orders[0]) <= 0.01 * int(staged.orders[0])


def test_planted_segments_show_in_the_category_mix(build: DbtWorkspace) -> None:
    share_columns = [f"category_share_{c}" for c in sorted(set(SEGMENT_TOP_CATEGORY.values()))]
    c360 = _query(
        build,
        f"select customer_key, {', '.join(share_columns)} from customer_360.customer_360 where net_revenue > 0",
    )
    segments = _truth(build, "segments")[["person_id", "segment_name"]]
    buyers = c360.merge(_key_persons(build), on="customer_key").merge(segments, on="person_id")
    assert len(buyers) > 0.9 * len(c360)
    means = buyers.groupby("segment_name")[share_columns].mean()
    print(f"mean category share by planted segment ({len(buyers)} buyers):\n{means.round(3).to_string()}")
    for segment, category in SEGMENT_TOP_CATEGORY.items():
        column = f"category_share_{category}"
        assert means[column].idxmax() == segment, f"{segment} should lead {column}"
