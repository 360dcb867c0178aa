"""What a closed-loop simulation runs: sizes, calendar, the planted response model and where files go.

The calendar is laid out backwards from the world's end date so that every treatment delivered
during the simulated days has its whole response window inside the generated world:

    first run ... last run (every `step` days, `days` days in all) | cool-down | final build
                                                                   (window + send delay)

The pipeline runs (dbt, then the file sync) on each run date with as_of = that date; nothing is
sent during the cool-down; the final build, as of the world's last day, measures every
delivered assignment over a complete response window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from orchestration.devtools.sample_data.config import (
    RESPONSE_DELAY_DAYS,
    RESPONSE_WINDOW_DAYS,
    TREATMENT_CODES,
)

# Activation's treatment codes (seeds/activation_treatments.csv) -> the generator effect model
# (sample_data/config.py TREATMENT_EFFECTS) a delivered treatment draws its response from. The
# generator plants effects for five codes; the other three get a documented stand-in:
# a cart reminder nudges like the welcome offer (flat +5 points of purchase probability), a
# VIP call works like the loyalty bonus (strongest on high-value customers), and the service
# apology is planted at zero, a second false-positive check beside the newsletter.
EFFECT_MODEL: dict[str, str] = {
    "WELCOME": "WELCOME",
    "CART_REMINDER": "WELCOME",
    "CROSS_SELL": "CROSS_SELL",
    "LOYALTY_BONUS": "LOYALTY_BONUS",
    "WINBACK_10": "WINBACK_10",
    "VIP_CALL": "LOYALTY_BONUS",
    "SERVICE_RECOVERY": "NEWSLETTER",
    "NEWSLETTER": "NEWSLETTER",
}
ZERO_EFFECT_MODEL = "NEWSLETTER"  # the generator's zero effect, for codes not listed above

# A send fires at its send-window start; activation schedules it up to 6 days after the day
# following as_of (the customer's preferred weekday), so its window ends at most this many days
# after the run date (+1 for the hours within the day).
MAX_SEND_DELAY_DAYS = 8
SIMULATION_STREAM = 0x51_4D  # seeds the simulation's draws apart from the generator's streams


def effect_model(treatment_code: str) -> str:
    return EFFECT_MODEL.get(treatment_code, ZERO_EFFECT_MODEL)


def effect_index(treatment_code: str) -> int:
    """Index into the generator's TREATMENT_CODES (its effect matrices) for an activation code."""
    return TREATMENT_CODES.index(effect_model(treatment_code))


@dataclass(frozen=True)
class SimulationConfig:
    """One simulation: the generated world, the loop's calendar and the dbt commands per step.

    step_command runs on every simulated day (default `run`: the models up to activation,
    without their tests, to keep a step near a minute); final_command builds the measurement
    (default `build`: every model and test, which also validates the simulated raw rows).
    """

    customers: int
    days: int
    step: int
    seed: int
    out: Path
    end_date: date = date(2026, 9, 30)
    history_days: int = 1095
    window_days: float = RESPONSE_WINDOW_DAYS
    delay_days: float = RESPONSE_DELAY_DAYS
    step_command: str = "run"
    final_command: str = "build"
    threads: int = 1
    quiet: bool = False

    def __post_init__(self) -> None:
        if self.customers < 100:
            raise ValueError("customers must be at least 100")
        if self.days < 1 or self.step < 1:
            raise ValueError("days and step must be at least 1")
        if self.step_command not in ("run", "build") or self.final_command not in ("run", "build"):
            raise ValueError("step_command and final_command must be run or build")
        if self.window_days != RESPONSE_WINDOW_DAYS:
            raise ValueError("window_days must equal the generator's response window")
        object.__setattr__(self, "out", Path(self.out).resolve())
        if self.history_days - self.cooldown_days - self.days < 365:
            raise ValueError("history_days leaves less than a year of history before the simulation")

    # --- calendar -------------------------------------------------------------------------------

    @property
    def cooldown_days(self) -> int:
        return math.ceil(self.window_days) + MAX_SEND_DELAY_DAYS

    @property
    def final_as_of(self) -> date:
        """The world's last complete day: the final build measures as of it."""
        return self.end_date - timedelta(days=1)

    @property
    def first_run(self) -> date:
        return self.final_as_of - timedelta(days=self.cooldown_days + self.days - 1)

    @property
    def run_dates(self) -> tuple[date, ...]:
        return tuple(self.first_run + timedelta(days=k) for k in range(0, self.days, self.step))

    # --- where files go ---------------------------------------------------------------------------

    @property
    def raw_path(self) -> Path:
        return self.out / "raw"

    @property
    def duckdb_path(self) -> Path:
        return self.out / "warehouse.duckdb"

    @property
    def dbt_dir(self) -> Path:
        return self.out / "dbt"

    @property
    def exports_path(self) -> Path:
        return self.out / "exports"

    @property
    def ledger_path(self) -> Path:
        """The simulation's own truth: deliveries, responses, planted vs measured."""
        return self.out / "simulation"
