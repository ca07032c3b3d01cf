"""Logging a failure without its message: an exception's text may quote what a user wrote, and
what a user wrote may be a password (rule: no secret in any log)."""

from __future__ import annotations

import traceback


def failure(error: BaseException) -> str:
    """``error``'s type, then where it was raised: the traceback's frames, not its message."""
    frames = "".join(traceback.format_tb(error.__traceback__))
    return f"{type(error).__name__}\n{frames}".rstrip()
