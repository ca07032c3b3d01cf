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

import contextlib
import json
import os
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from mautrix.types import RoomCreatePreset, UserID

from bridge.demo.synapse import SynapseServer, free_port

from .fixtures import _unique
from .harness import E2E_ACCOUNTS, BridgeRunner, QQPeerFactory
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


class Cinny:
    """Cinny in Chromium, logged in as ``user``; ``shot(name)`` saves a numbered screenshot."""

    def __init__(self, url: str, user: MatrixUser, shots: Path) -> None:
        self.url, self.user, self.shots = url, user, shots
        self.page: Any = None
        self._step = 0

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[Any]:
        from playwright.async_api import async_playwright

        self.shots.mkdir(exist_ok=True)
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
            )
            self.page = await browser.new_page(viewport={"width": 1200, "height": 800})
            self.page.set_default_timeout(STEP_TIMEOUT_MS)
            try:
                await self._log_in()
                yield self.page
            except BaseException:
                await self.shot("failed")
                print(f"Screenshots in {self.shots}")
                raise
            finally:
                await browser.close()

    async def shot(self, name: str) -> None:
        self._step += 1
        await self.page.screenshot(path=str(self.shots / f"{self._step:02d}-{name}.png"))

    async def _log_in(self) -> None:
        page = self.page
        await page.goto(f"{self.url}/#/login")
        await page.locator("input[name=usernameInput]").fill(self.user.localpart)
        await page.locator("input[name=passwordInput]").fill(self.user.password)
        await self.shot("login")
        await page.locator("input[name=passwordInput]").press("Enter")

    def sidebar(self, index: int) -> Any:
        """Cinny's sidebar icons have no labels: 0 home, 1 direct messages, 5 the inbox."""
        return self.page.locator("#root button").nth(index)

    async def send(self, text: str) -> None:
        composer = self.page.locator('[data-slate-editor="true"]')
        await composer.click()
        await self.page.keyboard.type(text)
        await self.page.keyboard.press("Enter")


async def test_a_person_in_cinny_chats_with_the_bot_in_an_encrypted_dm(
    cinny_url: str,
    synapse: SynapseServer,
    encrypting_bridge: BridgeRunner,
    bot: str,
    tmp_path: Path,
) -> None:
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
        await user.wait_for_join(room, bot)
        cinny = Cinny(cinny_url, user, tmp_path / "screenshots")
        async with cinny.session() as page:
            await page.get_by_text("QQ bridge bot").first.wait_for()
            await cinny.shot("logged-in")
            await page.get_by_text("QQ bridge bot").first.click()
            await page.locator('[data-slate-editor="true"]').wait_for()
            await cinny.shot("room")
            await cinny.send("help")
            await page.get_by_text("Commands: in your direct chat with me").first.wait_for()
            await cinny.shot("answered")
        # What the homeserver holds of the bot's answer is ciphertext.
        assert await bot_messages_are_encrypted(user, room, bot)
    finally:
        await user.stop()


async def test_a_person_in_cinny_chats_with_a_qq_contact_in_an_encrypted_portal(
    cinny_url: str,
    synapse: SynapseServer,
    encrypting_bridge: BridgeRunner,
    bot: str,
    puppet: Callable[[int], str],
    qq_peer: QQPeerFactory,
    tmp_path: Path,
) -> None:
    """Everything by clicking and typing: the DM with the bot, the login, the contact's
    invite, reading their message and answering it. The portal is encrypted (the example
    config's default), so Cinny decrypts what it shows."""
    user = await MatrixUser(synapse, f"cinnyqq{next(_unique)}").start()
    peer = await qq_peer(30093)
    nick = E2E_ACCOUNTS[30093].nick
    try:
        cinny = Cinny(cinny_url, user, tmp_path / "screenshots")
        async with cinny.session() as page:
            # A direct chat with the bot, as a person starts one in Cinny.
            await cinny.sidebar(1).click()
            await page.get_by_text("Direct Messages", exact=True).first.wait_for()
            await page.get_by_role("button", name="Direct Message", exact=True).first.click()
            await page.get_by_role("dialog").locator("input").first.fill(bot)
            await page.get_by_role("button", name="Search").click()
            await page.get_by_role("button", name="Message").click()
            await page.get_by_role("button", name="Open").click()  # the new chat, made
            await page.locator('[data-slate-editor="true"]').wait_for()
            await page.get_by_text("I bridge QQ").first.wait_for()
            await cinny.shot("dm-with-the-bot")
            await cinny.send(f"login 30092 {E2E_ACCOUNTS[30092].password}")
            await page.get_by_text("Logged in to QQ").first.wait_for()
            await page.get_by_text("This message has been deleted").first.wait_for()
            await cinny.shot("logged-in-to-qq")

            # The contact writes on QQ: the puppet's invite waits in the inbox.
            await peer.client.send_text(30092, "你好，世界 🙂 & co\nsecond line")
            await cinny.sidebar(5).click()
            await page.get_by_text("Invitations", exact=True).first.click()
            accept = page.get_by_role("button", name="Accept")
            await accept.first.click()
            await accept.first.wait_for(state="detached")  # joined
            await cinny.sidebar(1).click()
            # Named after the contact alone, although the bot is in the room too.
            await page.get_by_text(f"{nick} (QQ)", exact=True).first.click()
            await page.locator('[data-slate-editor="true"]').wait_for()
            await page.get_by_text("你好，世界 🙂 & co").first.wait_for()
            await page.get_by_text("second line").first.wait_for()
            await cinny.shot("decrypted")

            await cinny.send("回复 & reply 🙂")
            assert await peer.texts_from(30092, 1) == ["回复 & reply 🙂"]
            await cinny.shot("replied")
        portal = await user_portal(user, puppet(30093))
        assert await bot_messages_are_encrypted(user, portal, puppet(30093))
    finally:
        await user.stop()


async def user_portal(user: MatrixUser, puppet_mxid: str) -> Any:
    """The room the puppet invited the user to."""
    joined = await user.client.get_joined_rooms()
    for room in joined:
        members = await user.client.get_joined_members(room)
        if puppet_mxid in members:
            return room
    raise AssertionError(f"no room with {puppet_mxid}")


async def bot_messages_are_encrypted(user: MatrixUser, room: Any, bot: str) -> bool:
    from mautrix.types import PaginationDirection

    page = await user.client.get_messages(room, PaginationDirection.BACKWARD, limit=100)
    types = {
        str(event.type)
        for event in page.events  # type: ignore[attr-defined]
        if event.sender == bot and getattr(event, "state_key", None) is None
    }
    return types == {"m.room.encrypted"}
