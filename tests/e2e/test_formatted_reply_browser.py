"""A formatted bot reply in a real Matrix client: Cinny (per ../shared/clients/README.md) in
Debian's chromium, driven by Playwright. The bot's Markdown must show as formatting (code,
a list), not as backticks. Skipped, saying why, where chromium or the client is missing."""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

import pytest
import pytest_asyncio
from aiohttp import web

from bridge.demo.synapse import SynapseServer, free_port

from .harness import UserFactory

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"
REPOSITORY = Path(__file__).resolve().parents[2]
# The shared clients, ../shared/clients beside the checkout (here and in CI).
CLIENT_DIRS = [REPOSITORY.parent / "shared/clients/cinny"]
TIMEOUT_MS = 60_000


def _cinny() -> Path | None:
    return next((path for path in CLIENT_DIRS if (path / "index.html").exists()), None)


@pytest_asyncio.fixture(loop_scope="session")
async def cinny_url(tmp_path: Path, synapse: SynapseServer) -> AsyncIterator[str]:
    """A copy of Cinny pointed at the test Synapse, served on 127.0.0.1."""
    source = _cinny()
    if source is None:
        pytest.skip("no Cinny build at ../shared/clients/cinny (see ../shared/clients/README.md)")
    root = tmp_path / "cinny"
    shutil.copytree(source, root)
    config = json.loads((root / "config.json").read_text(encoding="utf-8"))
    config["homeserverList"] = [synapse.url]
    config["defaultHomeserver"] = 0
    (root / "config.json").write_text(json.dumps(config), encoding="utf-8")

    async def index(request: web.Request) -> web.FileResponse:
        return web.FileResponse(root / "index.html")

    app = web.Application()
    app.router.add_get("/", index)
    app.router.add_static("/", root)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_a_bot_reply_renders_as_formatting(
    new_user: UserFactory, bot: str, cinny_url: str, tmp_path: Path
) -> None:
    if shutil.which(CHROMIUM) is None:
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium")
    playwright_api = pytest.importorskip("playwright.async_api", reason="pip install playwright")
    user = await new_user("cinny")
    room = await user.dm(bot)
    await user.wait_for_text(room, "Send `login", sender=bot)
    mark = user.mark()
    await user.send(room, "help")
    reply = await user.wait_for_text(room, "Commands:", sender=bot, after=mark)
    assert "<code>ping</code>" in reply.content["formatted_body"]

    async with playwright_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        try:
            page = await browser.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            await page.goto(f"{cinny_url}/#/login/")
            await page.fill("input[name=usernameInput]", user.localpart)
            await page.fill("input[name=passwordInput]", user.password)
            await page.screenshot(path=tmp_path / "1-login.png")
            await page.keyboard.press("Enter")
            await page.wait_for_url("**/#/home/**")
            await page.screenshot(path=tmp_path / "2-home.png")
            await page.goto(f"{cinny_url}/#/home/{quote(room, safe='')}/")
            help_line = page.locator("code", has_text="logout-user").or_(
                page.locator("code", has_text="pm <uin>")
            )
            await help_line.first.wait_for()
            await page.screenshot(path=tmp_path / "3-room.png")
            # The reply as the client shows it: commands in <code>, a list, no backticks.
            message = page.locator("li", has=page.locator("code", has_text="pm <uin>")).first
            shown = await message.inner_text()
            assert "pm <uin>" in shown and "`" not in shown
            greeting = page.get_by_text("Send login to log in", exact=False)
            assert await greeting.count() >= 1, "the greeting's `login` shows without backticks"
        finally:
            await browser.close()
