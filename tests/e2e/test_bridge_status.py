"""Bridge status: pushed to homeserver.status_endpoint as mautrix bridges do, and read back
through the provisioning API; the mautrix health endpoints answer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web

from bridge.demo.synapse import free_port

from .harness import E2E_ACCOUNTS, BridgeRunner, LoggedIn

pytestmark = pytest.mark.asyncio(loop_scope="session")


class StatusEndpoint:
    """Records what the bridge POSTs; ``wait_for`` a state of a user."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, Any]]] = []  # (Authorization, body)
        self._changed = asyncio.Condition()

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        async with self._changed:
            self.received.append((request.headers.get("Authorization", ""), body))
            self._changed.notify_all()
        return web.json_response({})

    async def wait_for(self, user_id: str, state_event: str) -> dict[str, Any]:
        def find() -> dict[str, Any] | None:
            return next(
                (
                    body
                    for _, body in self.received
                    if body.get("user_id") == user_id and body.get("state_event") == state_event
                ),
                None,
            )

        async with self._changed:
            found = await asyncio.wait_for(self._changed.wait_for(find), 30)
        assert found is not None
        return found


@pytest_asyncio.fixture(loop_scope="session")
async def status_endpoint(bridge_runner: BridgeRunner) -> AsyncIterator[StatusEndpoint]:
    endpoint = StatusEndpoint()
    app = web.Application()
    app.router.add_post("/status", endpoint.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    config = bridge_runner.config
    config["homeserver.status_endpoint"] = f"http://127.0.0.1:{port}/status"
    try:
        yield endpoint
    finally:
        config["homeserver.status_endpoint"] = ""
        await runner.cleanup()


async def test_states_are_pushed_and_readable(
    status_endpoint: StatusEndpoint, logged_in: LoggedIn, bridge_runner: BridgeRunner
) -> None:
    session = await logged_in("status", 30082)
    mxid = str(session.user.mxid)
    connected = await status_endpoint.wait_for(mxid, "CONNECTED")
    assert connected["remote_id"] == "30082" and connected["source"] == "bridge"
    assert connected["ttl"] > 0 and connected["timestamp"] > 0
    auth = next(a for a, body in status_endpoint.received if body["user_id"] == mxid)
    assert auth == f"Bearer {bridge_runner.config.as_token}"

    config = bridge_runner.config
    base = f"{config.appservice_address}{config.provisioning_prefix}/v1"
    headers = {"Authorization": f"Bearer {config.provisioning_secret}"}
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{base}/bridge_state", params={"user_id": mxid}, headers=headers) as response,
    ):
        assert response.status == 200
        state = await response.json()
    assert state["state_event"] == "CONNECTED" and state["remote_id"] == "30082"

    await session.command("login 30082 wrong-password", "QQ refused the login")
    await session.command("logout", "Logged out of QQ")
    await status_endpoint.wait_for(mxid, "LOGGED_OUT")
    # The mistyped login did not make the working one look refused.
    states = [
        body["state_event"] for _, body in status_endpoint.received if body["user_id"] == mxid
    ]
    assert "BAD_CREDENTIALS" not in states
    assert E2E_ACCOUNTS[30082].uin == 30082


async def test_health_endpoints(bridge_runner: BridgeRunner) -> None:
    address = bridge_runner.config.appservice_address
    async with aiohttp.ClientSession() as http:
        for path in ("/_matrix/mau/live", "/_matrix/mau/ready"):
            async with http.get(address + path) as response:
                assert response.status == 200, path
