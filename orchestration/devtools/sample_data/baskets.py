"""Order lines that add up exactly to a planted net order value.

Each order has a Gamma-Gamma net value z (cents). Lines are filled slot by slot (at most six,
a fixed loop over slots, vectorised over orders): a *filler* line takes a product of the
segment's category/tier mix that is cheaper than what is still needed, so the basket never
overshoots early; a *closing* line takes a product priced between the remaining need and the
remaining gross budget G = z / (1 - 2 d), d being the segment's discount target. The basket's
gross then lies in [z, G], the discount (gross - z) averages about d of gross, and the net
revenue sum(quantity * unit_price - discount_amount) equals z to the cent. When the category
cell has no product in that price band, the closing line falls back to any product in the band,
then to the cheapest product above the need, then to the dearest product with a raised quantity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from orchestration.devtools.sample_data.arrays import categorical_rows
from orchestration.devtools.sample_data.catalog import PRICE_KEY_SPAN, Catalog
from orchestration.devtools.sample_data.world import SegmentMatrices

MAX_LINES = 6
CLOSE_PROBABILITY = (0.35, 0.45, 0.5, 0.55, 0.6, 1.0)
DOUBLE_QUANTITY_SHARE = 0.12
CANDIDATES = 4


@dataclass(frozen=True)
class Baskets:
    """Lines in order-major order: `order` is the position of the order each line belongs to."""

    order: np.ndarray
    line_number: np.ndarray
    product: np.ndarray  # internal catalogue index
    quantity: np.ndarray
    price_cents: np.ndarray
    discount_cents: np.ndarray
    n_lines: np.ndarray  # per order

    @property
    def net_cents(self) -> np.ndarray:
        return self.quantity * self.price_cents - self.discount_cents


@dataclass(frozen=True)
class _Options:
    """Per order and option: a price-sorted product range, and how much of it is below need / within room.

    Options alternate per candidate: the (category, tier) cell, then the whole category, so a line
    keeps its drawn category whenever any tier of it fits the price constraint.
    """

    start: np.ndarray  # first position of the range in its ordering
    below: np.ndarray  # products priced below the remaining need
    within: np.ndarray  # products priced at most the remaining room
    is_category: np.ndarray
    catalog: Catalog

    def product(self, rows: np.ndarray, k: np.ndarray, position: np.ndarray) -> np.ndarray:
        position = np.minimum(position, self.catalog.size - 1)
        return np.where(self.is_category[rows, k], self.catalog.by_category_price[position], position)


def _options(
    rng: np.random.Generator,
    catalog: Catalog,
    seg: SegmentMatrices,
    segment: np.ndarray,
    need: np.ndarray,
    room: np.ndarray,
) -> _Options:
    seg_of = np.repeat(segment, CANDIDATES)
    category = categorical_rows(rng, seg.category, seg_of).reshape(-1, CANDIDATES)
    cell = category * 3 + categorical_rows(rng, seg.tier, seg_of).reshape(-1, CANDIDATES)
    cat_start = catalog.category_start[category]
    cat_count = np.diff(np.append(catalog.category_start, catalog.size))[category]

    def counts(
        keys: np.ndarray, base: np.ndarray, start: np.ndarray, count: np.ndarray
    ) -> tuple[np.ndarray, ...]:
        below = np.searchsorted(keys, base + need[:, None], side="left") - start
        within = np.searchsorted(keys, base + room[:, None], side="right") - start
        return np.clip(below, 0, count), np.clip(within, 0, count)

    cell_start = catalog.cell_start.ravel()[cell]
    cell_below, cell_within = counts(
        catalog.cell_key, cell * PRICE_KEY_SPAN, cell_start, catalog.cell_count.ravel()[cell]
    )
    cat_below, cat_within = counts(catalog.category_key, category * PRICE_KEY_SPAN, cat_start, cat_count)

    def interleave(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.stack([a, b], axis=2).reshape(a.shape[0], -1)

    return _Options(
        start=interleave(cell_start, cat_start),
        below=interleave(cell_below, cat_below),
        within=interleave(cell_within, cat_within),
        is_category=interleave(np.zeros_like(cell, dtype=bool), np.ones_like(cell, dtype=bool)),
        catalog=catalog,
    )


def _merge_repeated_products(product: np.ndarray, quantity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One line per product and order: a repeated pick adds its quantity to the first line.

    Keeps gross (and so the planted value) unchanged and lets returns, which name an order and a
    product but no line, point at exactly one line.
    """
    product, quantity = product.copy(), quantity.copy()
    for later in range(1, MAX_LINES):
        for first in range(later):
            same = (product[:, later] >= 0) & (product[:, later] == product[:, first])
            quantity[same, first] += quantity[same, later]
            quantity[same, later] = 0
            product[same, later] = -1
    # Close the gaps so line numbers stay 1..n.
    order = np.argsort(product < 0, axis=1, kind="stable")
    return np.take_along_axis(product, order, axis=1), np.take_along_axis(quantity, order, axis=1)


