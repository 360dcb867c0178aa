"""Cookies and devices: each person's 1-3 anonymous ids, plus shared household tablets.

Slots per person: 0 = main browser, 1 = the shop app (present for everyone with an app order),
2 = a second browser, 3 = a household tablet shared by 2-4 registered persons of the chunk.
A cookie's number is (person index * 4 + slot), mixed by a bijection, so ids are unique across
chunks without coordination; a shared cookie takes the number of its first member.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from orchestration.devtools.sample_data.arrays import categorical, categorical_rows
from orchestration.devtools.sample_data.config import CHANNELS
from orchestration.devtools.sample_data.ids import format_hex_ids, splitmix64
from orchestration.devtools.sample_data.orders import Orders
from orchestration.devtools.sample_data.persons import Persons
from orchestration.devtools.sample_data.world import World

SLOTS = 4
APP_SLOT, SECOND_SLOT, SHARED_SLOT = 1, 2, 3
DEVICE_NAMES = ("desktop", "mobile", "tablet")
OS_NAMES = ("Windows", "macOS", "Linux", "iOS", "Android", "iPadOS")
BROWSER_NAMES = ("Chrome", "Safari", "Firefox", "Edge", "ShopApp")
# P(os | device) over OS_NAMES
OS_GIVEN_DEVICE = np.array(
    [
        [0.70, 0.25, 0.05, 0.0, 0.0, 0.0],
        [0.0, 0.0, 0.0, 0.50, 0.50, 0.0],
        [0.0, 0.0, 0.0, 0.0, 0.40, 0.60],
    ]
)
# P(browser | os) over BROWSER_NAMES for web cookies
BROWSER_GIVEN_OS = np.array(
    [
        [0.65, 0.0, 0.15, 0.20, 0.0],
        [0.40, 0.60, 0.0, 0.0, 0.0],
        [0.70, 0.0, 0.30, 0.0, 0.0],
        [0.0, 1.0, 0.0, 0.0, 0.0],
        [0.90, 0.0, 0.10, 0.0, 0.0],
        [0.0, 1.0, 0.0, 0.0, 0.0],
    ]
)


@dataclass(frozen=True)
class Cookies:
    """Per (person, slot) arrays of shape (persons, SLOTS)."""

    exists: np.ndarray
    number: np.ndarray  # uint64 cookie number (shared cookies: the first member's)
    device: np.ndarray
    os: np.ndarray
    browser: np.ndarray
    anonymous_id: pa.Array  # flat, index person * SLOTS + slot
    household_members: np.ndarray  # local person indices that share a household cookie


def _anonymous_ids(numbers: np.ndarray, seed: int) -> pa.Array:
    salt = splitmix64(np.array([seed], dtype=np.uint64))[0]
    return format_hex_ids("a_", splitmix64(numbers.astype(np.uint64) ^ salt))


def build_cookies(world: World, rng: np.random.Generator, persons: Persons, orders: Orders) -> Cookies:
    n = persons.size
    has_app_order = np.bincount(orders.person[orders.channel == CHANNELS.index("app")], minlength=n) > 0
    exists = np.zeros((n, SLOTS), dtype=bool)
    exists[:, 0] = True
    exists[:, APP_SLOT] = has_app_order | (rng.random(n) < 0.2)
    exists[:, SECOND_SLOT] = rng.random(n) < 0.3

    device = np.empty((n, SLOTS), dtype=np.int64)
    device[:, 0] = categorical_rows(rng, world.segments.device, persons.segment)
    device[:, APP_SLOT] = np.where(rng.random(n) < 0.85, 1, 2)
    device[:, SECOND_SLOT] = categorical_rows(rng, world.segments.device, persons.segment)
    device[:, SHARED_SLOT] = 2
    os = categorical_rows(rng, OS_GIVEN_DEVICE, device.ravel()).reshape(n, SLOTS)
    browser = categorical_rows(rng, BROWSER_GIVEN_OS, os.ravel()).reshape(n, SLOTS)
    browser[:, APP_SLOT] = BROWSER_NAMES.index("ShopApp")

    number = persons.gidx[:, None].astype(np.uint64) * np.uint64(SLOTS) + np.arange(SLOTS, dtype=np.uint64)
    members = _households(world, rng, persons, exists, number, os, browser)
    return Cookies(
        exists=exists,
        number=number,
        device=device,
        os=os,
        browser=browser,
        anonymous_id=_anonymous_ids(number.ravel(), world.config.seed),
        household_members=members,
    )


def _households(
    world: World,
    rng: np.random.Generator,
    persons: Persons,
    exists: np.ndarray,
    number: np.ndarray,
    os: np.ndarray,
    browser: np.ndarray,
) -> np.ndarray:
    """Pick household groups among registered persons and give them one shared tablet cookie."""
    registered = np.flatnonzero(persons.is_registered)
    n_cookies = int(exists.sum())
    groups = max(1, round(world.config.rates.shared_cookie_share * n_cookies)) if registered.size >= 8 else 0
    sizes = 2 + categorical(rng, [0.6, 0.3, 0.1], groups)
    total = int(sizes.sum())
    if groups == 0 or total > registered.size:
        return np.zeros(0, dtype=np.int64)
    members = rng.choice(registered, size=total, replace=False)
    group = np.repeat(np.arange(groups), sizes)
    leader = members[np.concatenate([[0], np.cumsum(sizes)[:-1]])][group]
    exists[members, SHARED_SLOT] = True
    number[members, SHARED_SLOT] = number[leader, SHARED_SLOT]
    os[members, SHARED_SLOT] = os[leader, SHARED_SLOT]
    browser[members, SHARED_SLOT] = browser[leader, SHARED_SLOT]
    return members
