"""Raw-socket talk with a running simulator, the way the seeds' PHP client talked."""

from __future__ import annotations

import asyncio

from bridge.qq.codes import LOGIN_CONSTANT
from bridge.qq.simulator import Simulator
from bridge.qq.wire.requests import password_md5
from tests.raw_http import split_responses

PASSWORDS = {10001: "password1", 10002: "password2", 10003: "password3", 10004: "password4"}
OTHER_HOST = "127.0.0.2"  # all of 127/8 is loopback on Linux: a second client address


def php_request(body: bytes, request_line: bytes = b"POST HTTP/1.1") -> bytes:
    """What seed 004's PHP sends: no target, ``Content-length``, and a spare CRLFCRLF."""
    return (
        request_line
        + b"\r\nContent-length: %d\r\nConnection: close\r\n\r\n" % len(body)
        + body
        + b"\r\n\r\n"
    )


async def exchange(port: int, raw: bytes, ip: str = "127.0.0.1") -> bytes:
    """Send ``raw`` and read until the server closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(ip, 0))
    try:
        writer.write(raw)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), timeout=5)
    finally:
        writer.close()


async def post(sim: Simulator, body: str | bytes, ip: str = "127.0.0.1") -> list[bytes]:
    """The reply bodies to one request (an empty list: closed without a reply)."""
    data = body.encode() if isinstance(body, str) else body
    return split_responses(await exchange(sim.port, php_request(data), ip))


async def ask(sim: Simulator, body: str, ip: str = "127.0.0.1") -> str:
    """The single reply body to one request, as text."""
    replies = await post(sim, body, ip)
    assert len(replies) == 1, replies
    return replies[0].decode()


async def login(sim: Simulator, uin: int, ip: str = "127.0.0.1", seq: int = 1) -> str:
    md5 = password_md5(PASSWORDS[uin])
    body = f"VER=1.1&CMD=Login&SEQ={seq}&UIN={uin}&PS={md5}&M5=1&LC={LOGIN_CONSTANT}"
    return await ask(sim, body, ip)


def head(uin: int, command: str, seq: int = 123) -> str:
    """The four fields every request and reply starts with (``command`` as spelled there)."""
    return f"VER=1.1&CMD={command}&SEQ={seq}&UIN={uin}"
