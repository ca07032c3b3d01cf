"""The terminal client's command line: a bad server URL is refused at once, not retried."""

from __future__ import annotations

import io

import pytest

from bridge.qq.console.__main__ import parse_arguments
from bridge.qq.console.app import run
from bridge.qq.simulator.server import Simulator


@pytest.mark.parametrize("url", ["127.0.0.1:8000", "ftp://x", "http://127.0.0.1:80x0", "http://"])
def test_a_server_that_is_not_an_http_url_is_refused(url: str) -> None:
    with pytest.raises(SystemExit):
        parse_arguments(["--server", url, "--uin", "10002"])


def test_a_good_url_is_kept() -> None:
    assert parse_arguments(["--server", "http://127.0.0.1:8000", "--uin", "10002"]).server == (
        "http://127.0.0.1:8000"
    )


async def test_an_unreachable_server_is_not_called_logged_in(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with Simulator() as simulator:
        url = simulator.url  # a port nothing listens on once the simulator stops
    out = io.StringIO()

    async def no_input() -> object:  # the console reads nothing and quits at once
        return
        yield

    monkeypatch.setattr("bridge.qq.console.app.stdin_lines", no_input)
    await run(url, 10002, "0" * 32, out=out)
    assert "logged in as" not in out.getvalue()
    assert f"cannot reach {url} yet" in out.getvalue()
