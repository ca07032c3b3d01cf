"""The stored md5 is sealed, hidden from errors and logs, and the SQLite files are private."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from bridge.db import Database, LoginState, UserRow
from bridge.security import CredentialVault

from .conftest import DatabaseLocation

MD5 = hashlib.md5(b"password1").hexdigest()


async def _raw_md5(db: Database, mxid: str) -> str | None:
    async with db.engine.connect() as connection:
        stored = await connection.scalar(
            text("SELECT password_md5 FROM users WHERE mxid = :mxid"), {"mxid": mxid}
        )
    return None if stored is None else str(stored)


async def test_the_column_holds_the_md5_sealed(location: DatabaseLocation, tmp_path: Path) -> None:
    vault = CredentialVault.from_file(tmp_path / "key")
    db = await Database.open(location.url, location.schema, vault=vault)
    try:
        await db.save_user(
            UserRow("@a:x", uin=10001, password_md5=MD5, login_state=LoginState.LOGGED_IN)
        )
        stored = await _raw_md5(db, "@a:x")
        assert stored is not None and stored.startswith("fernet:v1:") and MD5 not in stored
        found = await db.get_user("@a:x")
        assert found is not None and found.password_md5 == MD5
    finally:
        await db.close()
    # A copy of the database with another key (or none) logs no one in.
    other = CredentialVault.from_file(tmp_path / "another key")
    db = await Database.open(location.url, location.schema, vault=other)
    try:
        found = await db.get_user("@a:x")
        assert found is not None and found.password_md5 is None and found.uin == 10001
    finally:
        await db.close()


async def test_a_plain_md5_from_before_is_sealed_at_start_up(
    location: DatabaseLocation, tmp_path: Path
) -> None:
    plain = await location.open()  # no vault: the store as it was before encryption
    try:
        await plain.save_user(UserRow("@old:x", uin=10002, password_md5=MD5))
        await plain.save_user(UserRow("@none:x"))
        assert await _raw_md5(plain, "@old:x") == MD5
    finally:
        await plain.close()
    vault = CredentialVault.from_file(tmp_path / "key")
    db = await Database.open(location.url, location.schema, vault=vault)
    try:
        found = await db.get_user("@old:x")  # readable before the upgrade, too
        assert found is not None and found.password_md5 == MD5
        assert await db.seal_stored_logins() == 1
        assert await db.seal_stored_logins() == 0
        stored = await _raw_md5(db, "@old:x")
        assert stored is not None and MD5 not in stored and vault.open(stored) == MD5
    finally:
        await db.close()


async def test_a_unique_conflict_does_not_show_the_md5(database: Database) -> None:
    await database.save_user(UserRow("@a:x", uin=10001, password_md5=MD5))
    with pytest.raises(IntegrityError) as caught:
        await database.save_user(UserRow("@b:x", uin=10001, password_md5=MD5))
    assert MD5 not in str(caught.value) and MD5 not in repr(caught.value)


def test_a_user_row_repr_shows_no_md5() -> None:
    assert MD5 not in repr(UserRow("@a:x", uin=1, password_md5=MD5))


async def test_sqlite_files_are_created_private(tmp_path: Path) -> None:
    old_umask = os.umask(0o022)
    try:
        path = tmp_path / "bridge.db"
        db = await Database.open(f"sqlite+aiosqlite:///{path}")
        try:
            await db.save_user(UserRow("@a:x"))  # the -wal and -shm files exist while open
            files = [path, path.with_name("bridge.db-wal"), path.with_name("bridge.db-shm")]
            assert all(file.exists() for file in files)
            assert {file.stat().st_mode & 0o777 for file in files} == {0o600}
        finally:
            await db.close()
    finally:
        os.umask(old_umask)


async def test_loose_sqlite_files_are_tightened(tmp_path: Path) -> None:
    path = tmp_path / "bridge.db"
    db = await Database.open(f"sqlite+aiosqlite:///{path}")
    await db.close()
    path.chmod(0o644)
    db = await Database.open(f"sqlite+aiosqlite:///{path}")
    await db.close()
    assert path.stat().st_mode & 0o777 == 0o600
