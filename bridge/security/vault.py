"""The stored QQ credential, encrypted with a key kept outside the database.

The md5 of a QQ password is itself the credential (the login sends it as it is), so the store
holds it sealed with Fernet (AES-128-CBC and HMAC-SHA256, from ``cryptography``): a copy of
the database without the key file logs no one in. A stored value reads
``fernet:v1:<Fernet token>``; a value of 32 hex digits is a login stored before encryption
came, read as it is and sealed at the next start-up.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from .files import PRIVATE_FILE, make_private

log = logging.getLogger("bridge.security")

SEALED_PREFIX = "fernet:v1:"
_LEGACY_MD5 = re.compile(r"[0-9a-fA-F]{32}")


class UnreadableCredential(Exception):
    """A stored credential this key cannot open (the key file was replaced, or it is damaged).

    The message names no part of the value.
    """


def ensure_key_file(path: Path) -> bool:
    """Create a new random key at ``path`` (mode 0600) unless one is there; True if created.

    An existing key is never replaced: every login stored with it would become unreadable.
    Raises OSError when the file cannot be written.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as stream:
        stream.write(Fernet.generate_key() + b"\n")
    return True


class CredentialVault:
    """Seals and opens stored md5s: ``vault.seal(md5) -> "fernet:v1:..."``, ``vault.open(...)``."""

    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)
        self._key = key

    def derive_key(self, purpose: str) -> str:
        """A key for another secret kept in the database (the encryption device's pickles),
        derived from this one with HMAC-SHA256: the same key file protects it, and neither key
        reveals the other."""
        return hmac.new(self._key, purpose.encode(), hashlib.sha256).hexdigest()

    def __repr__(self) -> str:  # never the key
        return "CredentialVault()"

    @classmethod
    def from_file(cls, path: Path, create: bool = True) -> CredentialVault:
        """The key in ``path``, made first if missing and ``create``; tightened to 0600.

        Raises OSError if it cannot be read (or made), ValueError if it is not a Fernet key.
        """
        if create and ensure_key_file(path):
            log.warning("Generated a new key for stored QQ logins at %s; back it up", path)
        make_private(path)
        try:
            return cls(path.read_bytes().strip())
        except ValueError:
            raise ValueError(f"{path} does not hold a Fernet key") from None

    @staticmethod
    def is_sealed(stored: str) -> bool:
        return stored.startswith(SEALED_PREFIX)

    def seal(self, md5: str) -> str:
        """The value to store for ``md5``."""
        return SEALED_PREFIX + self._fernet.encrypt(md5.encode()).decode("ascii")

    def open(self, stored: str) -> str:
        """The md5 in a stored value, sealed or from before encryption (32 hex digits).

        Raises UnreadableCredential for anything else, or a value sealed with another key.
        """
        if self.is_sealed(stored):
            try:
                return self._fernet.decrypt(stored[len(SEALED_PREFIX) :].encode()).decode()
            except (InvalidToken, UnicodeDecodeError):
                raise UnreadableCredential("sealed with another key, or damaged") from None
        if _LEGACY_MD5.fullmatch(stored):
            return stored.lower()
        raise UnreadableCredential("neither sealed nor an md5")
