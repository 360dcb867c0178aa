"""The campaign calendar: one outbound campaign about every two weeks, shared by all chunks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from orchestration.devtools.sample_data.arrays import categorical
from orchestration.devtools.sample_data.config import TREATMENT_CODES

MESSAGE_CHANNELS: tuple[str, ...] = ("email", "sms", "push")
MESSAGE_CHANNEL_WEIGHTS = (0.60, 0.15, 0.25)
TREATMENT_WEIGHTS = (0.15, 0.20, 0.25, 0.15, 0.25)
WELCOME_WINDOW_DAYS = 14.0  # WELCOME goes to every consenting account created in the last two weeks
CAMPAIGN_INTERVAL_DAYS = 14.0


@dataclass(frozen=True)
class Campaigns:
    ids: tuple[str, ...]
    day: np.ndarray  # send start, days since observation start
    channel: np.ndarray  # index into MESSAGE_CHANNELS
    treatment: np.ndarray  # index into TREATMENT_CODES
    target_share: np.ndarray

    @property
    def size(self) -> int:
        return len(self.ids)

    def latest_before(self, days: np.ndarray) -> np.ndarray:
        """Index of the most recent campaign sent before each time, -1 if none (for utm tags)."""
        return np.searchsorted(self.day, days, side="right") - 1


def build_campaigns(rng: np.random.Generator, horizon: float) -> Campaigns:
    base = np.arange(3.0, horizon - 2.0, CAMPAIGN_INTERVAL_DAYS)
    n = len(base)
    # Sends start between 07:00 and 09:00 UTC on a day near the two-week grid.
    day = np.floor(base + rng.uniform(-2.0, 2.0, n)) + rng.uniform(7.0, 9.0, n) / 24.0
    day = np.sort(np.clip(day, 1.0, horizon - 2.0))
    treatment = categorical(rng, TREATMENT_WEIGHTS, n)
    share = np.where(
        TREATMENT_CODES[0] == np.array(TREATMENT_CODES)[treatment], 1.0, rng.uniform(0.10, 0.30, n)
    )
    return Campaigns(
        ids=tuple(f"CMP{k + 1:06d}" for k in range(n)),
        day=day,
        channel=categorical(rng, MESSAGE_CHANNEL_WEIGHTS, n),
        treatment=treatment,
        target_share=share,
    )
