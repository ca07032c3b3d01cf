"""The throwaway Synapse works as Element and the bridge would use it."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from mautrix.client import Client
from mautrix.types import UserID

from bridge.demo.synapse import SynapseError, SynapseServer

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest_asyncio.fixture(loop_scope="session")
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def _register_as(
    http: aiohttp.ClientSession, synapse: SynapseServer, token: str, localpart: str
) -> tuple[int, dict[str, Any]]:
    """Register ``localpart`` the way an appservice does, with its as_token."""
    async with http.post(
        f"{synapse.url}/_matrix/client/v3/register",
        json={"type": "m.login.application_service", "username": localpart},
        headers={"Authorization": f"Bearer {token}"},
    ) as resp:
        return resp.status, await resp.json()


async def test_element_user_can_chat(synapse: SynapseServer) -> None:
    localpart = f"alice{secrets.token_hex(3)}"
    user_id, _ = await synapse.register_user(localpart, "alice-password")
    assert user_id == f"@{localpart}:{synapse.server_name}"

    # Log in with a password, as Element does, rather than using the admin API's token.
    client = Client(base_url=synapse.url)
    try:
        login = await client.login(identifier=UserID(localpart), password="alice-password")
        assert login.user_id == user_id
        room_id = await client.create_room(name="harness")
        event_id = await client.send_text(room_id, "hello from the harness")

        sync = await client.sync(timeout=0)
        events = sync["rooms"]["join"][room_id]["timeline"]["events"]
        sent = [event for event in events if event["event_id"] == event_id]
        assert sent and sent[0]["content"]["body"] == "hello from the harness"
        assert sent[0]["sender"] == user_id
    finally:
        await client.api.session.close()


async def test_admin_registration_reports_taken_ids(synapse: SynapseServer) -> None:
    localpart = f"bob{secrets.token_hex(3)}"
    await synapse.register_user(localpart, "pw", admin=True)
    with pytest.raises(SynapseError) as caught:
        await synapse.register_user(localpart, "pw")
    assert caught.value.errcode == "M_USER_IN_USE"


async def test_appservice_registration_is_loaded(
    synapse: SynapseServer, bridge_registration: dict[str, Any], http: aiohttp.ClientSession
) -> None:
    token = bridge_registration["as_token"]

    # The bridge may create its puppets...
    status, body = await _register_as(http, synapse, token, "qq_10001")
    assert status == 200, body
    assert body["user_id"] == f"@qq_10001:{synapse.server_name}"

    # ...but only inside its namespace...
    status, body = await _register_as(http, synapse, token, f"carol{secrets.token_hex(3)}")
    assert status == 400 and body["errcode"] == "M_EXCLUSIVE", body

    # ...and nobody else may take a puppet's ID, not even through the admin API.
    with pytest.raises(SynapseError) as caught:
        await synapse.register_user("qq_10002", "pw")
    assert caught.value.errcode == "M_EXCLUSIVE"


async def test_bridge_config_points_at_synapse(
    synapse: SynapseServer, bridge_config: Any, bridge_registration: dict[str, Any]
) -> None:
    assert bridge_config["homeserver.address"] == synapse.url
    assert bridge_config["homeserver.domain"] == synapse.server_name
    assert bridge_registration["url"] == bridge_config["appservice.address"]
    assert bridge_config["appservice.database"].startswith("sqlite+aiosqlite:///")


async def test_a_synapse_that_dies_says_why(tmp_path: Path) -> None:
    bad = tmp_path / "registration.yaml"
    bad.write_text("id: broken\n", encoding="utf-8")  # no tokens, no URL
    server = SynapseServer(appservice_config_files=[bad])
    with pytest.raises(SynapseError) as caught:
        await server.start()
    message = str(caught.value)
    assert "exited with status" in message
    assert "as_token" in message  # Synapse's own complaint, from the tail of its output
    assert not server.running
