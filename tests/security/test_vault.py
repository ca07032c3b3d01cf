"""Stored logins are sealed with a key file that the bridge makes, private, beside the config."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from bridge.security import (
    SEALED_PREFIX,
    CredentialVault,
    UnreadableCredential,
    ensure_key_file,
)

MD5 = hashlib.md5(b"password1").hexdigest()


def test_a_sealed_md5_opens_with_the_same_key_only(tmp_path: Path) -> None:
    vault = CredentialVault.from_file(tmp_path / "one.key")
    sealed = vault.seal(MD5)
    assert sealed.startswith(SEALED_PREFIX) and MD5 not in sealed
    assert vault.open(sealed) == MD5
    other = CredentialVault.from_file(tmp_path / "two.key")
    with pytest.raises(UnreadableCredential) as caught:
        other.open(sealed)
    assert MD5 not in str(caught.value) and sealed not in str(caught.value)


def test_a_legacy_plain_md5_is_read_and_anything_else_refused(tmp_path: Path) -> None:
    vault = CredentialVault.from_file(tmp_path / "key")
    assert vault.open(MD5.upper()) == MD5
    for junk in ("password1", "fernet:v1:not-a-token", ""):
        with pytest.raises(UnreadableCredential):
            vault.open(junk)


def test_the_key_file_is_private_and_never_replaced(tmp_path: Path) -> None:
    path = tmp_path / "qq-bridge.key"
    assert ensure_key_file(path)
    assert path.stat().st_mode & 0o777 == 0o600
    key = path.read_bytes()
    assert not ensure_key_file(path)
    assert path.read_bytes() == key


def test_a_loose_key_file_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "key"
    ensure_key_file(path)
    path.chmod(0o644)
    CredentialVault.from_file(path)
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_damaged_key_file_is_an_error_that_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "key"
    path.write_text("not a key\n")
    with pytest.raises(ValueError, match="does not hold a Fernet key"):
        CredentialVault.from_file(path)


def test_the_vault_repr_shows_no_key(tmp_path: Path) -> None:
    path = tmp_path / "key"
    vault = CredentialVault.from_file(path)
    assert path.read_text().strip() not in repr(vault)


def test_a_derived_key_is_stable_per_purpose_and_reveals_nothing(tmp_path: Path) -> None:
    vault = CredentialVault.from_file(tmp_path / "one.key")
    again = CredentialVault.from_file(tmp_path / "one.key")
    other = CredentialVault.from_file(tmp_path / "two.key")
    derived = vault.derive_key("e2ee pickle")
    assert derived == again.derive_key("e2ee pickle")
    assert derived not in (vault.derive_key("another use"), other.derive_key("e2ee pickle"))
    key = (tmp_path / "one.key").read_bytes().strip().decode()
    assert key not in derived and derived not in key
