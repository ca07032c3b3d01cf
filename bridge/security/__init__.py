"""Keeping the QQ credential secret: at rest (``vault``), on disk (``files``) and in Matrix
(``login_text``, which spots a password typed into a room)."""

from .files import make_private, private_sqlite_files
from .login_text import looks_like_login
from .vault import SEALED_PREFIX, CredentialVault, UnreadableCredential, ensure_key_file

__all__ = [
    "SEALED_PREFIX",
    "CredentialVault",
    "UnreadableCredential",
    "ensure_key_file",
    "looks_like_login",
    "make_private",
    "private_sqlite_files",
]
