"""Closed-loop simulation: the warehouse treats simulated customers, they respond, it measures.

    ciw simulate --customers 2000 --days 60 --step 7 --seed 7 --out DIR

Modules, in the order the loop uses them:
- config.py: sizes, the calendar (runs, cool-down, final build) and the planted response model
  of each activation treatment (EFFECT_MODEL: the generator's effect model it draws from);
- population.py: the generated persons, and which person a warehouse customer_key stands for;
- channels.py: the channel tools reading the sync files and sending at the send window;
- responses.py, orderbook.py: the planted responses as new raw rows (and rescaled future orders);
- loop.py: generate, then per run date dbt -> file sync -> send -> respond; then the final build;
- comparison.py, report.py: planted vs measured per treatment.
"""

from orchestration.devtools.simulation.config import EFFECT_MODEL, SimulationConfig
from orchestration.devtools.simulation.loop import run_simulation

__all__ = ["EFFECT_MODEL", "SimulationConfig", "run_simulation"]
