"""A person in a real Matrix web client talks to the bridge bot in an encrypted chat (issue 9).

Cinny (a matrix-js-sdk client with olm.wasm, from shared/clients, unchanged) runs in Debian's
headless Chromium driven by Playwright. Its user logs in on the page, opens the encrypted DM
with the bot and types ``help``; the bot's encrypted answer must show on the page, decrypted by
Cinny. So the bridge's encryption works with a client it was not written beside: Cinny makes
the Olm session to the bot's device, shares its Megolm key, and reads the bot's.

Skips, saying why, without Chromium, Playwright or the Cinny build. Screenshots of every step
go to pytest's temp dir (printed on failure).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from mautrix.types import RoomCreatePreset, UserID

from bridge.demo.synapse import SynapseServer, free_port

from .fixtures import _unique
from .harness import BridgeRunner
from .matrix_user import MatrixUser

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
CINNY = Path(
    os.environ.get(
        "QQ_BRIDGE_CINNY", Path(__file__).resolve().parents[3] / "shared" / "clients" / "cinny"
    )
)
STEP_TIMEOUT_MS = 60_000
ENCRYPTION_STATE: Any = {
    "type": "m.room.encryption",
    "state_key": "",
    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
}


def _missing() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install -y chromium)"
    if not (CINNY / "index.html").exists():
        return f"the Cinny build is missing at {CINNY} (set QQ_BRIDGE_CINNY)"
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[test]')"
    return None


@pytest_asyncio.fixture(loop_scope="session")
async def cinny_url(tmp_path: Path, synapse: SynapseServer) -> AsyncIterator[str]:
    """A copy of Cinny pointed at the test Synapse, served on 127.0.0.1."""
    if reason := _missing():
        pytest.skip(reason)
    root = tmp_path / "cinny"
    shutil.copytree(CINNY, root)
    config = json.loads((root / "config.json").read_text())
    config["homeserverList"] = [synapse.url]
    config["defaultHomeserver"] = 0
    (root / "config.json").write_text(json.dumps(config))

    async def index(_: web.Request) -> web.FileResponse:
        return web.FileResponse(root / "index.html")

    app = web.Application()
    app.router.add_get("/", index)
    app.router.add_static("/", root)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_a_person_in_cinny_chats_with_the_bot_in_an_encrypted_dm(
    cinny_url: str,
    synapse: SynapseServer,
    encrypting_bridge: BridgeRunner,
    bot: str,
    tmp_path: Path,
) -> None:
    from playwright.async_api import async_playwright

    # The account, and the encrypted DM with the bot, made through the API beforehand; the
    # person's own device (Cinny's) is the one that then reads and writes in it.
    user = await MatrixUser(synapse, f"cinny{next(_unique)}").start()
    try:
        room = await user.client.create_room(
            preset=RoomCreatePreset.TRUSTED_PRIVATE,
            is_direct=True,
            invitees=[UserID(bot)],
            initial_state=[ENCRYPTION_STATE],
        )
        await user.wait_for(
            lambda e: (
                e.room_id == room
                and e.type == "m.room.member"
                and e.raw.get("state_key") == bot
                and e.content.get("membership") == "join"
            )
        )
        shots = tmp_path / "screenshots"
        shots.mkdir()
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
            )
            page = await browser.new_page(viewport={"width": 1200, "height": 800})
            page.set_default_timeout(STEP_TIMEOUT_MS)
            step = 0

            async def shot(name: str) -> None:
                nonlocal step
                step += 1
                await page.screenshot(path=str(shots / f"{step:02d}-{name}.png"))

            try:
                await page.goto(f"{cinny_url}/#/login")
                await page.locator("input[name=usernameInput]").fill(user.localpart)
                await page.locator("input[name=passwordInput]").fill(user.password)
                await shot("login")
                await page.locator("input[name=passwordInput]").press("Enter")
                await page.get_by_text("QQ bridge bot").first.wait_for()
                await shot("logged-in")
                await page.get_by_text("QQ bridge bot").first.click()
                composer = page.locator('[data-slate-editor="true"]')
                await composer.wait_for()
                await shot("room")
                await composer.click()
                await page.keyboard.type("help")
                await page.keyboard.press("Enter")
                await page.get_by_text("Commands: in your direct chat with me").first.wait_for()
                await shot("answered")
            except Exception:
                await shot("failed")
                print(f"Screenshots in {shots}")
                raise
            finally:
                await browser.close()
        # What the homeserver holds of the bot's answer is ciphertext.
        assert await bot_messages_are_encrypted(user, room, bot)
    finally:
        await user.stop()


async def bot_messages_are_encrypted(user: MatrixUser, room: Any, bot: str) -> bool:
    from mautrix.types import PaginationDirection

    page = await user.client.get_messages(room, PaginationDirection.BACKWARD, limit=100)
    types = {
        str(event.type)
        for event in page.events  # type: ignore[attr-defined]
        if event.sender == bot and getattr(event, "state_key", None) is None
    }
    return types == {"m.room.encrypted"}
