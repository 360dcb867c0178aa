"""Small vectorised helpers shared by the table builders: sampling, ragged arrays, Arrow columns.

Times travel through the generator as int64 epoch seconds (UTC) and only become Arrow
timestamps or ISO text at the edge, so every table uses the same second-resolution instants.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.devtools.sample_data.ids import format_ids, with_nulls
from orchestration.devtools.sample_data.timetext import iso_text

SECONDS_PER_DAY = 86_400
TS_TYPE = pa.timestamp("us", tz="UTC")
SMALL_GROUP_COUNT = 16
OFFSETS_MINUTES = np.array([60, 120, -300, 330], dtype=np.int64)  # +01:00, +02:00, -05:00, +05:30


def categorical(rng: np.random.Generator, probs: Sequence[float] | np.ndarray, n: int) -> np.ndarray:
    """n draws from one discrete distribution."""
    cdf = np.cumsum(np.asarray(probs, dtype=float))
    cdf /= cdf[-1]
    return np.minimum(np.searchsorted(cdf, rng.random(n), side="right"), len(cdf) - 1)


def categorical_rows(rng: np.random.Generator, prob_matrix: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """One draw per row from the distribution in `prob_matrix[groups[row]]`."""
    cdf = np.cumsum(np.asarray(prob_matrix, dtype=float), axis=1)
    cdf /= cdf[:, -1:]
    u = rng.random(len(groups))
    last = cdf.shape[1] - 1
    if cdf.shape[0] > SMALL_GROUP_COUNT:
        return np.minimum((cdf[groups] <= u[:, None]).sum(axis=1), last)
    # Few distinct distributions (segments, devices): one searchsorted per distribution is far cheaper.
    out = np.empty(len(groups), dtype=np.int64)
    for g in range(cdf.shape[0]):
        rows = np.flatnonzero(groups == g)
        out[rows] = np.minimum(np.searchsorted(cdf[g], u[rows], side="right"), last)
    return out


def starts_of(counts: np.ndarray) -> np.ndarray:
    """Start offset of each group in a ragged array laid out group after group."""
    starts = np.zeros(len(counts), dtype=np.int64)
    if len(counts) > 1:
        np.cumsum(counts[:-1], out=starts[1:])
    return starts


def rank_within(counts: np.ndarray) -> np.ndarray:
    """0..count-1 for each group of a ragged array, concatenated."""
    total = int(counts.sum())
    return np.arange(total, dtype=np.int64) - np.repeat(starts_of(counts), counts)


def run_starts(sorted_keys: np.ndarray) -> np.ndarray:
    """Boolean mask of the first element of each run of equal keys."""
    first = np.ones(len(sorted_keys), dtype=bool)
    first[1:] = sorted_keys[1:] != sorted_keys[:-1]
    return first


def uniform_int(rng: np.random.Generator, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Uniform integers in [low, high) per row (high > low)."""
    return low + np.floor(rng.random(len(low)) * (high - low)).astype(np.int64)


def days_to_seconds(days: np.ndarray, start_epoch: int) -> np.ndarray:
    return start_epoch + np.floor(np.asarray(days) * SECONDS_PER_DAY).astype(np.int64)


def ts_array(seconds: np.ndarray, null_mask: np.ndarray | None = None) -> pa.Array:
    """timestamp[us, UTC] from epoch seconds."""
    secs = np.asarray(seconds, dtype=np.int64)
    mask = None if null_mask is None else np.asarray(null_mask, dtype=bool)
    return pa.array(secs * 1_000_000, type=TS_TYPE, mask=mask)


def ts_text(seconds: np.ndarray, null_mask: np.ndarray | None = None) -> pa.Array:
    """'YYYY-MM-DD HH:MM:SS' (UTC) from epoch seconds."""
    return with_nulls(iso_text(seconds), null_mask)


def ts_text_mixed(
    rng: np.random.Generator, seconds: np.ndarray, offset_share: float, null_mask: np.ndarray | None = None
) -> pa.Array:
    """UTC text, except ~offset_share rows written as local time with an explicit offset.

    Both spellings denote the same instant, which is what a real export from several systems
    looks like; staging has to convert to UTC rather than strip the offset.
    """
    secs = np.asarray(seconds, dtype=np.int64)
    use_offset = rng.random(len(secs)) < offset_share
    offsets = np.where(use_offset, OFFSETS_MINUTES[rng.integers(0, len(OFFSETS_MINUTES), len(secs))], 0)
    return with_nulls(iso_text(secs, offsets), null_mask)


def take_strings(
    values: Sequence[str] | pa.Array, idx: np.ndarray, null_mask: np.ndarray | None = None
) -> pa.Array:
    """Plain string column: values[idx], null where null_mask."""
    vocab = values if isinstance(values, pa.Array) else pa.array(list(values), type=pa.string())
    mask = None if null_mask is None else np.asarray(null_mask, dtype=bool)
    indices = pa.array(np.asarray(idx, dtype=np.int64), mask=mask)
    return vocab.take(indices)


def dict_column(
    values: Sequence[str] | pa.Array, idx: np.ndarray, null_mask: np.ndarray | None = None
) -> pa.Array:
    """Dictionary-encoded string column; cheap to build and to write for low-cardinality text.

    The dictionary is made unique first: Parquet writers handle a dictionary with repeated
    values inconsistently (e.g. one currency per country), which breaks byte-identical output.
    """
    words = values.to_pylist() if isinstance(values, pa.Array) else list(values)
    unique = list(dict.fromkeys(words))
    remap = np.array([unique.index(w) for w in words], dtype=np.int32) if len(unique) < len(words) else None
    codes = np.asarray(idx, dtype=np.int32) if remap is None else remap[np.asarray(idx, dtype=np.int64)]
    mask = None if null_mask is None else np.asarray(null_mask, dtype=bool)
    indices = pa.array(codes, type=pa.int32(), mask=mask)
    return pa.DictionaryArray.from_arrays(indices, pa.array(unique, type=pa.string()))


def join(*parts: pa.Array | str) -> pa.Array:
    """Element-wise concatenation of string arrays and literals."""
    return pc.binary_join_element_wise(*parts, "")


def int_text(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string())


def money(cents: np.ndarray) -> pa.Array:
    """float64 amounts rounded to cents."""
    return pa.array(np.round(np.asarray(cents, dtype=np.int64) / 100.0, 2), type=pa.float64())


def money_text(cents: np.ndarray) -> pa.Array:
    """'12.50'-style text for amounts, exact to the cent."""
    c = np.asarray(cents, dtype=np.int64)
    sign = np.where(c < 0, "-", "")
    c = np.abs(c)
    return join(pa.array(sign), int_text(c // 100), ".", format_ids("", c % 100, 2))
