"""Reverse-ETL: send each channel the treatments that changed since it last acknowledged them.

Entry points: run_channel_sync (one channel, its destinations), run_all_syncs, the Dagster
asset factory in orchestration.defs.syncs, and `python -m orchestration.syncs`.
Configuration: destinations.yml beside this file. State and log: the state store (state.py),
a DuckDB file beside the exports (CIW_SYNC_STATE_PATH), so a warehouse rebuild resends nothing.
"""

from orchestration.syncs.config import ChannelConfig, SyncConfig, SyncConfigError, load_config
from orchestration.syncs.file_destination import FileDestination
from orchestration.syncs.http_destination import HttpDestination
from orchestration.syncs.runner import (
    DestinationResult,
    SyncResult,
    build_destinations,
    run_all_syncs,
    run_channel_sync,
)

__all__ = [
    "ChannelConfig",
    "DestinationResult",
    "FileDestination",
    "HttpDestination",
    "SyncConfig",
    "SyncConfigError",
    "SyncResult",
    "build_destinations",
    "load_config",
    "run_all_syncs",
    "run_channel_sync",
]
