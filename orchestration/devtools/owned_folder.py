"""Folders a developer tool may empty: only its own, marked by a file it wrote there.

`ciw simulate` wipes its output folder before every run; pointed at a folder of the user's by
mistake, it would take their files with it. So a tool claims a folder once (absent or holding no
files: it writes its marker) and empties it only while the marker is there; any other folder is
refused with one line naming it.
"""

from __future__ import annotations

from pathlib import Path

from orchestration.errors import OneLineError


class ForeignFolderError(OneLineError):
    """A tool was pointed at a folder holding files it did not make."""


def first_file(folder: Path) -> str | None:
    """Some file under `folder` (relative path), or None when it holds only folders or nothing."""
    for path in sorted(folder.rglob("*")):
        if not path.is_dir():
            return path.relative_to(folder).as_posix()
    return None


def claim_folder(folder: Path, marker: str, tool: str, option: str) -> None:
    """Make `folder` usable by `tool`: create and mark it, accept it marked, or refuse it.

    option names the argument the user changes to point the tool elsewhere (e.g. "--out").
    """
    if folder.exists() and not folder.is_dir():
        raise ForeignFolderError(f"{folder} is a file, not a folder: pass another {option} to {tool}.")
    if (folder / marker).is_file():
        return
    if folder.exists():
        found = first_file(folder)
        if found is not None:
            raise ForeignFolderError(
                f"Refusing to use {folder} for {tool}: it holds files {tool} did not make (e.g. {found}), "
                f"and {tool} empties its folder first. Pass an empty or new folder as {option}."
            )
    folder.mkdir(parents=True, exist_ok=True)
    (folder / marker).write_text(f"This folder belongs to {tool}, which empties it before each run.\n")
