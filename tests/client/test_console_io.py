"""The terminal client as a user runs it: a subprocess on pipes, against the simulator."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator

import pytest

from bridge.qq.client import ClientSettings, QQClient, QQTransport
from bridge.qq.simulator import Simulator
from bridge.qq.wire import requests
from bridge.qq.wire.replies import Event, TextMessage

from .io_helpers import eventually

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
async def live_simulator() -> AsyncIterator[Simulator]:
    # Real time: the console is another process, so it cannot share a FakeClock.
    async with Simulator() as simulator:
        yield simulator


class Lines:
    """Everything the subprocess printed so far, read in the background."""

    def __init__(self, stream: asyncio.StreamReader) -> None:
        self.lines: list[str] = []
        self._task = asyncio.create_task(self._read(stream))

    async def _read(self, stream: asyncio.StreamReader) -> None:
        while line := await stream.readline():
            self.lines.append(line.decode().rstrip("\n"))

    def containing(self, text: str) -> list[str]:
        return [line for line in self.lines if text in line]

    async def wait_for(self, text: str) -> str:
        await eventually(lambda: bool(self.containing(text)), f"console printing {text!r}")
        return self.containing(text)[0]


async def test_console_logs_in_sends_and_receives(live_simulator: Simulator) -> None:
    received: list[Event] = []

    async def on_events(events: list[Event]) -> None:
        received.extend(events)

    transport = QQTransport(live_simulator.url)
    alice = QQClient(
        transport,
        10001,
        requests.password_md5("password1"),
        settings=ClientSettings(poll_interval=0.05, active_poll_interval=0.05),
        on_events=on_events,
    )
    await alice.start()
    console = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bridge.qq.console",
        "--server",
        live_simulator.url,
        "--uin",
        "10002",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=REPO,
        env={**os.environ, "QQ_PASSWORD": "password2"},
    )
    assert console.stdin is not None and console.stdout is not None
    output = Lines(console.stdout)
    try:
        await output.wait_for("logged in as 10002")
        console.stdin.write("/msg 10001 hello from the console, & 100% 你好\n".encode())
        await console.stdin.drain()

        def texts() -> list[TextMessage]:
            return [event for event in received if isinstance(event, TextMessage)]

        await eventually(lambda: bool(texts()), "alice receiving the message")
        assert texts() == [TextMessage(10002, "hello from the console, & 100% 你好")]

        await alice.send_text(10002, "hi back, 小红\r\nsecond line")
        line = await output.wait_for("hi back")
        assert line.endswith("小明 (10001): hi back, 小红")
        assert line.startswith("[") and line[9] == "]"  # [HH:MM:SS]
        await output.wait_for("second line")

        console.stdin.write(b"a reply without a slash goes to 10001\n")
        await console.stdin.drain()
        await eventually(lambda: len(texts()) == 2, "the reply")
        assert texts()[1] == TextMessage(10002, "a reply without a slash goes to 10001")

        console.stdin.write(b"/quit\n")
        await console.stdin.drain()
        assert await asyncio.wait_for(console.wait(), 10.0) == 0
        assert not live_simulator.state.is_online(10002)
    finally:
        if console.returncode is None:
            console.kill()
            await console.wait()
        await alice.stop()
        await transport.close()


async def test_console_with_a_wrong_password_says_so_and_fails(live_simulator: Simulator) -> None:
    console = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bridge.qq.console",
        "--server",
        live_simulator.url,
        "--uin",
        "10002",
        "--password",
        "wrong",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=REPO,
    )
    out, err = await asyncio.wait_for(console.communicate(), 10.0)
    assert console.returncode == 1
    assert "cannot log in as 10002" in out.decode()
    assert b"wrong" not in out + err  # the password never shows
