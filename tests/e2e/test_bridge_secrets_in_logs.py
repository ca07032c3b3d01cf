"""No password and no md5 in the bridge's logs, with every logger at its most verbose.

Logins by command, through the login page and the provisioning API, a wrong password, and two
logins racing to one QQ number (the case that used to log a UNIQUE error with the md5 in it).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator

import aiohttp
import pytest

from bridge.login import log_in
from bridge.qq.wire.requests import password_md5

from .harness import E2E_ACCOUNTS, BridgeRunner, LoggedIn, QQPeerFactory, UserFactory
from .test_bridge_security import login_link

pytestmark = pytest.mark.asyncio(loop_scope="session")

# The tests' own Matrix users log what they send (their password-holding messages included) at
# DEBUG under this logger; the bridge's loggers are all the others.
TEST_CLIENT_LOGGER = "mau.http"


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=1)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name != TEST_CLIENT_LOGGER:
            self.lines.append(self.format(record))  # with any traceback and its locals' reprs


@pytest.fixture
def everything_logged() -> Iterator[Capture]:
    """Every logger, existing or not, at level 1 (below DEBUG: mautrix's TRACE too)."""
    capture = Capture()
    manager = logging.root.manager
    loggers = [logging.root] + [
        logger for logger in manager.loggerDict.values() if isinstance(logger, logging.Logger)
    ]
    levels = {logger: logger.level for logger in loggers}
    disabled = {logger: logger.disabled for logger in loggers}
    for logger in loggers:
        logger.setLevel(1)
        logger.disabled = False
    logging.root.addHandler(capture)
    try:
        yield capture
    finally:
        logging.root.removeHandler(capture)
        for logger, level in levels.items():
            logger.setLevel(level)
            logger.disabled = disabled[logger]


async def test_no_password_or_md5_in_any_log(
    everything_logged: Capture, bridge_runner: BridgeRunner, new_user: UserFactory, bot: str
) -> None:
    bridge = bridge_runner.bridge
    config = bridge_runner.config
    secrets: list[str] = []

    # Two Matrix users racing to one number, twice, and a wrong password.
    uin, password = 30059, E2E_ACCOUNTS[30059].password
    secrets += [
        password,
        password_md5(password),
        "not-the-password",
        password_md5("not-the-password"),
    ]
    first, second = (
        await bridge.user("@logs-race-1:localhost"),
        await bridge.user("@logs-race-2:localhost"),
    )
    for _ in range(2):
        await asyncio.gather(
            log_in(bridge, first, uin, password), log_in(bridge, second, uin, password)
        )
    await log_in(bridge, second, uin, "not-the-password")
    owner = first if first.has_credentials else second
    await owner.logout()

    # The command in the management room, then the login page.
    user = await new_user("logs")
    room = await user.dm(bot)
    await user.wait_for_text(room, "Send `login", sender=bot)
    await user.send(room, f"login {uin} {password}")
    await user.wait_for_text(room, f"Logged in to QQ as {uin}", sender=bot)
    link = await login_link(user, room, bot)
    secrets.append(link.rsplit("/", 1)[1])
    form = {"uin": str(uin), "password": password}
    async with aiohttp.ClientSession() as http, http.post(link, data=form) as page:
        assert page.status == 200

    # The provisioning API, for another user: the number is taken, so a clear refusal.
    api = f"{config.appservice_address}{config.provisioning_prefix}/v1/login"
    headers = {"Authorization": f"Bearer {config.provisioning_secret}"}
    async with (
        aiohttp.ClientSession(headers=headers) as http,
        http.post(
            api, params={"user_id": "@logs-api:localhost"}, json={"uin": uin, "password": password}
        ) as response,
    ):
        assert response.status == 409
    secrets.append(str(config.provisioning_secret))
    await (await bridge.user(user.mxid)).logout()

    text = "\n".join(everything_logged.lines)
    assert "logged in to QQ 30059" in text  # the capture did see the bridge at work
    for secret in secrets:
        assert secret not in text


async def test_no_login_link_in_any_log_when_asked_in_a_portal(
    everything_logged: Capture,
    logged_in: LoggedIn,
    qq_peer: QQPeerFactory,
    puppet: Callable[[int], str],
) -> None:
    """`!qq login` in a QQ chat: the puppet answers with the link, and its request log (a
    logger of its own, per Matrix ID) must cut the link out like the bot's."""
    session = await logged_in("portallink", 30083)
    await qq_peer(30084)
    room = await session.open_portal(30084)
    mark = session.user.mark()
    await session.user.send(room, "!qq login")
    answer = await session.user.wait_for_text(
        room, "Open this link", sender=puppet(30084), after=mark
    )
    token = answer.body.split("/login/", 1)[1].split()[0]
    assert len(token) > 20
    text = "\n".join(everything_logged.lines)
    assert "qq-bridge/login/…" in text  # the capture saw the answer being sent
    assert token not in text
