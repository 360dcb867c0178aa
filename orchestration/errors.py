"""Errors whose message is the whole story: the entry points print them as one line, no traceback.

A user who points the generator at their own files, or starts a second writer while a build
holds the warehouse, needs to read what happened and what to do, not a stack trace. Code that
raises these puts the folder or file, the cause and the advice in the message.
"""

from __future__ import annotations


class OneLineError(RuntimeError):
    """The message says what happened and what to do; `ciw` prints it alone and exits 1."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))  # one line, whatever the caller wrapped
