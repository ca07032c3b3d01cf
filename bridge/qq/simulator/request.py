"""A request body read the way the old server read it, and what each command sees of it.

Anything the server would not answer ("NULL" in the seeds) raises ``Silence``; a stated
refusal raises ``Refusal``. Syntax is checked before the session, so a malformed request
gets no reply whether or not its sender is logged in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..codes import VERSION, Command, Res
from ..wire.fields import decode_request_pairs, encode_reply, encode_text
from .sessions import Session
from .world import World

_NUMBER = re.compile(r"-?[0-9]{1,20}")


class Silence(Exception):
    """Close the connection without a reply."""


class Refusal(Exception):
    """Answer with nothing but a RES other than 0."""

    def __init__(self, res: Res) -> None:
        super().__init__(f"RES={int(res)}")
        self.res = res


@dataclass(frozen=True)
class Request:
    command: Command
    seq: str  # echoed as received
    uin_text: str  # echoed as received
    uin: int
    fields: dict[str, str]


def parse_request(body: bytes) -> Request:
    """The envelope every request carries: VER, CMD, SEQ and a numeric UIN."""
    try:
        fields = decode_request_pairs(body)
    except UnicodeDecodeError:  # seed 004: MG or RS that is not UTF-8 gets NULL
        raise Silence from None
    command = Command.parse(fields.get("CMD", ""))
    if fields.get("VER") != VERSION or command is None:
        raise Silence
    uin_text = fields.get("UIN", "")
    uin = parse_number(uin_text)
    if uin is None:
        raise Silence
    return Request(command, fields.get("SEQ", ""), uin_text, uin, fields)


def parse_number(text: str | None) -> int | None:
    if text is None or not _NUMBER.fullmatch(text):
        return None
    return int(text)


@dataclass
class Context:
    """One request being answered: the world, who asks, and when."""

    world: World
    request: Request
    peer: str
    now: float

    def number(self, key: str) -> int:
        """A numeric field the command needs; missing or not a number gets no reply."""
        value = parse_number(self.request.fields.get(key))
        if value is None:
            raise Silence
        return value

    def optional_number(self, key: str) -> int | None:
        """A numeric field that may be left out; present and not a number gets no reply."""
        if key not in self.request.fields:
            return None
        return self.number(key)

    def text(self, key: str) -> str:
        return self.request.fields.get(key, "")

    def session(self) -> Session:
        """The sender's session, refreshed; RES=20 unless logged in from this address."""
        uin = self.request.uin
        session = self.world.sessions.get(uin)
        if session is None or session.ip != self.peer:
            raise Refusal(Res.NOT_LOGGED_IN)
        self.world.sessions.touch(uin, session, self.now)
        return session

    def reply(
        self,
        res: Res = Res.OK,
        fields: Iterable[tuple[str, str]] = (),
        trailing_ampersand: bool = False,
    ) -> bytes:
        """A reply body: VER, CMD (as the server spelled it), SEQ, UIN, RES, then ``fields``."""
        request = self.request
        envelope = [
            ("VER", VERSION),
            ("CMD", request.command.reply_spelling),
            ("SEQ", encode_text(request.seq)),
            ("UIN", encode_text(request.uin_text)),
            ("RES", str(int(res))),
        ]
        return encode_reply([*envelope, *fields], trailing_ampersand)
