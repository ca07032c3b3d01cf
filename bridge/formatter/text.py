"""Small plain-text helpers shared by the formatter's modules."""

from __future__ import annotations

QUOTE_LIMIT = 60
ELLIPSIS = "…"


def strip_outer_blank_lines(text: str) -> str:
    """Drop whitespace-only lines at both ends; everything else is kept exactly.

    Only "\\n" separates lines so that "\\r", form feeds and Unicode separators inside the text
    survive untouched; indentation of the first line and trailing spaces of the last are content.
    """
    lines = text.split("\n")
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return "\n".join(lines[start:end])


def nonblank(text: str) -> str | None:
    """The text with outer blank lines stripped, or None if nothing visible remains."""
    stripped = strip_outer_blank_lines(text)
    return stripped if stripped else None


def one_line(text: str, limit: int = QUOTE_LIMIT) -> str:
    """Collapse all whitespace runs to single spaces and cut to ``limit`` characters (+ …)."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    return flat[:limit].rstrip() + ELLIPSIS
