"""One writer at a time on a DuckDB file: wait for the lock, then fail with one line that says who holds it.

DuckDB lets one process hold a database file for writing; any other process that opens it, even
read-only, gets "IO Error: Could not set lock on file ...: Conflicting lock is held in <program>
(PID <n>)". Every entry point of the project that opens the warehouse or the sync state store
goes through `connect` here: it retries with a growing pause for CIW_LOCK_TIMEOUT_SECONDS
(default 60), then raises WarehouseLockedError, whose message names the holder (its PID and,
when /proc shows it, its command line) and what to do. dbt opens the file itself, so its
callers call `wait_until_writable` first and `lock_error_in` on its output afterwards.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import duckdb

from orchestration.errors import OneLineError

TIMEOUT_ENV = "CIW_LOCK_TIMEOUT_SECONDS"
DEFAULT_TIMEOUT_SECONDS = 60.0
FIRST_PAUSE_SECONDS = 0.1
MAX_PAUSE_SECONDS = 2.0
_LOCK_MESSAGE = re.compile(r"Could not set lock on file \"(?P<path>[^\"]*)\"", re.IGNORECASE)
_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.*?) \(PID (?P<pid>\d+)\)")
_COMMAND_LINE_CHARS = 160

T = TypeVar("T")


class WarehouseLockedError(OneLineError):
    """Another process held the DuckDB file for longer than the lock timeout."""

    def __init__(self, message: str, pid: int | None = None) -> None:
        super().__init__(message)
        self.pid = pid


def lock_timeout(timeout: float | None = None) -> float:
    """Seconds to wait for a lock: the argument, else CIW_LOCK_TIMEOUT_SECONDS, else 60."""
    if timeout is not None:
        return max(0.0, float(timeout))
    text = os.environ.get(TIMEOUT_ENV, "").strip()
    try:
        return max(0.0, float(text)) if text else DEFAULT_TIMEOUT_SECONDS
    except ValueError:
        return DEFAULT_TIMEOUT_SECONDS


def is_lock_error(error: BaseException) -> bool:
    return isinstance(error, duckdb.IOException) and bool(_LOCK_MESSAGE.search(str(error)))


def lock_error_in(text: str) -> str | None:
    """DuckDB's lock message when `text` (dbt's output, say) contains one; else None."""
    match = _LOCK_MESSAGE.search(text)
    if match is None:
        return None
    end = text.find("\n", match.start())
    return text[match.start() : end if end >= 0 else len(text)]


def command_line(pid: int) -> str | None:
    """The process's command line from /proc, shortened; None when it is gone or not readable."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    text = " ".join(part for part in raw.decode("utf-8", "replace").split("\0") if part)
    if not text:
        return None
    return text if len(text) <= _COMMAND_LINE_CHARS else text[: _COMMAND_LINE_CHARS - 3] + "..."


def holder(message: str) -> tuple[int | None, str]:
    """(PID, description) of the process DuckDB says holds the lock; (None, "another process") if unsaid."""
    match = _HOLDER.search(message)
    if match is None:
        return None, "another process"
    pid = int(match["pid"])
    shown = command_line(pid) or match["program"]
    return pid, f"PID {pid} ({shown})"


def locked_message(path: Path | str, message: str, waited: float | None = None) -> tuple[str, int | None]:
    """(one-line message, holder PID) for DuckDB's lock error `message` on `path`."""
    pid, who = holder(message)
    stop = f"wait for it to finish or stop it (kill {pid})" if pid else "wait for it to finish or stop it"
    waited_text = f"; waited {waited:.0f} s" if waited is not None else ""
    text = (
        f"{path} is held by {who}{waited_text}. DuckDB allows one writer at a time: "
        f"{stop}, then run this again (set {TIMEOUT_ENV} to wait longer)."
    )
    return text, pid


def retry_while_locked(
    action: Callable[[], T], path: Path | str, timeout: float | None = None, what: str = ""
) -> T:
    """Run `action` (an open or attach of `path`), again and again while the file is locked.

    Pauses grow from 0.1 s to 2 s; after `timeout` seconds (lock_timeout) the last lock error
    becomes a WarehouseLockedError. Other errors pass through at once.
    """
    limit = lock_timeout(timeout)
    started = time.monotonic()
    pause = FIRST_PAUSE_SECONDS
    while True:
        try:
            return action()
        except duckdb.IOException as error:
            if not is_lock_error(error):
                raise
            waited = time.monotonic() - started
            if waited >= limit:
                text, pid = locked_message(path, str(error), waited)
                raise WarehouseLockedError(f"{what}{text}", pid) from None
            time.sleep(min(pause, max(0.0, limit - waited)))
            pause = min(pause * 2, MAX_PAUSE_SECONDS)


def connect(
    path: Path | str, read_only: bool = False, timeout: float | None = None
) -> duckdb.DuckDBPyConnection:
    """duckdb.connect(path), waiting up to the lock timeout while another process holds the file."""
    return retry_while_locked(lambda: duckdb.connect(str(path), read_only=read_only), path, timeout)


def wait_until_writable(path: Path | str, timeout: float | None = None) -> None:
    """Return once `path` can be opened for writing (opened and closed again); raise when it cannot.

    For tools that open the file themselves (dbt): a lock they would hit is waited for here.
    A file that does not exist yet is nobody's: nothing to wait for.
    """
    if not Path(path).exists():
        return
    connect(path, timeout=timeout).close()
