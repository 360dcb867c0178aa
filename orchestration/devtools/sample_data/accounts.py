"""Shop accounts and their record versions (shop.customers), plus every person's email/phone spellings.

The identity puzzles are planted here: second accounts of the same person that share an email
(typed differently) or a phone (punctuated differently), later record versions that change the
email, and guest spellings. Phones always carry the country code, so digits-only normalisation
of every spelling gives the same string.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.devtools.sample_data.arrays import days_to_seconds, join, take_strings, ts_array
from orchestration.devtools.sample_data.config import COUNTRIES
from orchestration.devtools.sample_data.ids import format_ids, scramble
from orchestration.devtools.sample_data.persons import (
    CITY_POOL,
    DOMAIN_POOL,
    FIRST_POOL,
    LAST_POOL,
    PROSPECT,
    REGISTERED_BUYER,
    Persons,
    postal_codes,
)
from orchestration.devtools.sample_data.purchases import PurchaseProcess
from orchestration.devtools.sample_data.world import World

CUSTOMER_ID_DIGITS = 9


def choose(which: np.ndarray, options: list[pa.Array]) -> pa.Array:
    """Row i takes options[which[i]][i]."""
    result = options[0]
    for k in range(1, len(options)):
        result = pc.if_else(pa.array(which == k), options[k], result)
    return result


def customer_numbers(gidx: np.ndarray, slot: np.ndarray | int, seed: int) -> np.ndarray:
    """Account numbers: a bijection of (person, slot), so no two accounts ever collide."""
    return scramble(2 * np.asarray(gidx, dtype=np.int64) + slot, CUSTOMER_ID_DIGITS, seed)


def customer_ids(numbers: np.ndarray) -> pa.Array:
    return format_ids("C", numbers, CUSTOMER_ID_DIGITS)


@dataclass(frozen=True)
class Spellings:
    """Email and phone spellings per person (aligned with the chunk's persons)."""

    email: pa.Array  # canonical: lower case, no spaces
    email_messy: pa.Array  # same address in another case and/or with spaces
    email_changed: pa.Array  # a second address the person moves to in a later record version
    email_other: pa.Array  # the different address used on a phone-sharing second account
    phone_digits: pa.Array
    phone_formats: tuple[pa.Array, ...]


def build_spellings(world: World, rng: np.random.Generator, persons: Persons) -> Spellings:
    n = persons.size
    seed = world.config.seed
    first = FIRST_POOL.slugs.take(pa.array(persons.first_name))
    last = LAST_POOL.slugs.take(pa.array(persons.last_name))
    number = pc.cast(pa.array(scramble(persons.gidx, 8, seed + 1)), pa.string())
    domain = DOMAIN_POOL.slugs.take(pa.array(DOMAIN_POOL.draw(rng, persons.country)))
    domain2 = DOMAIN_POOL.slugs.take(pa.array(DOMAIN_POOL.draw(rng, persons.country)))
    email = join(first, ".", last, number, "@", domain)
    title = join(
        pc.utf8_capitalize(first), ".", pc.utf8_capitalize(last), number, "@", pc.utf8_capitalize(domain)
    )
    messy = choose(rng.integers(0, 3, n), [join("  ", title), pc.utf8_upper(email), join(title, " ")])

    cc = take_strings([c.phone_code for c in COUNTRIES], persons.country)
    prefix = take_strings([c.mobile_prefix for c in COUNTRIES], persons.country)
    sub = format_ids("", scramble(persons.gidx, 8, seed + 17), 8)
    part = [pc.utf8_slice_codeunits(sub, a, b) for a, b in ((0, 2), (2, 4), (4, 5), (5, 8))]
    formats = (
        join("+", cc, " ", prefix, " ", part[0], part[1], " ", part[2], part[3]),
        join("+", cc, "-", prefix, "-", sub),
        join("+", cc, prefix, sub),
        join("(+", cc, ") ", prefix, part[0], " ", part[1], part[2], " ", part[3]),
    )
    return Spellings(
        email=email,
        email_messy=messy,
        email_changed=join(first, last, number, "@", domain2),
        email_other=join(first, "_", last, number, "@", domain2),
        phone_digits=join(cc, prefix, sub),
        phone_formats=formats,
    )


@dataclass(frozen=True)
class Accounts:
    """Accounts of the chunk (first accounts, then second accounts) and the customers table."""

    person: np.ndarray  # local person index per account
    is_second: np.ndarray
    customer_id: pa.Array
    created: np.ndarray  # epoch seconds
    email: pa.Array  # email on the account's first record version
    first_of: np.ndarray  # per person: account index, -1 if none
    second_of: np.ndarray  # per person: account index, -1 if none
    customers: pa.Table
    customers_person: np.ndarray  # per customers row: local person index
    customers_account: np.ndarray  # per customers row: account index

    @property
    def size(self) -> int:
        return len(self.person)


def _created_days(
    world: World, rng: np.random.Generator, persons: Persons, process: PurchaseProcess
) -> np.ndarray:
    """Account creation: at or shortly before the first purchase for buyers, anywhere for prospects."""
    n = persons.size
    acquired = np.full(n, np.nan)
    acquired[process.buyers] = process.acquired
    at_checkout = rng.random(n) < 0.7
    lead = np.where(at_checkout, rng.exponential(8.0 / 1440.0, n), rng.uniform(0.0, 60.0, n))
    created = np.maximum(0.0, acquired - lead)
    prospect_created = rng.uniform(0.0, world.horizon - 0.5, n)
    return np.where(persons.kind == PROSPECT, prospect_created, created)


def build_accounts(
    world: World, rng: np.random.Generator, persons: Persons, process: PurchaseProcess, spell: Spellings
) -> Accounts:
    rates = world.config.rates
    n = persons.size
    horizon = world.horizon
    created_days = _created_days(world, rng, persons, process)
    registered = np.flatnonzero(persons.is_registered)
    has_phone = rng.random(n) < rates.phone_share

    # Second accounts: only buyers, so their orders can be split over both accounts.
    p_second = rates.second_account_share / max(1e-9, 1.0 - rates.prospect_share)
    second_person = registered[
        (persons.kind[registered] == REGISTERED_BUYER) & (rng.random(len(registered)) < p_second)
    ]
    second_created = created_days[second_person] + (horizon - created_days[second_person]) * rng.uniform(
        0.05, 0.9, len(second_person)
    )
    shares_phone = has_phone[second_person] & (rng.random(len(second_person)) < 0.5)

    person = np.concatenate([registered, second_person])
    is_second = np.concatenate([np.zeros(len(registered), bool), np.ones(len(second_person), bool)])
    n_acc = len(person)
    slot = is_second.astype(np.int64)
    numbers = customer_numbers(persons.gidx[person], slot, world.config.seed)
    created = days_to_seconds(np.concatenate([created_days[registered], second_created]), world.start_epoch)

    first_of = np.full(n, -1, dtype=np.int64)
    first_of[registered] = np.arange(len(registered))
    second_of = np.full(n, -1, dtype=np.int64)
    second_of[second_person] = len(registered) + np.arange(len(second_person))

    pa_person = pa.array(person)
    email_canon = spell.email.take(pa_person)
    email_messy = spell.email_messy.take(pa_person)
    typed_messy = rng.random(n_acc) < 0.15
    shares_phone_acc = np.concatenate([np.zeros(len(registered), bool), shares_phone])
    email = pc.if_else(pa.array(typed_messy | (is_second & ~shares_phone_acc)), email_messy, email_canon)
    email = pc.if_else(pa.array(shares_phone_acc), spell.email_other.take(pa_person), email)

    phone_format = rng.integers(0, 4, n_acc)
    first_format = np.zeros(n, dtype=np.int64)
    first_format[registered] = phone_format[: len(registered)]
    # A phone-sharing second account spells the same number differently.
    phone_format[len(registered) :] = (
        first_format[second_person] + rng.integers(1, 4, len(second_person))
    ) % 4
    phone = choose(phone_format, [f.take(pa_person) for f in spell.phone_formats])
    phone_valid = has_phone[person] & (~is_second | shares_phone_acc)
    phone = pc.if_else(pa.array(phone_valid), phone, pa.scalar(None, pa.string()))

    ids = customer_ids(numbers)
    customers, row_account = _customer_versions(
        world, rng, persons, person, is_second, created, ids, email, phone, spell
    )
    return Accounts(
        person=person,
        is_second=is_second,
        customer_id=ids,
        created=created,
        email=email,
        first_of=first_of,
        second_of=second_of,
        customers=customers,
        customers_person=person[row_account],
        customers_account=row_account,
    )


def _customer_versions(
    world: World,
    rng: np.random.Generator,
    persons: Persons,
    person: np.ndarray,
    is_second: np.ndarray,
    created: np.ndarray,
    ids: pa.Array,
    email: pa.Array,
    phone: pa.Array,
    spell: Spellings,
) -> tuple[pa.Table, np.ndarray]:
    """One row per record version; later versions change the address or the email."""
    n_acc = len(person)
    u = rng.random(n_acc)
    n_changes = np.where(is_second, 0, np.where(u < 0.05, 2, np.where(u < 0.15, 1, 0)))
    first_is_email = rng.random(n_acc) < 0.4
    second_is_email = ~first_is_email & (rng.random(n_acc) < 0.3)
    end = world.end_epoch
    t1 = created + 1 + np.floor((end - 2 - created) * rng.random(n_acc)).astype(np.int64)
    t2 = t1 + 1 + np.floor((end - 1 - t1 - 1) * rng.random(n_acc)).astype(np.int64)

    versions = n_changes + 1
    row_account = np.repeat(np.arange(n_acc), versions)
    version = np.arange(len(row_account)) - np.repeat(np.cumsum(versions) - versions, versions)
    updated = np.select(
        [version == 0, version == 1], [created[row_account], t1[row_account]], t2[row_account]
    )
    email_changed_at = np.where(first_is_email, 1, np.where(second_is_email, 2, 99))[row_account]
    address_no = ((version >= 1) & ~first_is_email[row_account]).astype(np.int64) + (
        (version >= 2) & ~second_is_email[row_account]
    ).astype(np.int64)

    rp = person[row_account]
    pa_rp = pa.array(rp)
    row_email = pc.if_else(
        pa.array(version >= email_changed_at),
        spell.email_changed.take(pa_rp),
        email.take(pa.array(row_account)),
    )
    country = persons.country[rp]
    city = np.select(
        [address_no == 0, address_no == 1],
        [persons.city[rp], CITY_POOL.draw(rng, country)],
        CITY_POOL.draw(rng, country),
    )
    postal = pc.if_else(pa.array(address_no == 0), persons.postal.take(pa_rp), postal_codes(rng, country))
    table = pa.table(
        {
            "customer_id": ids.take(pa.array(row_account)),
            "email": row_email,
            "phone": phone.take(pa.array(row_account)),
            "first_name": FIRST_POOL.values.take(pa.array(persons.first_name[rp])),
            "last_name": LAST_POOL.values.take(pa.array(persons.last_name[rp])),
            "birth_date": pa.array(persons.birth_days[rp], type=pa.int32()).cast(pa.date32()),
            "postal_code": postal,
            "city": CITY_POOL.values.take(pa.array(city)),
            "country": take_strings([c.code for c in COUNTRIES], country),
            "created_at": ts_array(created[row_account]),
            "updated_at": ts_array(updated),
        }
    )
    return table, row_account
