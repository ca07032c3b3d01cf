"""Session fixtures for the end-to-end tests: one throwaway Synapse for the whole run.

Synapse reads appservice registrations only when it starts, so the bridge's registration is
made first, for a bridge config whose appservice port is picked free in advance:

    bridge_registration (dict)  ->  synapse (SynapseServer)  ->  bridge_config (Config)

``bridge_config`` then points at the running Synapse and at an SQLite file; the bridge fixture
starts ``BridgeApp(bridge_config)`` (it listens on ``appservice.port``, where Synapse sends
transactions). Until a bridge pings Synapse, transactions for it fail and Synapse backs off; the
appservice ping (``/_matrix/client/v1/appservice/{id}/ping``) makes it retry at once.

Tests that use these fixtures share the session's event loop:
``pytestmark = pytest.mark.asyncio(loop_scope="session")`` in each e2e test module.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from ruamel.yaml import YAML

from bridge.demo.bridgeconf import SERVER_NAME, configure_for_loopback
from bridge.demo.stack import INSTALL_HINT
from bridge.demo.synapse import SynapseServer, free_port, synapse_installed

# The bridge's own session fixtures (simulator, bridge, Matrix users) live beside these; a star
# import registers whatever fixtures it defines without listing them twice.
from .fixtures import *  # noqa: F403
from .fixtures import SYNAPSE_PRESENCE


@pytest.fixture(scope="session")
def e2e_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory for this session's configs and databases (pytest keeps the last few runs)."""
    return tmp_path_factory.mktemp("e2e")


@pytest.fixture(scope="session")
def _bridge_base_config(e2e_dir: Path) -> Any:
    from bridge.config import Config

    config = Config.from_example()
    configure_for_loopback(
        config,
        appservice_port=free_port(),
        database_path=e2e_dir / "bridge.db",
    )
    # What `python -m bridge -g` would write: fresh secrets shared with Synapse.
    config["appservice.as_token"] = secrets.token_urlsafe(32)
    config["appservice.hs_token"] = secrets.token_urlsafe(32)
    config["provisioning.shared_secret"] = secrets.token_urlsafe(32)
    config.validate()
    return config


@pytest.fixture(scope="session")
def bridge_registration(_bridge_base_config: Any) -> dict[str, Any]:
    """The appservice registration Synapse loads, for the bridge of ``bridge_config``."""
    from bridge.registration import build_registration

    registration: dict[str, Any] = build_registration(_bridge_base_config)
    return registration


@pytest.fixture(scope="session")
def bridge_registration_path(e2e_dir: Path, bridge_registration: dict[str, Any]) -> Path:
    path = e2e_dir / "registration.yaml"
    with path.open("w", encoding="utf-8") as stream:
        YAML(typ="safe", pure=True).dump(bridge_registration, stream)
    return path


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def synapse(e2e_dir: Path, bridge_registration_path: Path) -> AsyncIterator[SynapseServer]:
    """One Synapse on 127.0.0.1 for the whole session, with the bridge's registration loaded."""
    if not synapse_installed():
        pytest.skip(INSTALL_HINT)
    # Inside pytest's temp dir rather than a removed one, so the log outlives a failed run.
    async with SynapseServer(
        server_name=SERVER_NAME,
        data_dir=e2e_dir / "synapse",
        appservice_config_files=[bridge_registration_path],
        extra_config=SYNAPSE_PRESENCE,
    ) as server:
        yield server


@pytest.fixture(scope="session")
def bridge_config(_bridge_base_config: Any, synapse: SynapseServer) -> Any:
    """The bridge config matching the registration, pointing at the session's Synapse.

    Shared by the session: a test that changes it (e.g. ``qq.server``) sets what it needs, and
    ``config.save(path)`` gives a file for tests that run the bridge's CLI.
    """
    config = _bridge_base_config
    config["homeserver.address"] = synapse.url
    return config
