"""An in-memory stand-in for the network, for the pure tests of the client's logic.

It answers like the seeds' server (replies built by the codec's own encoders) and lets a
test lapse the session, drop the network or hand out penalties. The client's real I/O is
tested against the simulator (test_*_io.py); this is only for driving time by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bridge.qq.client import ServerUnreachable
from bridge.qq.client.reachability import Reachability
from bridge.qq.clock import Clock
from bridge.qq.codes import Command, Res
from bridge.qq.wire import NoReply
from bridge.qq.wire.fields import decode_request_pairs, encode_list, encode_reply, encode_text

PASSWORD_MD5 = "7c6a180b36896a0a8c02787eeafb0e4c"  # md5("password1")


@dataclass
class Seen:
    at: float
    command: str
    fields: dict[str, str]
    slow: bool = False  # the client asked for the long time-out


@dataclass
class ScriptedServer:
    clock: Clock
    uin: int = 10001
    md5: str = PASSWORD_MD5
    friends: list[int] = field(default_factory=lambda: [10002, 10003])
    heartbeat: int = 60
    lapse: int = 300
    logged_in: bool = False
    down: bool = False  # every post raises ServerUnreachable
    # Per command: how many of the next requests answer RES=3 / NULL.
    penalties: dict[str, int] = field(default_factory=dict)
    silences: dict[str, int] = field(default_factory=dict)
    # Per command: how many of the next replies are cut short before RES (the request itself
    # is carried out, as on a connection that breaks after the server acted).
    garbles: dict[str, int] = field(default_factory=dict)
    inbox: list[tuple[int, int, str]] = field(default_factory=list)  # (MT, UN, MG)
    seen: list[Seen] = field(default_factory=list)
    on_request: Callable[[Seen], None] | None = None
    # The transport's shared reachability, probing this server's ``down`` on the same clock
    # (no wake-up spread unless a test sets one).
    reachability: Reachability = field(init=False)
    probe_interval: float = 1.0
    recovery_spread: float = 0.0

    def __post_init__(self) -> None:
        self.reachability = Reachability(
            self._probe, self.clock, self.probe_interval, self.recovery_spread
        )
        self.probes: list[float] = []
        self.refused: list[float] = []  # when requests met the server down

    async def _probe(self) -> bool:
        self.probes.append(self.clock.now())
        return not self.down

    async def wait_reachable(self) -> None:
        await self.reachability.wait()

    async def close(self) -> None:
        await self.reachability.close()

    def commands(self) -> list[str]:
        return [request.command for request in self.seen]

    async def post(self, body: bytes, *, slow: bool = False) -> bytes:
        if self.down:
            self.refused.append(self.clock.now())
            self.reachability.lost()
            raise ServerUnreachable("connection refused (scripted)")
        self.reachability.found()
        fields = decode_request_pairs(body)
        request = Seen(self.clock.now(), fields["CMD"], fields, slow)
        self.seen.append(request)
        if self.on_request is not None:
            self.on_request(request)
        command = Command.parse(fields["CMD"])
        assert command is not None, fields
        if self.silences.get(command.value, 0) > 0:
            self.silences[command.value] -= 1
            raise NoReply()
        reply = self._answer(command, fields)
        body = encode_reply(
            [
                ("VER", "1.1"),
                ("CMD", command.reply_spelling),
                ("SEQ", fields["SEQ"]),
                ("UIN", fields["UIN"]),
                *reply,
            ]
        )
        if self.garbles.get(command.value, 0) > 0:
            self.garbles[command.value] -= 1
            return body[: body.index(b"RES=") + 2]  # "...&RE": no RES to read
        return body

    def _answer(self, command: Command, fields: dict[str, str]) -> list[tuple[str, str]]:
        if command is Command.LOGIN:
            if int(fields["UIN"]) < 10000:
                return [("RES", str(Res.INVALID_UIN))]
            if fields["PS"] != self.md5:
                return [("RES", "0"), ("RS", "1"), ("RA", encode_text("密码错误"))]
            self.logged_in = True
            return [("RES", "0"), ("RS", "0"), ("HI", str(self.heartbeat)), ("LI", str(self.lapse))]
        if command is Command.LOGOUT:
            self.logged_in = False
            return [("RES", "0")]
        if not self.logged_in:
            return [("RES", str(Res.NOT_LOGGED_IN))]
        if self.penalties.get(command.value, 0) > 0:
            self.penalties[command.value] -= 1
            return [("RES", str(Res.PENALTY))]
        if command is Command.LIST:
            if fields.get("TN", "0") == "0":
                return [("RES", "0"), ("FN", str(len(self.friends)))]
            return [
                ("RES", "0"),
                ("FN", "1"),
                ("SN", str(len(self.friends))),
                ("UN", encode_list(self.friends)),
            ]
        if command is Command.GET_MSG_EX:
            items, self.inbox = self.inbox, []
            return [
                ("RES", "0"),
                ("MN", str(len(items))),
                ("MT", encode_list(kind for kind, _, _ in items)),
                ("UN", encode_list(sender for _, sender, _ in items)),
                ("MG", encode_list(text for _, _, text in items)),
            ]
        if command is Command.ADD_TO_LIST:
            return [("RES", "0"), ("CD", "0"), ("UN", fields["UN"])]
        if command is Command.GET_INFO:
            return [("RES", "0"), ("UN", fields["UN"]), ("LV", fields["LV"]), ("NK", "nick")]
        if command is Command.QUERY_STAT:
            return [("RES", "0"), ("FN", "0"), ("SN", "0"), ("UN", ""), ("FC", ""), ("ST", "")]
        return [("RES", "0")]
