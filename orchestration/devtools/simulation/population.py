"""The simulated customers: who they are in the generated world, and who a warehouse key stands for.

The channel tools receive resolved customer keys; the response model works on the generator's
persons. The link is the warehouse's own identity map (key -> shop accounts) joined to the
identity truth (account -> person), so a response lands on an account the warehouse will resolve
back to the key it was sent to.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from orchestration.devtools.sample_data.config import COUNTRIES, GeneratorConfig
from orchestration.devtools.sample_data.effects import PersonState, person_state_from_truth
from orchestration.devtools.sample_data.world import World, build_world
from orchestration.devtools.simulation.config import SimulationConfig


def generator_config(config: SimulationConfig) -> GeneratorConfig:
    """The world the simulation runs in: clean data, planted effects on, ending after the cool-down."""
    return GeneratorConfig(
        customers=config.customers,
        seed=config.seed,
        out=config.raw_path,
        end_date=config.end_date,
        history_days=config.history_days,
    )


@dataclass(frozen=True)
class Population:
    """Per-person arrays aligned with _truth/person_parameters.parquet rows (the PersonState order)."""

    world: World
    person_id: np.ndarray  # PRS... ids
    state: PersonState
    country: np.ndarray  # index into COUNTRIES
    mean_order: np.ndarray  # expected order value p / nu (currency units), NaN for non-buyers
    account_person: pd.Series  # customer_id -> person position
    account_email: pd.Series  # customer_id -> latest email as typed (may be null)
    order_person: pd.Series  # base order_id -> person position

    @property
    def size(self) -> int:
        return len(self.person_id)


def load_population(config: SimulationConfig) -> Population:
    """Read the generated world's truth and the accounts' emails (the raw files are not changed)."""
    truth = config.raw_path / "_truth"
    parameters = pq.read_table(truth / "person_parameters.parquet")
    person_id = np.asarray(parameters.column("person_id").to_pylist(), dtype=object)
    position = pd.Series(np.arange(len(person_id)), index=person_id)
    world = build_world(generator_config(config))

    persons = pq.read_table(truth / "persons.parquet").to_pandas()
    accounts = persons[(persons.identifier_type == "customer_id") & ~persons.is_placeholder]
    account_person = pd.Series(
        position.loc[accounts.person_id].to_numpy(), index=accounts.identifier_value.to_numpy()
    ).sort_index()

    customers = _read_table(config.raw_path, "shop", "customers", ["customer_id", "email", "updated_at"])
    latest = customers.sort_values(["customer_id", "updated_at"]).drop_duplicates("customer_id", keep="last")
    account_email = latest.set_index("customer_id").email.sort_index()

    orders = pq.read_table(truth / "orders.parquet", columns=["order_id", "person_id"]).to_pandas()
    order_person = pd.Series(position.loc[orders.person_id].to_numpy(), index=orders.order_id.to_numpy())

    codes = [c.code for c in COUNTRIES]
    country = np.array([codes.index(c) for c in parameters.column("country").to_pylist()], dtype=np.int64)
    nu = parameters.column("spend_nu").to_numpy(zero_copy_only=False)
    return Population(
        world=world,
        person_id=person_id,
        state=person_state_from_truth(parameters),
        country=country,
        mean_order=world.config.gamma_gamma.p / nu,
        account_person=account_person,
        account_email=account_email,
        order_person=order_person,
    )


def _read_table(raw: Path, source: str, table: str, columns: list[str]) -> pd.DataFrame:
    files = sorted((raw / source / table).glob("*.parquet"))
    return pd.concat([pq.read_table(f, columns=columns).to_pandas() for f in files], ignore_index=True)


def key_accounts(con: duckdb.DuckDBPyConnection, population: Population) -> pd.DataFrame:
    """customer_key -> the person behind it and the account a response is placed on.

    A key normally holds one person's accounts. When identity resolution merged two persons the
    key stands for the one owning most of its accounts (ties: the smaller person position), and
    responses go to that person's first account under the key. Keys without a known shop account
    (guests, placeholders) cannot be reached and are left out.
    """
    keys = con.execute(
        """
        select identifier_value as customer_id, customer_key
        from customer_360.identity_map
        where identifier_type = 'customer_id'
        order by customer_key, customer_id
        """
    ).df()
    keys = keys[keys.customer_id.isin(population.account_person.index)].copy()
    keys["person"] = population.account_person.loc[keys.customer_id].to_numpy()
    counts = keys.groupby(["customer_key", "person"]).size().rename("accounts").reset_index()
    owner = (
        counts.sort_values(["customer_key", "accounts", "person"], ascending=[True, False, True])
        .drop_duplicates("customer_key")
        .drop(columns="accounts")
    )
    chosen = keys.merge(owner, on=["customer_key", "person"]).drop_duplicates("customer_key")
    return chosen.set_index("customer_key")[["person", "customer_id"]].sort_index()
