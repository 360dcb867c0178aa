"""An experiment run outside the warehouse (shape experiment): two arms, one shared control group.

Agencies and other tools run tests the warehouse did not plan: their export lists the control
group once, for every arm of the campaign, not once per arm. Here campaign EXTERNAL_CAMPAIGN_ID
randomizes EXTERNAL_INCLUSION of the first accounts existing at its assignment instant (06:00 UTC
on the day at EXTERNAL_POSITION of the window) into the arms of config EXTERNAL_ARMS (codes that
are not in the activation catalogue) and a shared control group: marketing.assignments gets one
row per customer, group 'treatment' with the arm's treatment_code, or group 'control' with an
empty (null) treatment_code, meaning "control for every arm of this campaign".

The arms' effects use the planted treatment model of effects.py (apply_treatments): the
control group is evaluated under every arm (nothing changes for it), so each arm's true effect
is, as for the RCTs, the mean expected effect over its treated customers and the whole control
group. Treated customers get no message in marketing.communications: the treatment happened
outside. It is planned and drawn on its own random stream after the RCTs' effects, so the other
shapes' draws are untouched.

Truth: rows of _truth/treatment_effects.parquet with campaign_id EXTERNAL_CAMPAIGN_ID and
treatment_code = the arm (n_control = the shared control group), and
_truth/external_assignment_outcomes.parquet with one row per (assignment, arm evaluated): a
treated assignment once, a control assignment once per arm (is_shared_control true).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.devtools.sample_data.accounts import Accounts
from orchestration.devtools.sample_data.arrays import dict_column, ts_array
from orchestration.devtools.sample_data.config import (
    EXTERNAL_ARMS,
    EXTERNAL_CAMPAIGN_ID,
    EXTERNAL_INCLUSION,
    EXTERNAL_POSITION,
    RCT_ASSIGNMENT_HOUR_UTC,
    RCT_CAMPAIGNS,
)
from orchestration.devtools.sample_data.effects import (
    Arms,
    apply_treatments,
    assignment_truth,
    cell_sums,
    person_state,
)
from orchestration.devtools.sample_data.marketing import GROUPS, AssignmentPlan
from orchestration.devtools.sample_data.orders import chunk_ids
from orchestration.devtools.sample_data.persons import Persons
from orchestration.devtools.sample_data.purchases import PurchaseProcess
from orchestration.devtools.sample_data.world import World

EXTERNAL = Arms.of(
    [EXTERNAL_CAMPAIGN_ID] * len(EXTERNAL_ARMS),
    [a.treatment_code for a in EXTERNAL_ARMS],
    [a.effect for a in EXTERNAL_ARMS],
)
EXTERNAL_CAUSE = len(RCT_CAMPAIGNS)  # campaign index recorded on the arms' incremental purchases
CONTROL = -1
TREATMENT_GROUP, CONTROL_GROUP = GROUPS.index("treatment"), GROUPS.index("control")


def external_assigned_at(world: World) -> int:
    day = int(np.floor(EXTERNAL_POSITION * world.horizon))
    return world.start_epoch + day * 86_400 + RCT_ASSIGNMENT_HOUR_UTC * 3_600


@dataclass(frozen=True)
class ExternalPlan:
    """The randomized customers: account index and arm (CONTROL for the shared control group)."""

    account: np.ndarray
    arm: np.ndarray
    at: int

    @property
    def size(self) -> int:
        return len(self.account)


def plan_external(world: World, rng: np.random.Generator, accounts: Accounts) -> ExternalPlan:
    at = external_assigned_at(world)
    eligible = ~accounts.is_second & (accounts.created < at)
    account = np.flatnonzero(eligible & (rng.random(accounts.size) < EXTERNAL_INCLUSION))
    bounds = np.cumsum([a.share for a in EXTERNAL_ARMS])
    arm = np.searchsorted(bounds, rng.random(account.size), side="right")
    return ExternalPlan(account=account, arm=np.where(arm < len(EXTERNAL_ARMS), arm, CONTROL), at=at)


def evaluation_rows(plan: ExternalPlan) -> tuple[AssignmentPlan, np.ndarray]:
    """Rows to evaluate: each treated assignment under its arm, each control under every arm.

    Returns the rows (campaign = arm index) and each row's position in the plan.
    """
    treated = np.flatnonzero(plan.arm != CONTROL)
    control = np.flatnonzero(plan.arm == CONTROL)
    n_arms = len(EXTERNAL_ARMS)
    source = np.concatenate([treated, np.tile(control, n_arms)])
    arm = np.concatenate([plan.arm[treated], np.repeat(np.arange(n_arms), control.size)])
    rows = AssignmentPlan(
        account=plan.account[source],
        campaign=arm,
        at=np.full(source.size, plan.at, dtype=np.int64),
        treated=np.arange(source.size) < treated.size,
    )
    return rows, source


@dataclass(frozen=True)
class ExternalExperiment:
    process: PurchaseProcess  # with the arms' incremental purchases and spend changes
    assignments: pa.Table  # rows to append to marketing.assignments
    outcomes: pa.Table  # _truth/external_assignment_outcomes.parquet rows
    cells: pa.Table  # partial sums per (arm, segment, tier) for treatment_effects.parquet


def run_external(
    world: World,
    rng: np.random.Generator,
    chunk: int,
    first_number: int,
    persons: Persons,
    process: PurchaseProcess,
    accounts: Accounts,
) -> ExternalExperiment:
    """Plan the outside experiment of one chunk and apply its arms' planted effects.

    `first_number` is the chunk-local number of its first assignment id (after the RCTs').
    """
    plan = plan_external(world, rng, accounts)
    state = person_state(world, persons, process)
    rows, source = evaluation_rows(plan)
    person = accounts.person[rows.account]
    cause = np.full(rows.size, EXTERNAL_CAUSE, dtype=np.int64)
    process, resp, outcome = apply_treatments(
        world, rng, persons, process, state, person, rows, EXTERNAL, cause
    )

    ids = chunk_ids("ASG", chunk, first_number + np.arange(plan.size))
    is_control = plan.arm == CONTROL
    assignments = pa.table(
        {
            "assignment_id": ids,
            "customer_id": accounts.customer_id.take(pa.array(plan.account)),
            "campaign_id": dict_column([EXTERNAL_CAMPAIGN_ID], np.zeros(plan.size, np.int64)),
            "treatment_code": dict_column(EXTERNAL.treatment_codes, np.maximum(plan.arm, 0), is_control),
            "group": dict_column(GROUPS, np.where(is_control, CONTROL_GROUP, TREATMENT_GROUP)),
            "assigned_at": ts_array(np.full(plan.size, plan.at, dtype=np.int64)),
        }
    )
    outcomes = assignment_truth(
        persons, accounts, ids.take(pa.array(source)), rows, state, resp, outcome, EXTERNAL
    )
    outcomes = outcomes.append_column("is_shared_control", pc.invert(pa.array(rows.treated)))
    return ExternalExperiment(
        process=process,
        assignments=assignments,
        outcomes=outcomes,
        cells=cell_sums(rows, state, outcome, EXTERNAL.size),
    )
