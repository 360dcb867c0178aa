"""Persons of one chunk: type, segment, country, name, address and daily habits.

Person types are interleaved over the global person index with exact totals, so every chunk has
the same mix and the population size never depends on the chunking. Segments are drawn
independently of everything the purchase process uses, as the brief requires.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from orchestration.devtools.sample_data.arrays import categorical, categorical_rows
from orchestration.devtools.sample_data.config import COUNTRIES
from orchestration.devtools.sample_data.vocab import CITIES, EMAIL_DOMAINS, FIRST_NAMES, LAST_NAMES, slug
from orchestration.devtools.sample_data.world import World

REGISTERED_BUYER, PROSPECT, GUEST_BUYER, ANONYMOUS = 0, 1, 2, 3
_LETTERS = np.frombuffer(b"ABCDEFGHJKLMNPRSTUVWXZ", dtype=np.uint8)


@dataclass(frozen=True)
class Pool:
    """A per-country word list flattened into one vocabulary with per-country ranges."""

    values: pa.Array
    slugs: pa.Array
    start: np.ndarray
    count: np.ndarray

    @classmethod
    def of(cls, words: dict[str, tuple[str, ...]], slugify: bool = True) -> Pool:
        flat = [w for c in COUNTRIES for w in words[c.code]]
        counts = np.array([len(words[c.code]) for c in COUNTRIES])
        return cls(
            values=pa.array(flat, type=pa.string()),
            slugs=pa.array([slug(w) if slugify else w for w in flat], type=pa.string()),
            start=np.concatenate([[0], np.cumsum(counts)[:-1]]),
            count=counts,
        )

    def draw(self, rng: np.random.Generator, country: np.ndarray) -> np.ndarray:
        return self.start[country] + np.floor(rng.random(len(country)) * self.count[country]).astype(np.int64)


FIRST_POOL = Pool.of(FIRST_NAMES)
LAST_POOL = Pool.of(LAST_NAMES)
CITY_POOL = Pool.of(CITIES)
DOMAIN_POOL = Pool.of(EMAIL_DOMAINS, slugify=False)


@dataclass(frozen=True)
class Persons:
    """Person attributes, one entry per person of the chunk (local index = position)."""

    gidx: np.ndarray
    kind: np.ndarray
    segment: np.ndarray
    country: np.ndarray
    first_name: np.ndarray  # index into FIRST_POOL
    last_name: np.ndarray  # index into LAST_POOL
    birth_days: np.ndarray  # days since 1970-01-01
    city: np.ndarray  # index into CITY_POOL
    postal: pa.Array
    peak_hour_utc: np.ndarray  # personal purchase hour habit, UTC
    hour_spread: np.ndarray
    nps_offset: np.ndarray

    @property
    def size(self) -> int:
        return len(self.gidx)

    @property
    def is_registered(self) -> np.ndarray:
        return self.kind <= PROSPECT

    @property
    def is_buyer(self) -> np.ndarray:
        return (self.kind == REGISTERED_BUYER) | (self.kind == GUEST_BUYER)


def person_kinds(gidx: np.ndarray, customers: int, guests: int, total: int) -> np.ndarray:
    """Registered / guest / anonymous per global index, interleaved with exact totals."""
    registered_before = gidx * customers // total
    is_registered = ((gidx + 1) * customers // total - registered_before) == 1
    rank = gidx - registered_before  # rank among non-registered persons, for the non-registered
    others = max(total - customers, 1)
    is_guest = ((rank + 1) * guests // others - rank * guests // others) == 1
    return np.where(is_registered, REGISTERED_BUYER, np.where(is_guest, GUEST_BUYER, ANONYMOUS)).astype(
        np.int8
    )


def postal_codes(rng: np.random.Generator, country: np.ndarray) -> pa.Array:
    """Postal codes in each country's format (digits and letters drawn at random)."""
    parts: list[pa.Array] = []
    order = np.argsort(country, kind="stable")
    for c, spec in enumerate(COUNTRIES):
        n = int((country == c).sum())
        buf = np.empty((n, len(spec.postal_pattern)), dtype=np.uint8)
        for k, ch in enumerate(spec.postal_pattern):
            if ch == "d":
                low = 1 if k == 0 else 0
                buf[:, k] = rng.integers(low, 10, n) + 48
            elif ch == "L":
                buf[:, k] = _LETTERS[rng.integers(0, len(_LETTERS), n)]
            else:
                buf[:, k] = ord(ch)
        parts.append(_rows_as_strings(buf))
    ordered = pa.concat_arrays(parts)
    inverse = np.empty_like(order)
    inverse[order] = np.arange(len(order))
    return ordered.take(pa.array(inverse)).cast(pa.string())


