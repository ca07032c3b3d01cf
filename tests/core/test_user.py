"""A Matrix user's QQ login (bridge/user.py): stored state, the resume's back-off, refusals."""

from __future__ import annotations

import dataclasses
import itertools

from bridge.db import LoginState
from bridge.qq.client import ConnectionState, LoginRefused
from bridge.user import RESUME_FIRST_RETRY, RESUME_JITTER, NotLoggedInError
from tests.client.scripted import PASSWORD_MD5

from .conftest import ALICE, MANAGEMENT_ROOM, UIN, Core

WRONG_MD5 = "0" * 32


async def test_a_login_is_stored_and_the_friends_read(core: Core) -> None:
    user = await core.alice()
    stored = await core.bridge.db.get_user(ALICE)
    assert stored is not None
    assert (stored.uin, stored.login_state) == (UIN, LoginState.LOGGED_IN)
    assert stored.password_md5 == PASSWORD_MD5
    assert user.friends == {10002, 10003}
    assert user.state == "online"


async def test_a_refused_login_keeps_nothing(core: Core) -> None:
    user = await core.alice(logged_in=False)
    try:
        await user.login(UIN, WRONG_MD5)
    except LoginRefused:
        pass
    else:
        raise AssertionError("the scripted server refuses a wrong md5")
    stored = await core.bridge.db.get_user(ALICE)
    assert stored is not None and stored.uin is None and stored.login_state is LoginState.LOGGED_OUT
    assert user.client is None


async def test_logout_forgets_the_login_and_a_second_one_is_refused(core: Core) -> None:
    user = await core.alice()
    await user.logout()
    stored = await core.bridge.db.get_user(ALICE)
    assert stored is not None and (stored.uin, stored.password_md5) == (None, None)
    assert stored.login_state is LoginState.LOGGED_OUT
    assert core.qq.commands()[-1] == "Logout"
    try:
        await user.logout()
    except NotLoggedInError:
        pass
    else:
        raise AssertionError("a second logout has nothing to log out")


async def _stored_login(core: Core, md5: str = PASSWORD_MD5) -> None:
    user = await core.alice(logged_in=False)
    row = dataclasses.replace(user.row, uin=UIN, password_md5=md5, login_state=LoginState.LOGGED_IN)
    await core.bridge.db.save_user(row)
    user.row = row


async def test_the_resume_backs_off_with_jitter_while_qq_is_down(core: Core) -> None:
    await _stored_login(core)
    user = await core.bridge.user(ALICE)
    core.qq.down = True
    await user.resume()
    assert user.state == "logging_in"
    await core.run_for(RESUME_FIRST_RETRY * 8)  # tries at 0, ~2, ~6 and ~14 s
    tries = core.qq.refused
    assert len(tries) >= 3
    gaps = [later - earlier for earlier, later in itertools.pairwise(tries)]
    first = RESUME_FIRST_RETRY
    assert first * (1 - RESUME_JITTER) <= gaps[0] <= first * (1 + RESUME_JITTER)
    assert 2 * first * (1 - RESUME_JITTER) <= gaps[1] <= 2 * first * (1 + RESUME_JITTER)
    core.qq.down = False
    await core.until(lambda: user.client is not None, "the resume got through")
    assert user.client is not None and user.client.state is ConnectionState.ONLINE


async def test_a_stored_login_qq_refuses_is_told_and_not_retried(core: Core) -> None:
    await _stored_login(core, WRONG_MD5)
    user = await core.bridge.user(ALICE)
    await user.resume()
    await core.until(lambda: bool(core.homeserver.texts(MANAGEMENT_ROOM)), "the notice")
    await core.run_for(RESUME_FIRST_RETRY * 10)  # long enough for a retry, if there were one
    assert user.state == "bad_credentials"
    logins = [seen for seen in core.qq.seen if seen.command == "Login"]
    assert len(logins) == 1
    (notice,) = core.homeserver.texts(MANAGEMENT_ROOM)
    assert notice.startswith("QQ refused your stored login (")
    stored = await core.bridge.db.get_user(ALICE)
    assert stored is not None and stored.login_state is LoginState.BAD_CREDENTIALS


async def test_a_lost_connection_is_told_once_and_the_return_too(core: Core) -> None:
    user = await core.alice()
    core.qq.down = True
    await core.until(lambda: bool(core.homeserver.texts(MANAGEMENT_ROOM)), "the outage told")
    core.qq.down = False
    reconnected = "Reconnected to the QQ server."
    await core.until(lambda: reconnected in core.homeserver.texts(MANAGEMENT_ROOM), "the return")
    texts = core.homeserver.texts(MANAGEMENT_ROOM)
    assert [t for t in texts if t.startswith("Lost the connection")] != []
    assert len([t for t in texts if t.startswith("Lost the connection")]) == 1
    assert texts[-1] == reconnected
    assert user.client is not None and user.client.state is ConnectionState.ONLINE
