"""The terminal QQ client: a QQClient, stdin in, events and answers out."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
from collections.abc import AsyncGenerator, Callable
from datetime import datetime
from typing import TextIO

from ..client import ConnectionState, QQClient, QQTransport, SendFailed, TransportError
from ..codes import AckCode, AddResult
from ..wire import WireError
from ..wire.replies import Event, TextMessage
from . import render
from .commands import (
    HELP,
    Accept,
    AddFriend,
    Command,
    Help,
    Nothing,
    Quit,
    Reject,
    Remove,
    SendMessage,
    SetStatus,
    ShowFriends,
    ShowInfo,
    ShowOnline,
    Usage,
    parse_line,
)

STDIN = 0

# How long /quit (or the end of input) waits for queued messages before logging out.
DRAIN_SECONDS = 30.0


class Console:
    def __init__(self, out: TextIO, now: Callable[[], datetime] = datetime.now) -> None:
        self.out = out
        self.now = now
        self.nicks: dict[int, str] = {}
        self.last_peer: int | None = None
        self.client: QQClient | None = None
        self._running: set[asyncio.Task[None]] = set()

    def say(self, *lines: str) -> None:
        for line in lines:
            print(line, file=self.out)
        self.out.flush()

    async def show_events(self, events: list[Event]) -> None:
        for event in events:
            if isinstance(event, TextMessage):
                self.last_peer = event.sender
            self.say(*render.event_lines(event, self.now(), self.nicks))

    async def show_state(self, state: ConnectionState, detail: str) -> None:
        if state is not ConnectionState.LOGGING_IN:
            self.say(render.state_line(state, detail, self.now()))

    def handle(self, line: str) -> bool:
        """Act on one typed line; False once the user asked to quit."""
        command = parse_line(line, self.last_peer)
        if isinstance(command, Quit):
            return False
        if isinstance(command, Nothing):
            return True
        if isinstance(command, Help):
            self.say(HELP)
        elif isinstance(command, Usage):
            self.say(command.message)
        else:
            if isinstance(command, SendMessage):
                self.last_peer = command.target
            # Each command runs on its own so a message waiting out a penalty does not
            # block the prompt; the client's send queue keeps messages in order.
            task = asyncio.create_task(self._run(command))
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        return True

    async def finish(self, timeout: float = DRAIN_SECONDS) -> None:
        """Let commands in progress (queued messages) finish, for at most ``timeout``."""
        if self._running:
            await asyncio.wait(set(self._running), timeout=timeout)

    async def _run(self, command: Command) -> None:
        try:
            await self._perform(command)
        except (SendFailed, TransportError, WireError) as error:
            self.say(f"{render.stamp(self.now())} ! {error}")

    async def _perform(self, command: Command) -> None:
        client = self.client
        assert client is not None
        if isinstance(command, SendMessage):
            await client.send_text(command.target, command.text)
            self.say(f"{render.stamp(self.now())} -> {render.who(command.target, self.nicks)}")
        elif isinstance(command, SetStatus):
            await client.set_status(command.status)
            self.say(f"status: {command.status.word}")
        elif isinstance(command, AddFriend):
            added = await client.add(command.uin)
            if added.result is AddResult.NEEDS_VERIFICATION:
                await client.ack(command.uin, AckCode.REQUEST, command.reason)
            self.say(render.add_result_line(command.uin, added.result, bool(command.reason)))
        elif isinstance(command, Accept):
            await client.ack(command.uin, AckCode.ACCEPT)
            self.say(f"accepted {command.uin}")
        elif isinstance(command, Reject):
            await client.ack(command.uin, AckCode.REJECT, command.reason)
            self.say(f"rejected {command.uin}")
        elif isinstance(command, Remove):
            await client.remove(command.uin)
            self.say(f"removed {command.uin}")
        elif isinstance(command, ShowFriends):
            self.say(*render.friends_lines(await client.friends(), self.nicks))
        elif isinstance(command, ShowOnline):
            online = await client.online()
            self.nicks.update({friend.uin: friend.nick for friend in online.friends})
            self.say(*render.online_lines(online))
        elif isinstance(command, ShowInfo):
            profile = await client.info(command.uin)
            self.nicks[profile.uin] = profile.nick
            self.say(*render.profile_lines(profile))


async def run(server: str, uin: int, password_md5: str, out: TextIO = sys.stdout) -> int:
    """Log in, then read commands until /quit or the end of input; the exit status."""
    console = Console(out)
    transport = QQTransport(server)
    client = QQClient(
        transport, uin, password_md5, on_events=console.show_events, on_state=console.show_state
    )
    console.client = client
    try:
        try:
            await client.start()
        except (TransportError, WireError) as error:
            console.say(f"cannot log in as {uin}: {error}")
            return 1
        with contextlib.suppress(TransportError, WireError):
            online = await client.online()
            console.nicks.update({friend.uin: friend.nick for friend in online.friends})
        if client.state is ConnectionState.ONLINE:
            console.say(f"logged in as {uin} on {server}; /help lists the commands")
        else:  # start() keeps retrying an unreachable server in the background
            console.say(f"cannot reach {server} yet; retrying (/quit to give up)")
        async with contextlib.aclosing(stdin_lines()) as lines:
            async for line in lines:
                if not console.handle(line):
                    break
        await console.finish()
        await client.logout()  # on_state prints it
        return 0
    finally:
        await client.stop()
        await transport.close()


async def stdin_lines() -> AsyncGenerator[str, None]:
    """Lines from stdin without blocking the event loop, whatever stdin is (a terminal, a
    pipe, a file). A daemon thread reads the raw descriptor: it holds no lock of
    sys.stdin's buffer, which would abort the interpreter at exit, and it never keeps the
    process alive. (The loop's connect_read_pipe would make a terminal non-blocking, and
    stdout with it.)"""
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str | None] = asyncio.Queue()

    def deliver(line: str | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed: no one listens
            loop.call_soon_threadsafe(lines.put_nowait, line)

    def read() -> None:
        pending = b""
        try:
            while chunk := os.read(STDIN, 65536):
                pending += chunk
                *complete, pending = pending.split(b"\n")
                for raw in complete:
                    deliver(raw.decode("utf-8", "replace") + "\n")
            if pending:
                deliver(pending.decode("utf-8", "replace"))
        except OSError:
            pass  # stdin closed under us: the same as its end
        finally:
            deliver(None)

    threading.Thread(target=read, name="stdin", daemon=True).start()
    while (line := await lines.get()) is not None:
        yield line