def build_baskets(
    rng: np.random.Generator,
    catalog: Catalog,
    seg: SegmentMatrices,
    segment: np.ndarray,
    value_cents: np.ndarray,
) -> Baskets:
    n_orders = len(value_cents)
    budget = value_cents / (1.0 - 2.0 * seg.discount[segment])
    gross = np.zeros(n_orders, dtype=np.int64)
    done = np.zeros(n_orders, dtype=bool)
    product = np.full((n_orders, MAX_LINES), -1, dtype=np.int64)
    quantity = np.zeros((n_orders, MAX_LINES), dtype=np.int64)
    prices_by_rank = catalog.price_cents[catalog.by_price]

    for slot in range(MAX_LINES):
        act = np.flatnonzero(~done)
        if act.size == 0:
            break
        need = value_cents[act] - gross[act]
        room = np.floor(budget[act] - gross[act]).astype(np.int64)
        options = _options(rng, catalog, seg, segment[act], need, room)
        rows = np.arange(act.size)
        u = rng.random(act.size)
        has_filler = options.below > 0
        has_fit = options.below < options.within
        can_fill, can_fit = has_filler.any(axis=1), has_fit.any(axis=1)
        close = (slot == MAX_LINES - 1) | ~can_fill | (rng.random(act.size) < CLOSE_PROBABILITY[slot])

        k = np.argmax(has_filler, axis=1)
        filler = options.product(
            rows, k, options.start[rows, k] + np.floor(u * options.below[rows, k]).astype(np.int64)
        )
        k = np.argmax(has_fit, axis=1)
        lo, hi = options.below[rows, k], options.within[rows, k]
        fit = options.product(rows, k, options.start[rows, k] + lo + np.floor(u * (hi - lo)).astype(np.int64))
        g_lo = np.searchsorted(prices_by_rank, need, side="left")
        g_hi = np.searchsorted(prices_by_rank, room, side="right")
        in_band = g_lo < g_hi
        above = g_lo < catalog.size
        pick = np.select(
            [~close, can_fit, in_band, above],
            [
                filler,
                fit,
                catalog.by_price[
                    np.minimum(g_lo + np.floor(u * (g_hi - g_lo)).astype(np.int64), catalog.size - 1)
                ],
                catalog.by_price[np.minimum(g_lo, catalog.size - 1)],
            ],
            catalog.by_price[-1],
        )
        price = catalog.price_cents[pick]
        qty = np.ones(act.size, dtype=np.int64)
        double = ~close & (2 * price < need) & (rng.random(act.size) < DOUBLE_QUANTITY_SHARE)
        qty[double] = 2
        short = close & ~above
        qty[short] = -(-need[short] // price[short])

        product[act, slot] = pick
        quantity[act, slot] = qty
        gross[act] += price * qty
        done[act[close]] = True

    product, quantity = _merge_repeated_products(product, quantity)
    line_gross = np.where(product >= 0, catalog.price_cents[np.maximum(product, 0)] * quantity, 0)
    discount_total = gross - value_cents
    # Proportional split in whole cents; the rounding remainder goes to the largest line.
    discount = discount_total[:, None] * line_gross // np.maximum(gross, 1)[:, None]
    remainder = discount_total - discount.sum(axis=1)
    discount[np.arange(n_orders), np.argmax(line_gross, axis=1)] += remainder

    filled = product >= 0
    order_idx, slot_idx = np.nonzero(filled)
    prod = product[filled]
    return Baskets(
        order=order_idx,
        line_number=slot_idx + 1,
        product=prod,
        quantity=quantity[filled],
        price_cents=catalog.price_cents[prod],
        discount_cents=discount[filled],
        n_lines=filled.sum(axis=1),
    )
