"""A music shop's vocabulary (shape experiment): its categories, products, category pages and searches.

Values that become columns or rules must come from the data, never from the generator's own
eight categories; this shape proves it by renaming them. Every planted category maps to one music
category (config MUSIC_CATEGORIES, one to one), so the needs segments' category mixes, prices and
margins are unchanged and only the words differ: category, subcategory, brand and name of every
product, the category pages in web.events.page_url, and the search terms (search_term and the
search pages' URLs).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.devtools.sample_data.arrays import join, take_strings
from orchestration.devtools.sample_data.catalog import Catalog
from orchestration.devtools.sample_data.config import CATEGORIES, MUSIC_CATEGORIES
from orchestration.devtools.sample_data.mutations import as_plain
from orchestration.devtools.sample_data.vocab import (
    MODEL_WORDS,
    MUSIC_BRANDS,
    MUSIC_SEARCH_TERMS,
    MUSIC_SUBCATEGORIES,
    SEARCH_TERMS,
)
from orchestration.devtools.sample_data.web import SITE

MUSIC: tuple[str, ...] = tuple(MUSIC_CATEGORIES[c] for c in CATEGORIES)  # aligned with CATEGORIES


def _flat(words: dict[str, tuple[str, ...]]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """A per-category word list as one vocabulary with per-category (start, count), CATEGORIES order."""
    flat = [w for c in MUSIC for w in words[c]]
    counts = np.array([len(words[c]) for c in MUSIC])
    return flat, np.concatenate([[0], np.cumsum(counts)[:-1]]), counts


def music_products(rng: np.random.Generator, catalog: Catalog, products: pa.Table) -> pa.Table:
    """shop.products with the music shop's words; ids, prices and costs unchanged.

    `products` is the catalogue's table (sorted by product_id); new words are drawn per product in
    internal catalogue order, then put in the table's order.
    """
    n = catalog.size
    category = catalog.category

    def draw(words: dict[str, tuple[str, ...]]) -> tuple[list[str], np.ndarray]:
        flat, start, count = _flat(words)
        return flat, start[category] + np.floor(rng.random(n) * count[category]).astype(np.int64)

    sub_vocab, sub_idx = draw(MUSIC_SUBCATEGORIES)
    brand_vocab, brand_idx = draw(MUSIC_BRANDS)
    model = take_strings(MODEL_WORDS, rng.integers(0, len(MODEL_WORDS), n))
    brand = take_strings(brand_vocab, brand_idx)
    title = take_strings([s[:1].upper() + s[1:] for s in sub_vocab], sub_idx)
    internal = {
        "name": join(brand, " ", model, " ", title),
        "category": take_strings(MUSIC, category),
        "subcategory": take_strings(sub_vocab, sub_idx),
        "brand": brand,
    }
    order = pc.sort_indices(catalog.ids)  # the table's rows are the catalogue's sorted by product_id
    for name, values in internal.items():
        products = products.set_column(products.schema.get_field_index(name), name, values.take(order))
    return products


def _term_mapping() -> dict[str, str]:
    """Each planted search term -> a music term of the mapped category (by position, cycling)."""
    mapping = {}
    for old, new in MUSIC_CATEGORIES.items():
        terms = MUSIC_SEARCH_TERMS[new]
        for k, term in enumerate(SEARCH_TERMS[old]):
            mapping[term] = terms[k % len(terms)]
    return mapping


TERMS = _term_mapping()
PAGES = {f"{SITE}/c/{old}": f"{SITE}/c/{new}" for old, new in MUSIC_CATEGORIES.items()} | {
    f"{SITE}/search?q={old.replace(' ', '+')}": f"{SITE}/search?q={new.replace(' ', '+')}"
    for old, new in TERMS.items()
}


def remap(values: pa.Array | pa.ChunkedArray, mapping: dict[str, str]) -> pa.Array:
    """Values found in `mapping` replaced by their new word; everything else (and nulls) kept."""
    plain = as_plain(values)
    position = pc.index_in(plain, value_set=pa.array(list(mapping), type=pa.string()))
    renamed = pa.array(list(mapping.values()), type=pa.string()).take(position)
    return pc.if_else(pc.is_valid(position), renamed, plain)


def music_events(events: pa.Table) -> pa.Table:
    """web.events with the music shop's category pages and search terms."""
    for name, mapping in (("page_url", PAGES), ("search_term", TERMS)):
        events = events.set_column(
            events.schema.get_field_index(name), name, remap(events.column(name), mapping)
        )
    return events
