"""Vectorised identifier formatting and collision-free numbering.

Ids are built as fixed-width byte matrices and handed to Arrow without any per-row Python work:
formatting tens of millions of event ids row by row would dominate the run time.
Every id is a pure function of global numbers (person index, chunk index, local counter), so
chunks can be generated independently and in parallel and still never collide.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
DIGITS4 = np.array([list(f"{i:04d}".encode()) for i in range(10_000)], dtype=np.uint8)
_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def _from_fixed_width(buf: np.ndarray) -> pa.StringArray:
    n, width = buf.shape
    offsets = np.arange(n + 1, dtype=np.int64) * width
    if offsets[-1] < 2**31 - 1:
        offsets = offsets.astype(np.int32)
        typ = pa.string()
    else:
        typ = pa.large_string()
    arr = pa.Array.from_buffers(
        typ, n, [None, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(buf))]
    )
    return arr if typ == pa.string() else arr.cast(pa.string())


def format_ids(prefix: str, numbers: np.ndarray, width: int, null_mask: np.ndarray | None = None) -> pa.Array:
    """`prefix` + zero-padded decimal `numbers`, e.g. ("C", 123, 9) -> "C000000123"."""
    numbers = np.asarray(numbers, dtype=np.int64)
    if numbers.size and (numbers.min() < 0 or numbers.max() >= 10**width):
        raise ValueError(f"id numbers for {prefix!r} do not fit in {width} digits")
    pre = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    buf = np.empty((numbers.size, pre.size + width), dtype=np.uint8)
    buf[:, : pre.size] = pre
    x = numbers.copy()
    pos = pre.size + width
    while pos > pre.size:
        # Four digits per step through a lookup table: ids are formatted by the tens of millions.
        take = min(4, pos - pre.size)
        buf[:, pos - take : pos] = DIGITS4[x % 10_000][:, 4 - take :]
        x //= 10_000
        pos -= take
    arr = _from_fixed_width(buf)
    return with_nulls(arr, null_mask)


def format_hex_ids(prefix: str, values: np.ndarray) -> pa.Array:
    """`prefix` + 16 lower-case hex digits of uint64 `values` (cookie ids)."""
    values = np.asarray(values, dtype=np.uint64)
    pre = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    buf = np.empty((values.size, pre.size + 16), dtype=np.uint8)
    buf[:, : pre.size] = pre
    x = values.copy()
    for k in range(pre.size + 15, pre.size - 1, -1):
        buf[:, k] = _HEX[(x & np.uint64(15)).astype(np.int64)]
        x >>= np.uint64(4)
    return _from_fixed_width(buf)


def with_nulls(arr: pa.Array, null_mask: np.ndarray | None) -> pa.Array:
    """Null out the rows where `null_mask` is true."""
    if null_mask is None or not np.any(null_mask):
        return arr
    return pc.if_else(pa.array(np.asarray(null_mask, dtype=bool)), pa.scalar(None, arr.type), arr)


def splitmix64(x: np.ndarray) -> np.ndarray:
    """Bijective 64-bit mixer: distinct inputs always give distinct, random-looking outputs."""
    with np.errstate(over="ignore"):
        z = (np.asarray(x, dtype=np.uint64) + np.uint64(0x9E3779B97F4A7C15)) & _MASK64
        z = ((z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)) & _MASK64
        z = ((z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)) & _MASK64
        return z ^ (z >> np.uint64(31))


def scramble(x: np.ndarray, digits: int, seed: int) -> np.ndarray:
    """Bijection on [0, 10**digits): hides creation order in ids without risking collisions.

    A keyed multiply/xor-shift mix is a bijection on `bits`-bit integers; "cycle walking"
    (re-mixing values that land outside the decimal range) restricts it to [0, 10**digits).
    """
    modulus = 10**digits
    bits = int(modulus - 1).bit_length()
    mask = np.uint64((1 << bits) - 1)
    key = int(splitmix64(np.array([seed], dtype=np.uint64))[0]) & int(mask)
    keys = (np.uint64(key), np.uint64(0x9E3779B97F4A7C15 & int(mask)) | np.uint64(1))

    def mix(v: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            for _ in range(2):
                v = (v ^ keys[0]) & mask
                v = (v * keys[1]) & mask
                v ^= v >> np.uint64(bits // 2)
        return v

    values = np.asarray(x, dtype=np.uint64)
    if values.size and int(values.max()) >= modulus:
        raise ValueError(f"value does not fit in {digits} digits")
    out = mix(values)
    outside = out >= np.uint64(modulus)
    while outside.any():
        out[outside] = mix(out[outside])
        outside = out >= np.uint64(modulus)
    return out.astype(np.int64)


def digits_needed(n: int, minimum: int) -> int:
    return max(minimum, len(str(max(n, 1))))
