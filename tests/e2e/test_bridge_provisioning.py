"""The provisioning API over HTTP: the shared secret, whoami, login, logout, the rate limit."""

from __future__ import annotations

import itertools
from typing import Any

import aiohttp
import pytest

from bridge.web.provisioning import Provisioning

from .harness import E2E_ACCOUNTS, BridgeRunner

pytestmark = pytest.mark.asyncio(loop_scope="session")
_unique = itertools.count(1)


def _api(runner: BridgeRunner) -> tuple[str, dict[str, str], Provisioning]:
    config = runner.config
    assert runner.app is not None and runner.app.web is not None
    provisioning = runner.app.web.provisioning
    assert provisioning is not None
    provisioning.limiter.reset()  # each test starts with the whole burst
    base = f"{config.appservice_address}{config.provisioning_prefix}/v1"
    return base, {"Authorization": f"Bearer {config.provisioning_secret}"}, provisioning


async def _call(
    http: aiohttp.ClientSession, method: str, url: str, **kwargs: Any
) -> tuple[int, Any]:
    async with http.request(method, url, **kwargs) as response:
        return response.status, await response.json()


async def test_without_the_secret_nothing_is_answered(bridge_runner: BridgeRunner) -> None:
    base, _, _ = _api(bridge_runner)
    user = {"user_id": "@nosecret:localhost"}
    async with aiohttp.ClientSession() as http:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic x"}):
            for method, path in (("GET", "whoami"), ("POST", "login"), ("POST", "logout")):
                status, body = await _call(
                    http, method, f"{base}/{path}", params=user, headers=headers
                )
                assert status == 401 and body["errcode"] == "M_UNKNOWN_TOKEN"


async def test_whoami_login_and_logout(bridge_runner: BridgeRunner) -> None:
    base, auth, _ = _api(bridge_runner)
    user = {"user_id": f"@prov{next(_unique)}:localhost"}
    password = E2E_ACCOUNTS[30058].password
    async with aiohttp.ClientSession(headers=auth) as http:
        status, me = await _call(http, "GET", f"{base}/whoami", params=user)
        assert status == 200 and me["mxid"] == user["user_id"] and me["qq"] is None
        assert me["permission"] == "user"
        status, body = await _call(
            http, "POST", f"{base}/login", params=user, json={"uin": 30058, "password": "no"}
        )
        assert status == 403 and body["errcode"] == "QQ_REFUSED"
        status, body = await _call(
            http, "POST", f"{base}/login", params=user, json={"uin": 30058, "password": password}
        )
        assert (status, body) == (200, {"uin": 30058, "state": "online"})
        status, me = await _call(http, "GET", f"{base}/whoami", params=user)
        assert me["qq"] == {"uin": 30058, "state": "online"}
        other = {"user_id": f"@prov{next(_unique)}:localhost"}
        status, body = await _call(
            http, "POST", f"{base}/login", params=other, json={"uin": 30058, "password": password}
        )
        assert status == 409 and body["errcode"] == "QQ_IN_USE"
        assert (await _call(http, "POST", f"{base}/logout", params=user)) == (200, {})
        status, body = await _call(http, "POST", f"{base}/logout", params=user)
        assert status == 404 and body["errcode"] == "QQ_NOT_LOGGED_IN"


async def test_bad_requests_are_told_apart(bridge_runner: BridgeRunner) -> None:
    base, auth, _ = _api(bridge_runner)
    async with aiohttp.ClientSession(headers=auth) as http:
        status, body = await _call(http, "GET", f"{base}/whoami")
        assert status == 400 and body["errcode"] == "M_MISSING_PARAM"
        status, body = await _call(
            http, "GET", f"{base}/whoami", params={"user_id": "@x:elsewhere.example"}
        )
        assert status == 403
        user = {"user_id": "@badbody:localhost"}
        for payload in ({"uin": "x", "password": "p"}, {"uin": 30059}, [1, 2]):
            status, body = await _call(http, "POST", f"{base}/login", params=user, json=payload)
            assert status == 400 and body["errcode"] == "M_BAD_JSON"
        status, body = await _call(http, "POST", f"{base}/login", params=user, data=b"{not json")
        assert status == 400 and body["errcode"] == "M_NOT_JSON"


async def test_guessing_the_secret_is_rate_limited(bridge_runner: BridgeRunner) -> None:
    base, _, provisioning = _api(bridge_runner)
    provisioning.limiter.reset()
    statuses: list[int] = []
    try:
        async with aiohttp.ClientSession(headers={"Authorization": "Bearer guess"}) as http:
            while 429 not in statuses:
                assert len(statuses) < 100, "no rate limit after 100 guesses"
                async with http.get(f"{base}/whoami", params={"user_id": "@g:localhost"}) as r:
                    statuses.append(r.status)
                    retry_after = r.headers.get("Retry-After")
        assert set(statuses[:-1]) == {401} and len(statuses) > 10
        assert retry_after is not None and int(retry_after) >= 1
    finally:
        provisioning.limiter.reset()  # the other tests share the listener's limit
