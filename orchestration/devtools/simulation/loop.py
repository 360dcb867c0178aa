"""The closed loop: generate a world, then per run date build, sync, send, respond; then measure.

    world (generator, end = last day)  ->  for each run date D (every `step` days):
        dbt <step_command> as_of D        activation picks treatments and holdouts
        file sync                          one file per channel with the treated rows
        channel tools send                 the messages whose send window opens before the next run
        customers respond                  new raw part files; lines of future orders rescaled
    ->  dbt <final_command> as of the world's last day: measurement over complete windows
    ->  planted vs measured (comparison.py)

The warehouse never sees a row dated after its as-of date, so the generated future stays
invisible until the calendar reaches it, and responses land in that future before any build
can read it.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from orchestration.dbt_cli import DbtWorkspace, run_dbt
from orchestration.devtools.owned_folder import claim_folder
from orchestration.devtools.sample_data import generate
from orchestration.devtools.simulation.channels import ChannelTools
from orchestration.devtools.simulation.config import SimulationConfig
from orchestration.devtools.simulation.orderbook import OrderBook
from orchestration.devtools.simulation.population import generator_config, key_accounts, load_population
from orchestration.devtools.simulation.responses import Responder
from orchestration.syncs import load_config, run_all_syncs
from orchestration.warehouse_lock import connect

STEP_SELECTOR = "+treatment_assignment_history"  # activation and everything it reads
FINAL_SELECTOR = "+treatment_effects"  # what the comparison reads, when the final command is `run`


class SimulationError(RuntimeError):
    """A dbt step or a sync failed: the loop cannot go on."""


@dataclass(frozen=True)
class StepLog:
    run_date: str
    dbt_seconds: float
    simulated_orders_visible: int  # responses of earlier steps the build saw (shop orders staged)
    synced_rows: int
    upserts: int
    deletes: int
    sent: int
    unreachable: int
    responsive: int
    offer_running: int
    effective: int
    incremental_orders: int
    spend_changed_orders: int
    unsubscribes: int


def _say(config: SimulationConfig, message: str) -> None:
    if not config.quiet:
        print(message, file=sys.stderr, flush=True)


def _epoch(day: date) -> int:
    return int(pd.Timestamp(day, tz="UTC").timestamp())


SIMULATION_MARKER = ".ciw-simulation"


def prepare(config: SimulationConfig) -> None:
    """A fresh world and empty outputs: a simulation always starts from its seed.

    Only in a folder of its own (claim_folder: absent, empty, or marked by an earlier
    simulation); there it removes what it writes, raw files included (the responses of the last
    run are raw part files the generator did not write).
    """
    claim_folder(config.out, SIMULATION_MARKER, "ciw simulate", "--out")
    for path in (config.raw_path, config.exports_path, config.ledger_path, config.dbt_dir):
        shutil.rmtree(path, ignore_errors=True)
    config.duckdb_path.unlink(missing_ok=True)
    config.ledger_path.mkdir(parents=True)
    generate(generator_config(config))


def dbt(config: SimulationConfig, command: str, as_of: date, select: str | None) -> float:
    workspace = DbtWorkspace(config.raw_path, config.duckdb_path, config.dbt_dir)
    args = [command, "--vars", json.dumps({"as_of": as_of.isoformat()}), "--threads", str(config.threads)]
    if select:
        args += ["--select", select]
        if command == "build":
            args += ["--indirect-selection", "cautious"]
    started = time.perf_counter()
    result = run_dbt(args, workspace)
    if result.returncode != 0:
        raise SimulationError(f"dbt {command} as of {as_of} failed:\n{result.stdout[-6000:]}")
    return time.perf_counter() - started


def dbt_seed(config: SimulationConfig) -> None:
    workspace = DbtWorkspace(config.raw_path, config.duckdb_path, config.dbt_dir)
    result = run_dbt(["seed", "--threads", str(config.threads)], workspace)
    if result.returncode != 0:
        raise SimulationError(f"dbt seed failed:\n{result.stdout[-6000:]}")


def run_simulation(config: SimulationConfig) -> Path:
    """Run the whole loop; returns the ledger directory (sends, spend changes, steps, report)."""
    runs = config.run_dates
    _say(
        config,
        f"simulation: {config.customers} customers, runs {runs[0]} .. {runs[-1]} every {config.step} day(s) "
        f"({len(runs)} runs), final measurement as of {config.final_as_of}",
    )
    prepare(config)
    # `dbt run` does not load seeds; the rules and reference data are needed from the first run.
    dbt_seed(config)
    population = load_population(config)
    book = OrderBook(config.raw_path, population)
    responder = Responder(config, population, book)
    sync_config = load_config(environ={"CIW_SYNC_EXPORTS_PATH": str(config.exports_path)})
    tools = ChannelTools(sync_config)
    steps: list[StepLog] = []
    sends: list[pd.DataFrame] = []

    for step, run_date in enumerate(runs):
        seconds = dbt(config, config.step_command, run_date, STEP_SELECTOR)
        results = run_all_syncs(config.duckdb_path, sync_config, run_id=f"sim-{run_date.isoformat()}")
        if not all(result.ok for result in results):
            raise SimulationError(f"the file sync of {run_date} failed: {results}")
        counts = tools.import_files(results, run_date.isoformat())
        # The next run happens just after midnight following its as-of date; the last run has no next.
        last = step == len(runs) - 1
        next_sync = None if last else pd.Timestamp(runs[step + 1] + timedelta(days=1), tz="UTC")
        due = tools.send_before(next_sync)
        with connect(config.duckdb_path, read_only=True) as con:
            keys = key_accounts(con, population)
            visible = con.execute(
                "select count(*) from staging.stg_shop__orders where order_id like 'OSIM%'"
            ).fetchone()[0]
        responses = responder.respond(due, keys, run_date, step, _epoch(run_date + timedelta(days=1)))
        written = responder.write(responses, run_date)
        drawn = responses.sends
        sends.append(drawn)
        steps.append(
            StepLog(
                run_date=run_date.isoformat(),
                dbt_seconds=round(seconds, 1),
                simulated_orders_visible=int(visible),
                synced_rows=sum(r.total("added") + r.total("changed") for r in results),
                upserts=counts["upserts"],
                deletes=counts["deletes"],
                sent=len(drawn),
                unreachable=int((~drawn.is_reachable).sum()),
                responsive=int(drawn.is_responsive.sum()),
                offer_running=int(drawn.is_offer_running.sum()),
                effective=int(drawn.is_effective.sum()),
                incremental_orders=written["shop/orders"],
                spend_changed_orders=responses.spend_changes.order_id.nunique(),
                unsubscribes=written["crm/consents"],
            )
        )
        _say(
            config,
            f"  {run_date} ({seconds:.0f}s dbt): "
            + ", ".join(
                f"{k} {v}" for k, v in asdict(steps[-1]).items() if k not in ("run_date", "dbt_seconds")
            ),
        )
        _write_ledger(config, steps, sends, book)

    select = None if config.final_command == "build" else FINAL_SELECTOR
    seconds = dbt(config, config.final_command, config.final_as_of, select)
    _say(config, f"  final {config.final_command} as of {config.final_as_of}: {seconds:.0f}s")
    return config.ledger_path


def _write_ledger(
    config: SimulationConfig, steps: list[StepLog], sends: list[pd.DataFrame], book: OrderBook
) -> None:
    """The simulation's own truth, rewritten after every step so a stopped run can be inspected."""
    directory = config.ledger_path
    frame = pd.concat(sends, ignore_index=True)
    frame.assign(send_at=frame.send_at.astype(str)).to_parquet(directory / "sends.parquet", index=False)
    book.ledger().to_parquet(directory / "spend_changes.parquet", index=False)
    (directory / "steps.json").write_text(json.dumps([asdict(s) for s in steps], indent=2) + "\n")
