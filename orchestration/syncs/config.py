"""Read and check destinations.yml: per channel, the row key, the mapped columns and the destinations.

The mapping is what a marketer or a channel owner edits, so a mistake in it (an unknown column,
a key that is not sent, a field name that is not an identifier) fails here with a message that
names the channel, before anything is sent.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from orchestration.dbt_cli import PROJECT_DIR

DEFAULT_CONFIG_PATH = Path(__file__).with_name("destinations.yml")

# The contract of activation.customer_treatments that a sync may read.
SOURCE_COLUMNS = (
    "assignment_id",
    "customer_key",
    "treatment_code",
    "channel",
    "send_window_start",
    "send_window_end",
    "send_timezone",
    "offer_code",
    "reason",
    "selection_method",
    "rule_id",
    "expected_value",
    "is_holdout",
    "holdout_type",
    "valid_until",
    "run_date",
)
CHANNELS = ("email", "sms", "push", "post", "phone")
# The sync state store (orchestration/syncs/state.py): CIW_SYNC_STATE_PATH, else this file in the
# default exports directory (defaults.file.directory / its env var), relative to the project.
STATE_PATH_ENV = "CIW_SYNC_STATE_PATH"
STATE_FILE = "_sync_state.duckdb"
DEFAULT_EXPORTS = "data/exports"
EXPORTS_ENV = "CIW_SYNC_EXPORTS_PATH"
FILE_FORMATS = ("jsonl", "csv")
# Field names end up quoted in SQL and as JSON keys / CSV headers: keep them plain.
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class SyncConfigError(ValueError):
    """destinations.yml (or a channel in it) is not usable."""


@dataclass(frozen=True)
class FileDestinationConfig:
    directory: Path
    format: str = "jsonl"


@dataclass(frozen=True)
class HttpDestinationConfig:
    url: str
    batch_size: int = 500
    timeout_seconds: float = 10.0
    max_attempts: int = 6
    backoff_initial_seconds: float = 0.5
    backoff_max_seconds: float = 30.0
    token: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class ChannelConfig:
    """One channel tool: which rows identify the same thing, which fields it gets, where they go."""

    name: str
    key: tuple[str, ...]
    # source column -> destination field, in the order the fields are written.
    columns: Mapping[str, str]
    file: FileDestinationConfig | None = None
    http: HttpDestinationConfig | None = None
    # Where this channel's sync state lives (one store for every channel of a configuration).
    state_path: Path | None = None

    def __post_init__(self) -> None:
        _check_channel(self)

    @property
    def key_fields(self) -> tuple[str, ...]:
        return tuple(self.columns[column] for column in self.key)


@dataclass(frozen=True)
class SyncConfig:
    channels: Mapping[str, ChannelConfig]
    state_path: Path | None = None


def _project_path(path: Path, project_dir: Path) -> Path:
    return path if path.is_absolute() else project_dir / path


def state_path_for(
    defaults: Mapping[str, Any], environ: Mapping[str, str], project_dir: Path = PROJECT_DIR
) -> Path:
    """The state store: CIW_SYNC_STATE_PATH, else _sync_state.duckdb in the default exports directory.

    Beside the exports because both describe what the channels were sent, and neither may go
    when the warehouse is rebuilt.
    """
    explicit = environ.get(STATE_PATH_ENV, "").strip()
    if explicit:
        return _project_path(Path(explicit), project_dir)
    file_defaults = defaults.get("file") or {}
    directory_env = file_defaults.get("directory_env", EXPORTS_ENV)
    directory = (environ.get(directory_env) if directory_env else None) or file_defaults.get(
        "directory", DEFAULT_EXPORTS
    )
    return _project_path(Path(directory) / STATE_FILE, project_dir)


def state_path_from_env(environ: Mapping[str, str] | None = None) -> Path:
    """The state store of the repository's destinations.yml defaults, for callers without a config."""
    return state_path_for(
        {"file": {"directory": DEFAULT_EXPORTS, "directory_env": EXPORTS_ENV}},
        os.environ if environ is None else environ,
    )