def _rows_as_strings(buf: np.ndarray) -> pa.Array:
    n, width = buf.shape
    offsets = np.arange(n + 1, dtype=np.int32) * np.int32(width)
    return pa.Array.from_buffers(pa.binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(buf.tobytes())])


def build_persons(world: World, rng: np.random.Generator, start: int, stop: int) -> Persons:
    cfg = world.config
    gidx = np.arange(start, stop, dtype=np.int64)
    n = len(gidx)
    kind = person_kinds(gidx, cfg.customers, cfg.guest_buyers, cfg.total_persons)
    prospect = (kind == REGISTERED_BUYER) & (rng.random(n) < cfg.rates.prospect_share)
    kind = np.where(prospect, PROSPECT, kind).astype(np.int8)

    seg = world.segments
    segment = categorical(rng, seg.share, n)
    country = categorical(rng, [c.share for c in COUNTRIES], n)
    end_days = world.end_epoch // 86_400
    birth_days = (end_days - rng.uniform(18, 80, n) * 365.25).astype(np.int32)
    # Habits are personal variations around the segment's; local hour becomes UTC via the country.
    peak_local = seg.peak_hour[segment] + rng.normal(0.0, 1.0, n)
    peak_utc = np.mod(peak_local - world.country_offsets[country], 24.0)
    return Persons(
        gidx=gidx,
        kind=kind,
        segment=segment,
        country=country,
        first_name=FIRST_POOL.draw(rng, country),
        last_name=LAST_POOL.draw(rng, country),
        birth_days=birth_days,
        city=CITY_POOL.draw(rng, country),
        postal=postal_codes(rng, country),
        peak_hour_utc=peak_utc,
        hour_spread=seg.hour_spread[segment],
        nps_offset=rng.normal(0.0, 1.2, n),
    )


def hours_of_habit(rng: np.random.Generator, persons: Persons, who: np.ndarray) -> np.ndarray:
    """A UTC hour of day (fractional) per row, drawn from each row's person habit."""
    return np.mod(rng.normal(persons.peak_hour_utc[who], persons.hour_spread[who]), 24.0)


def weekday_days(
    rng: np.random.Generator,
    world: World,
    persons: Persons,
    who: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
) -> np.ndarray:
    """Whole days in [low, high), biased towards each person's segment weekday habit.

    Drawn uniformly, then about half are moved back (or forward) to the habitual weekday when
    that stays inside the allowed range; this plants the weekday pattern in browsing only.
    """
    span = np.maximum(high - low, 1e-9)
    day = np.floor(low + rng.random(len(who)) * span)
    target = categorical_rows(rng, world.segments.weekday, persons.segment[who])
    weekday = (np.floor(day) + (world.start_epoch // 86_400) + 3) % 7  # 1970-01-01 was a Thursday
    back = (weekday - target) % 7
    forward = (target - weekday) % 7
    move = rng.random(len(who)) < 0.5
    can_back = day - back >= np.ceil(low)
    can_forward = day + forward + 1 <= high
    shift = np.where(can_back, -back, np.where(can_forward, forward, 0))
    return np.where(move, day + shift, day)
