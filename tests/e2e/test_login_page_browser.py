"""The login page in a real browser: Debian's chromium, driven by Playwright, no JavaScript
needed by the page. Skipped, saying why, where chromium or Playwright is missing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .harness import E2E_ACCOUNTS, UserFactory
from .test_bridge_security import login_link

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"


async def test_logging_in_through_the_page_in_chromium(
    new_user: UserFactory, bot: str, tmp_path: Path
) -> None:
    if shutil.which(CHROMIUM) is None:
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium")
    playwright_api = pytest.importorskip("playwright.async_api", reason="pip install playwright")
    user = await new_user("browser")
    room = await user.dm(bot)
    await user.wait_for_text(room, "Send `login", sender=bot)
    link = await login_link(user, room, bot)
    password = E2E_ACCOUNTS[30048].password
    async with playwright_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        try:
            page = await browser.new_page(java_script_enabled=False)
            await page.goto(link)
            await page.screenshot(path=tmp_path / "1-form.png")
            assert await page.title() == "Log in to QQ"
            await page.fill("#uin", "30048")
            await page.fill("#password", "wrong password")
            await page.click("button[type=submit]")
            await page.wait_for_selector(".error")
            await page.screenshot(path=tmp_path / "2-refused.png")
            assert "QQ refused the login" in await page.inner_text(".error")
            assert await page.input_value("#uin") == "30048"  # kept; the password is not
            assert await page.input_value("#password") == ""
            await page.fill("#password", password)
            await page.click("button[type=submit]")
            await page.wait_for_selector(".ok")
            await page.screenshot(path=tmp_path / "3-logged-in.png")
            assert "Logged in to QQ as 30048" in await page.inner_text(".ok")
        finally:
            await browser.close()
    await user.wait_for_text(room, "Logged in to QQ as 30048", sender=bot)
