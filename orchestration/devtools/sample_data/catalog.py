"""The product catalogue, shared by every chunk.

Products are kept internally sorted by (category, tier, price) so that an order line can pick
"a product of this category and tier that costs at most X" with one searchsorted, which is
what lets baskets hit a planted order value without a per-order loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from orchestration.devtools.sample_data.arrays import join, money, take_strings
from orchestration.devtools.sample_data.config import CATEGORIES, TIERS
from orchestration.devtools.sample_data.ids import format_ids
from orchestration.devtools.sample_data.vocab import (
    BRANDS,
    CATEGORY_BASE_PRICE,
    MODEL_WORDS,
    SUBCATEGORIES,
    TIER_PRICE_MULTIPLIER,
)

CATEGORY_PRODUCT_WEIGHTS = np.array([0.18, 0.10, 0.15, 0.14, 0.12, 0.10, 0.11, 0.10])
TIER_PRODUCT_WEIGHTS = np.array([0.40, 0.40, 0.20])
MIN_PER_CELL = 3
PRICE_KEY_SPAN = 10**9  # > any price or budget in cents, so cell * span + cents sorts by cell, then price


@dataclass(frozen=True)
class Catalog:
    """Products in internal (category, tier, price) order; `ids[i]` is product i's product_id."""

    ids: pa.Array
    category: np.ndarray
    tier: np.ndarray
    price_cents: np.ndarray
    cost_cents: np.ndarray
    cell_start: np.ndarray  # [category, tier] -> first internal index
    cell_count: np.ndarray
    cell_key: np.ndarray  # category * 3 + tier, scaled, plus price: sorted ascending
    by_price: np.ndarray  # internal indices sorted by price
    by_category_price: np.ndarray  # internal indices sorted by (category, price), whatever the tier
    category_key: np.ndarray  # category * span + price, in by_category_price order
    category_start: np.ndarray  # first position of each category in by_category_price
    table: pa.Table  # the clean shop.products table, sorted by product_id

    @property
    def size(self) -> int:
        return len(self.price_cents)


def _cell_counts(n: int) -> np.ndarray:
    cells = len(CATEGORIES) * len(TIERS)
    n = max(n, cells * MIN_PER_CELL)
    weights = np.outer(CATEGORY_PRODUCT_WEIGHTS, TIER_PRODUCT_WEIGHTS).ravel()
    weights /= weights.sum()
    spare = n - cells * MIN_PER_CELL
    raw = weights * spare
    counts = np.floor(raw).astype(np.int64)
    # Largest remainders get the leftovers, so the catalogue has exactly n products.
    leftovers = spare - counts.sum()
    counts[np.argsort(-(raw - counts), kind="stable")[:leftovers]] += 1
    return (counts + MIN_PER_CELL).reshape(len(CATEGORIES), len(TIERS))


def build_catalog(rng: np.random.Generator, n_products: int) -> Catalog:
    counts = _cell_counts(n_products)
    n = int(counts.sum())
    cell = np.repeat(np.arange(counts.size), counts.ravel())
    category = cell // len(TIERS)
    tier = cell % len(TIERS)

    base = np.array([CATEGORY_BASE_PRICE[c] for c in CATEGORIES])[category]
    price = base * np.array(TIER_PRICE_MULTIPLIER)[tier] * rng.lognormal(0.0, 0.6, n)
    endings = np.array([1, 5, 51])[rng.integers(0, 3, n)]
    price_cents = np.maximum(99, np.round(price).astype(np.int64) * 100 - endings)
    cost_cents = np.round(price_cents * rng.uniform(0.35, 0.75, n)).astype(np.int64)

    order = np.lexsort((price_cents, cell))
    category, tier, price_cents, cost_cents = (
        category[order],
        tier[order],
        price_cents[order],
        cost_cents[order],
    )
    cell = cell[order]
    cell_start = np.concatenate([[0], np.cumsum(counts.ravel())[:-1]]).reshape(counts.shape)

    category_key = category * PRICE_KEY_SPAN + price_cents
    by_category_price = np.argsort(category_key, kind="stable")

    # Product numbers are a shuffle so that ids do not reveal category or price order.
    numbers = rng.permutation(n) + 1
    ids = format_ids("P", numbers, 6)

    sub_vocab = [s for c in CATEGORIES for s in SUBCATEGORIES[c]]
    sub_start = np.cumsum([0] + [len(SUBCATEGORIES[c]) for c in CATEGORIES])
    sub_n = np.diff(sub_start)
    sub_idx = sub_start[category] + np.floor(rng.random(n) * sub_n[category]).astype(np.int64)
    brand_vocab = [b for c in CATEGORIES for b in BRANDS[c]]
    brand_start = np.cumsum([0] + [len(BRANDS[c]) for c in CATEGORIES])
    brand_n = np.diff(brand_start)
    brand_idx = brand_start[category] + np.floor(rng.random(n) * brand_n[category]).astype(np.int64)
    model_idx = rng.integers(0, len(MODEL_WORDS), n)

    brand = take_strings(brand_vocab, brand_idx)
    subcategory = take_strings(sub_vocab, sub_idx)
    title_sub = take_strings([s[:1].upper() + s[1:] for s in sub_vocab], sub_idx)
    name = join(brand, " ", take_strings(MODEL_WORDS, model_idx), " ", title_sub)

    table = pa.table(
        {
            "product_id": ids,
            "name": name,
            "category": take_strings(CATEGORIES, category),
            "subcategory": subcategory,
            "brand": brand,
            "list_price": money(price_cents),
            "unit_cost": money(cost_cents),
        }
    ).take(pa.array(np.argsort(numbers, kind="stable")))

    return Catalog(
        ids=ids,
        category=category,
        tier=tier,
        price_cents=price_cents,
        cost_cents=cost_cents,
        cell_start=cell_start,
        cell_count=counts,
        cell_key=cell * PRICE_KEY_SPAN + price_cents,
        by_price=np.argsort(price_cents, kind="stable"),
        by_category_price=by_category_price,
        category_key=category_key[by_category_price],
        category_start=np.searchsorted(
            category_key[by_category_price], np.arange(len(CATEGORIES)) * PRICE_KEY_SPAN
        ),
        table=table,
    )
