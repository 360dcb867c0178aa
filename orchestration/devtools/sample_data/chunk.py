"""Everything generated for one chunk of persons: raw tables, truth rows and (optionally) faults.

`generate_chunk(world, index)` is a pure function of its arguments: its random stream is
SeedSequence([seed, CHUNK_STREAM, index]) and all ids are derived from global numbers. Faults use
their own stream, so the clean rows are identical with and without --faults. Experiments and
loyalty memberships are planned (PLAN_STREAM) before any order is built, because the planted
effects (EFFECT_STREAM, effects.py) add purchases and change order values. The shape
(shaping.py, its own streams) then turns the clean tables into what its company exports, before
faults are planted; only the shape's tables (and their fault records) leave the chunk.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from orchestration.devtools.sample_data.accounts import build_accounts, build_spellings
from orchestration.devtools.sample_data.config import PERSON_TYPES
from orchestration.devtools.sample_data.cookies import build_cookies
from orchestration.devtools.sample_data.crm import (
    consent_history,
    loyalty_members,
    plan_memberships,
    service_cases,
    surveys,
)
from orchestration.devtools.sample_data.effects import apply_effects
from orchestration.devtools.sample_data.external import run_external
from orchestration.devtools.sample_data.faults import ChunkLinks, plant_chunk_faults, records_of_tables
from orchestration.devtools.sample_data.marketing import assignments, communications, plan_assignments
from orchestration.devtools.sample_data.orders import build_orders
from orchestration.devtools.sample_data.persons import build_persons
from orchestration.devtools.sample_data.purchases import draw_purchases
from orchestration.devtools.sample_data.revenue import revenue_parts
from orchestration.devtools.sample_data.shapes import EXPERIMENT
from orchestration.devtools.sample_data.shaping import shape_chunk
from orchestration.devtools.sample_data.truth import (
    identity_rows,
    normalise_email,
    normalise_phone,
    orders_truth,
    parameters_table,
    segments_table,
)
from orchestration.devtools.sample_data.web import build_events, page_vocabulary
from orchestration.devtools.sample_data.world import (
    CHUNK_STREAM,
    EFFECT_STREAM,
    EXTERNAL_STREAM,
    FAULT_STREAM,
    PLAN_STREAM,
    SHAPE_STREAM,
    World,
)


@dataclass
class ChunkOutput:
    index: int
    persons_by_type: dict[str, int]
    main: dict[str, pa.Table]
    late: dict[str, pa.Table] = field(default_factory=dict)
    truth: dict[str, pa.Table] = field(default_factory=dict)
    faults: list[pa.Table] = field(default_factory=list)
    stats: dict[str, pa.Table] = field(default_factory=dict)  # partial sums, added up by the generator
    samples: dict[str, pa.Table] = field(default_factory=dict)  # rows the generator concatenates


def generate_chunk(world: World, index: int) -> ChunkOutput:
    rng = world.rng(CHUNK_STREAM, index)
    start, stop = world.chunk_bounds(index)
    persons = build_persons(world, rng, start, stop)
    process = draw_purchases(world, rng, persons)
    spell = build_spellings(world, rng, persons)
    accounts = build_accounts(world, rng, persons, process, spell)
    plan_rng = world.rng(PLAN_STREAM, index)
    rct = plan_assignments(world, plan_rng, accounts)
    members = plan_memberships(world, plan_rng, persons, process)
    assignment_table = assignments(index, accounts, rct)
    effects = apply_effects(
        world,
        world.rng(EFFECT_STREAM, index),
        persons,
        process,
        accounts,
        assignment_table.column("assignment_id").combine_chunks(),
        rct,
        members,
    )
    process = effects.process
    external = None
    if world.shape.name == EXPERIMENT:
        external = run_external(
            world,
            world.rng(EXTERNAL_STREAM, index),
            index,
            assignment_table.num_rows + 1,
            persons,
            process,
            accounts,
        )
        process = external.process
        assignment_table = pa.concat_tables([assignment_table, external.assignments]).combine_chunks()
    orders = build_orders(world, rng, index, persons, process, accounts, spell)
    cookies = build_cookies(world, rng, persons, orders)
    events = build_events(
        world, rng, index, persons, process, accounts, orders, cookies, page_vocabulary(world)
    )
    signup, consent_log = consent_history(world, rng, accounts)
    loyalty, loyalty_person = loyalty_members(world, rng, persons, process, accounts, members)
    cases = service_cases(world, rng, index, persons, orders)
    survey_table, _ = surveys(world, rng, index, persons, accounts, orders, cases)
    comms, consent_log = communications(world, rng, index, persons, accounts, signup, consent_log, rct)

    tables = {
        "shop.customers": accounts.customers,
        "shop.orders": orders.orders_table,
        "shop.order_lines": orders.lines_table,
        "shop.returns": orders.returns_table,
        "web.events": events.table,
        "crm.consents": consent_log.with_unique_instants().table(accounts),
        "crm.loyalty_members": loyalty,
        "crm.service_cases": cases.table,
        "crm.surveys": survey_table,
        "marketing.communications": comms,
        "marketing.assignments": assignment_table,
    }
    shaped = shape_chunk(world, world.rng(SHAPE_STREAM, index), persons, accounts, orders, tables)
    tables, cust_person = shaped.tables, shaped.customers_person
    customers, order_table = tables["shop.customers"], tables["shop.orders"]
    written = set(world.shape.tables)
    cookie_flat, cookie_person = events.cookie_pairs
    identity_parts = [
        ("customer_id", customers.column("customer_id").combine_chunks(), cust_person),
        ("email", normalise_email(customers.column("email").combine_chunks()), cust_person),
        ("email", normalise_email(order_table.column("email").combine_chunks()), orders.person),
        ("phone", normalise_phone(customers.column("phone").combine_chunks()), cust_person),
    ]
    if "web.events" in written:
        identity_parts.append(
            ("anonymous_id", cookies.anonymous_id.take(pa.array(cookie_flat)), cookie_person)
        )
    if "crm.loyalty_members" in written:
        identity_parts.append(("member_id", loyalty.column("member_id").combine_chunks(), loyalty_person))
    kinds = np.bincount(persons.kind, minlength=len(PERSON_TYPES))
    out = ChunkOutput(
        index=index, persons_by_type=dict(zip(PERSON_TYPES, map(int, kinds), strict=True)), main=tables
    )
    placeholders: list[tuple[str, str, np.ndarray]] = []
    if world.config.faults:
        links = ChunkLinks(
            order_day=orders.day,
            order_is_guest=order_table.column("customer_id").is_null().to_numpy(zero_copy_only=False),
            order_person=orders.person,
            line_order=orders.lines.order,
            return_order=orders.return_order,
            event_order=events.order,
            customers_person=cust_person,
            line_product=orders.lines.product,
            return_product=orders.lines.product[orders.return_line],
            event_product=events.product,
        )
        planted = plant_chunk_faults(world, world.rng(FAULT_STREAM, index), index, tables, links)
        out.main, out.late, out.faults = planted.main, planted.late, planted.records
        placeholders = planted.placeholders
    out.main = {name: table for name, table in out.main.items() if name in written}
    out.late = {name: table for name, table in out.late.items() if name in written}
    out.faults = [records_of_tables(records, written) for records in out.faults]

    out.truth = {
        "persons": identity_rows(identity_parts, placeholders, persons.gidx),
        "segments": segments_table(persons.gidx, persons.segment),
        "person_parameters": parameters_table(world, persons, process),
        "orders": orders_truth(orders, process, persons.gidx),
        **effects.truth,
    }
    out.stats = dict(effects.stats)
    out.stats["revenue"], out.samples = revenue_parts(shaped.money, cust_person, persons.size)
    if shaped.counts:
        out.stats["shape_counts"] = shaped.counts_table()
    if external is not None:
        out.truth["external_assignment_outcomes"] = external.outcomes
        out.stats["external_cells"] = external.cells
    return out
