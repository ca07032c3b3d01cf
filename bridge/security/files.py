"""Files that hold secrets are readable by their owner only."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from sqlalchemy.engine import make_url

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700
# SQLite's companions of a database file: they hold recent writes, logins included.
SQLITE_SUFFIXES = ("", "-wal", "-shm", "-journal")


def make_private(path: Path, directory: bool = False) -> None:
    """Take away every permission of group and others from ``path`` (if it exists and is ours).

    Raises nothing: a file we do not own (a read-only mount, say) is left as it is.
    """
    with contextlib.suppress(OSError):
        mode = path.stat().st_mode & 0o777
        wanted = mode & (PRIVATE_DIR if directory else PRIVATE_FILE)
        if mode != wanted:
            path.chmod(wanted)


def private_sqlite_files(url: str) -> None:
    """Before SQLite opens the file of ``url``: create it 0600 if missing, tighten it if not.

    SQLite gives the -wal and -shm files it creates the permissions of the database file, so
    a private database file keeps them private too; existing ones are tightened here as well.
    Does nothing for an in-memory database or another backend.
    """
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return
    if database.startswith("file:"):
        return  # a URI filename: its options are SQLite's business
    path = Path(database)
    with contextlib.suppress(FileExistsError, FileNotFoundError):
        # O_EXCL: never truncate; a missing directory is SQLite's error to report, not ours.
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    for suffix in SQLITE_SUFFIXES:
        make_private(path.with_name(path.name + suffix))


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path``, readable by its owner only (an existing file is tightened)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    with os.fdopen(fd, "w", encoding="utf-8") as stream:
        stream.write(text)
    make_private(path)