def _check_channel(channel: ChannelConfig) -> None:
    where = f"channel {channel.name!r}"
    if channel.name not in CHANNELS:
        raise SyncConfigError(f"{where}: not one of {', '.join(CHANNELS)}")
    if not channel.columns:
        raise SyncConfigError(f"{where}: no columns mapped")
    unknown = sorted(set(channel.columns) - set(SOURCE_COLUMNS))
    if unknown:
        raise SyncConfigError(
            f"{where}: unknown source columns {unknown}; known: {', '.join(SOURCE_COLUMNS)}"
        )
    bad_names = sorted(name for name in channel.columns.values() if not _IDENTIFIER.match(str(name)))
    if bad_names:
        raise SyncConfigError(f"{where}: field names must be identifiers, got {bad_names}")
    if len(set(channel.columns.values())) != len(channel.columns):
        raise SyncConfigError(f"{where}: two columns are mapped to the same field")
    if not channel.key:
        raise SyncConfigError(f"{where}: empty key")
    unmapped_key = [column for column in channel.key if column not in channel.columns]
    if unmapped_key:
        raise SyncConfigError(f"{where}: key columns {unmapped_key} must be mapped, the tool needs them")
    if channel.file is not None and channel.file.format not in FILE_FORMATS:
        raise SyncConfigError(f"{where}: file format {channel.file.format!r} not in {FILE_FORMATS}")
    if channel.http is not None:
        http = channel.http
        if not http.url.startswith(("http://", "https://")):
            raise SyncConfigError(f"{where}: http url must start with http:// or https://")
        if http.batch_size < 1 or http.max_attempts < 1 or http.timeout_seconds <= 0:
            raise SyncConfigError(f"{where}: batch_size, max_attempts and timeout_seconds must be positive")
        if http.backoff_initial_seconds < 0 or http.backoff_max_seconds < http.backoff_initial_seconds:
            raise SyncConfigError(f"{where}: need 0 <= backoff_initial_seconds <= backoff_max_seconds")


def _merged(defaults: Mapping[str, Any], override: Mapping[str, Any] | None) -> dict[str, Any]:
    return {**defaults, **(override or {})}


def _file_config(
    settings: Mapping[str, Any], environ: Mapping[str, str], project_dir: Path
) -> FileDestinationConfig | None:
    if not settings.get("enabled", True):
        return None
    directory_env = settings.get("directory_env")
    directory = Path(
        (environ.get(directory_env) if directory_env else None) or settings.get("directory", "data/exports")
    )
    # Relative paths are relative to the project, like the warehouse path in profiles.yml.
    return FileDestinationConfig(
        directory=directory if directory.is_absolute() else project_dir / directory,
        format=str(settings.get("format", "jsonl")),
    )


def _http_config(settings: Mapping[str, Any], environ: Mapping[str, str]) -> HttpDestinationConfig | None:
    url_env = settings.get("url_env")
    url = environ.get(url_env, "").strip() if url_env else str(settings.get("url", "")).strip()
    # Off unless an endpoint is configured: a fresh checkout syncs to files only.
    if not settings.get("enabled", True) or not url:
        return None
    token_env = settings.get("token_env")
    return HttpDestinationConfig(
        url=url,
        batch_size=int(settings.get("batch_size", 500)),
        timeout_seconds=float(settings.get("timeout_seconds", 10)),
        max_attempts=int(settings.get("max_attempts", 6)),
        backoff_initial_seconds=float(settings.get("backoff_initial_seconds", 0.5)),
        backoff_max_seconds=float(settings.get("backoff_max_seconds", 30)),
        token=(environ.get(token_env) or None) if token_env else None,
    )


def parse_config(
    document: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
    project_dir: Path = PROJECT_DIR,
) -> SyncConfig:
    """Build the checked configuration from a parsed destinations.yml document."""
    environ = os.environ if environ is None else environ
    defaults = document.get("defaults") or {}
    state_path = state_path_for(defaults, environ, project_dir)
    channels: dict[str, ChannelConfig] = {}
    for name, settings in (document.get("channels") or {}).items():
        settings = settings or {}
        unknown = sorted(set(settings) - {"key", "columns", "file", "http"})
        if unknown:
            raise SyncConfigError(f"channel {name!r}: unknown settings {unknown}")
        channels[name] = ChannelConfig(
            name=name,
            key=tuple(settings.get("key", defaults.get("key", ("customer_key", "treatment_code")))),
            columns=dict(settings.get("columns") or {}),
            file=_file_config(
                _merged(defaults.get("file") or {}, settings.get("file")), environ, project_dir
            ),
            http=_http_config(_merged(defaults.get("http") or {}, settings.get("http")), environ),
            state_path=state_path,
        )
    if not channels:
        raise SyncConfigError("no channels configured")
    return SyncConfig(channels=channels, state_path=state_path)


def load_config(
    path: Path | str | None = None,
    environ: Mapping[str, str] | None = None,
    project_dir: Path = PROJECT_DIR,
) -> SyncConfig:
    """Read destinations.yml; URLs and tokens come from the environment at the time of the call."""
    with Path(path or DEFAULT_CONFIG_PATH).open(encoding="utf-8") as handle:
        return parse_config(yaml.safe_load(handle) or {}, environ=environ, project_dir=project_dir)
