"""Value-level damage used by the fault planter: bad text, impossible values, unknown references.

All helpers work on whole Arrow arrays with a row mask or row list, never row by row.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.devtools.sample_data.accounts import customer_ids, customer_numbers
from orchestration.devtools.sample_data.arrays import join, ts_text
from orchestration.devtools.sample_data.ids import format_ids

UNPARSEABLE = {
    "timestamp": ("not-a-date", "31/02/2024", "n/a"),
    "integer": ("three", "n/a", "1.5x"),
    "number": ("n/a", "12,50", "twelve"),
}
EPOCH_2099 = int(datetime(2099, 1, 1, tzinfo=UTC).timestamp())
ORPHAN_ORDER_BASE = 9_000_000  # local order numbers never get this high (checked by the generator)
ORPHAN_CUSTOMER_BASE = 10**6  # chunk * base + j persons beyond the population: unused account numbers


def row_mask(n: int, rows: np.ndarray) -> pa.Array:
    mask = np.zeros(n, dtype=bool)
    mask[rows] = True
    return pa.array(mask)


def as_plain(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    """A single contiguous array, dictionaries decoded: the form the mutations work on."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_dictionary(arr.type):
        arr = arr.cast(arr.type.value_type)
    return arr


def replace_rows(arr: pa.Array, rows: np.ndarray, values: pa.Array | np.ndarray | list) -> pa.Array:
    """arr with arr[rows[i]] = values[i]."""
    if len(rows) == 0:
        return arr
    order = np.argsort(rows, kind="stable")
    vals = values if isinstance(values, pa.Array) else pa.array(values, type=arr.type)
    return pc.replace_with_mask(arr, row_mask(len(arr), rows), vals.take(pa.array(order)).cast(arr.type))


def null_rows(arr: pa.Array, rows: np.ndarray) -> pa.Array:
    return pc.if_else(row_mask(len(arr), rows), pa.scalar(None, arr.type), arr)


def mojibake(arr: pa.Array) -> pa.Array:
    """s.encode('utf-8').decode('latin-1') for every value, done on the raw UTF-8 bytes.

    Decoding UTF-8 bytes as latin-1 turns each byte into one code point; re-encoding those code
    points as UTF-8 maps bytes >= 0x80 to two bytes (0xC0|b>>6, 0x80|b&0x3F), the rest unchanged.
    """
    arr = pa.concat_arrays([arr.cast(pa.string())])
    if arr.null_count:
        raise ValueError("mojibake expects non-null text")
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[arr.offset : arr.offset + len(arr) + 1]
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    offsets = offsets - offsets[0]
    high = data >= 0x80
    width = 1 + high.astype(np.int64)
    pos = np.cumsum(width) - width
    out = np.empty(int(width.sum()), dtype=np.uint8)
    out[pos] = np.where(high, 0xC0 | (data >> 6), data)
    out[pos[high] + 1] = 0x80 | (data[high] & 0x3F)
    new_offsets = np.concatenate([[0], np.cumsum(width)])[offsets].astype(np.int32)
    return pa.Array.from_buffers(pa.string(), len(arr), [None, pa.py_buffer(new_offsets), pa.py_buffer(out)])


def is_non_ascii(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    arr = as_plain(arr)
    return pc.fill_null(pc.not_equal(pc.binary_length(arr), pc.utf8_length(arr)), False).to_numpy(
        zero_copy_only=False
    )


def future_seconds(rng: np.random.Generator, end_epoch: int, n: int) -> np.ndarray:
    """Impossible future instants: half ten years after the end date, half in 2099.

    Staging infers its default as-of date as the latest data not in the future of the machine's
    clock, so a planted "future" must stay in the future of any plausible run date; a date just
    after the end date would become the past within months and look like real data.
    """
    end_year = datetime.fromtimestamp(end_epoch, tz=UTC).year
    decade_start = int(datetime(end_year + 10, 1, 1, tzinfo=UTC).timestamp())
    decade_later = decade_start + np.floor(rng.uniform(0, 364, n) * 86_400).astype(np.int64)
    far = EPOCH_2099 + np.floor(rng.uniform(0, 364, n) * 86_400).astype(np.int64)
    return np.where(rng.random(n) < 0.5, decade_later, far)


def future_text(rng: np.random.Generator, end_epoch: int, n: int) -> pa.Array:
    return ts_text(future_seconds(rng, end_epoch, n))


def unparseable(rng: np.random.Generator, logical_type: str, n: int) -> pa.Array:
    choices = UNPARSEABLE[logical_type]
    return pa.array(choices, type=pa.string()).take(pa.array(rng.integers(0, len(choices), n)))


def orphan_customers(total_persons: int, chunk: int, n: int, seed: int) -> pa.Array:
    gidx = total_persons + chunk * ORPHAN_CUSTOMER_BASE + np.arange(n)
    return customer_ids(customer_numbers(gidx, 0, seed))


def orphan_orders(chunk: int, n: int) -> pa.Array:
    return format_ids("O", chunk * 10**7 + ORPHAN_ORDER_BASE + np.arange(n), 10)


def orphan_products(rng: np.random.Generator, n: int) -> pa.Array:
    return format_ids("P9", rng.integers(0, 100_000, n), 5)


def negated_text(arr: pa.Array, rows: np.ndarray) -> pa.Array:
    """Text values with a leading minus sign (negative quantities in a string column)."""
    return join("-", arr.take(pa.array(rows)))


def ip_addresses(rng: np.random.Generator, n: int) -> pa.Array:
    first = np.array([31, 62, 77, 81, 84, 145, 185, 213])[rng.integers(0, 8, n)]
    parts = [pc.cast(pa.array(x), pa.string()) for x in (first, *(rng.integers(0, 256, n) for _ in range(3)))]
    return pc.binary_join_element_wise(*parts, ".")
