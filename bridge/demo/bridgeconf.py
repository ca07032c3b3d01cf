"""Point a bridge config at loopback servers: shared by the demo and the end-to-end tests."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["SERVER_NAME", "configure_for_loopback", "sqlite_url"]

# The throwaway Synapse's server name. Fixed, because the registration (made before Synapse
# starts) and the bridge config must both name it.
SERVER_NAME = "localhost"


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of an SQLite file, in the async-driver form the bridge expects."""
    return f"sqlite+aiosqlite:///{path.resolve()}"


def configure_for_loopback(
    config: Any,
    *,
    appservice_port: int,
    database_path: Path,
    server_name: str = SERVER_NAME,
    homeserver_url: str | None = None,
    qq_server: str | None = None,
    permissions: Mapping[str, str] | None = None,
    encryption: bool = False,
) -> None:
    """Set ``config`` (a ``bridge.config.Config``) up for servers on 127.0.0.1.

    ``homeserver_url`` may be left out when Synapse is not started yet (its port is not known
    before it starts, but its server name and the bridge's address must go into the
    registration it loads); set ``homeserver.address`` once it is.

    ``encryption`` sets both ``bridge.encryption.allow`` and ``default``: off unless asked,
    because the tests' and benchmarks' Matrix users read rooms as plain clients do.
    """
    config["homeserver.domain"] = server_name
    if homeserver_url is not None:
        config["homeserver.address"] = homeserver_url
    config["appservice.address"] = f"http://127.0.0.1:{appservice_port}"
    config["appservice.hostname"] = "127.0.0.1"
    config["appservice.port"] = appservice_port
    config["appservice.database"] = sqlite_url(database_path)
    # The login page, reached straight from the browser on this machine (no proxy, no TLS).
    config["appservice.public_address"] = f"http://127.0.0.1:{appservice_port}"
    config["appservice.secret_key_file"] = str(database_path.parent.resolve() / "qq-bridge.key")
    if qq_server is not None:
        config["qq.server"] = qq_server
    # The example config names example.com; users of this server may log in to QQ.
    config["bridge.permissions"] = dict(permissions or {server_name: "user"})
    config["bridge.encryption.allow"] = config["bridge.encryption.default"] = encryption
