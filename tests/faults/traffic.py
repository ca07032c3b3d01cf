"""Tagged traffic both ways through the bridge, and the count of what was lost or duplicated.

A scenario has one Matrix user logged in to QQ account A through the bot, and two QQ friends
of A (peers B and C), each with its portal room. Every message is a tag
``f-<scenario>-<q2m|m2q>-<n>``: QQ→Matrix ones are sent by a peer to A, Matrix→QQ ones by the
user in a portal room. What arrived is read at the far end: the portal rooms' history (not
/sync, whose timeline may skip events in a burst) and the peers' GetMsgEx events.

The fault proxy's record tells apart what the fault itself made ambiguous in QQ HTTP v1.1,
where nothing is acknowledged: a CLTMSG the server accepted but whose reply the bridge never
read may be sent again (at-least-once: a duplicate is allowed for those tags only), and a
GetMsgEx batch is cleared by the server as it replies, so a batch whose reply the bridge never
read intact is gone from QQ (those tags are counted apart as destroyed by the fault).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from mautrix.types import EventType, PaginationDirection, RoomID

from bridge.qq.client import ClientSettings
from bridge.qq.simulator import Account
from bridge.qq.wire.replies import Event, TextMessage

from ..e2e.harness import LoggedInSession, QQPeer
from ..e2e.matrix_user import MatrixUser
from .proxy import Exchange
from .stack import FAULT_ACCOUNTS, FaultStack

Q2M, M2Q = "q2m", "m2q"
_users = itertools.count(1)


class TimedPeer(QQPeer):
    """A QQ peer that also notes when each event reached it (time.time())."""

    def __init__(
        self, server_url: str, account: Account, settings: ClientSettings | None = None
    ) -> None:
        super().__init__(server_url, account, settings)
        self.arrivals: list[tuple[float, Event]] = []

    async def _on_events(self, events: list[Event]) -> None:
        now = time.time()
        self.arrivals.extend((now, event) for event in events)
        await super()._on_events(events)


@dataclass
class Chats:
    """The user, their management room, and one portal room per peer."""

    scenario: str
    stack: FaultStack
    session: LoggedInSession
    peers: dict[int, TimedPeer]
    rooms: dict[int, RoomID]

    @property
    def user(self) -> MatrixUser:
        return self.session.user

    @property
    def uin(self) -> int:
        return self.session.uin

    async def close(self) -> None:
        for peer in self.peers.values():
            with contextlib.suppress(Exception):
                await peer.stop()
        await self.user.stop()


async def open_chats(
    stack: FaultStack, scenario: str, base_uin: int, peer_settings: ClientSettings
) -> Chats:
    """Log a new Matrix user in to ``base_uin`` and open portals with its two friends."""
    user = await MatrixUser(stack.synapse, f"fault{scenario}{next(_users)}").start()
    peers: dict[int, TimedPeer] = {}
    step = "open a DM with the bot"
    try:
        room = await user.dm(stack.bot)
        await user.wait_for_text(room, "Send `login", sender=stack.bot)
        session = LoggedInSession(user, room, stack.bot, base_uin, stack.puppet)
        account = FAULT_ACCOUNTS[base_uin]
        step = f"log in to QQ {base_uin}"
        await session.command(f"login {base_uin} {account.password}", "Logged in to QQ")
        rooms: dict[int, RoomID] = {}
        for uin in account.friends:
            peer = TimedPeer(stack.qq.url, FAULT_ACCOUNTS[uin], peer_settings)
            await peer.start()
            peers[uin] = peer
            step = f"open the portal with {uin}"
            rooms[uin] = await session.open_portal(uin)
    except BaseException as error:
        for peer in peers.values():
            await peer.stop()
        await user.stop()
        if isinstance(error, TimeoutError):
            raise AssertionError(
                f"scenario {scenario}: could not {step} (no answer in time); "
                f"bridge log: {stack.bridge.log_path}"
            ) from error
        raise
    return Chats(scenario, stack, session, peers, rooms)


@dataclass
class Sent:
    tag: str
    direction: str
    chat: int  # the peer's uin
    n: int
    at: float  # time.time() when the send returned


@dataclass
class Direction:
    """What one direction delivered, per chat, and what went wrong."""

    direction: str
    sent: list[Sent]
    received: dict[int, list[str]]  # chat -> tags in arrival order (duplicates included)
    lost: list[str] = field(default_factory=list)
    excused_lost: list[str] = field(default_factory=list)  # destroyed by the fault itself
    duplicated: dict[str, int] = field(default_factory=dict)
    excused_duplicated: dict[str, int] = field(default_factory=dict)  # ambiguous sends
    out_of_order: dict[int, list[str]] = field(default_factory=dict)
    unexpected: list[str] = field(default_factory=list)  # arrived, never sent (send failed)

    def summary(self) -> str:
        received = sum(len(tags) for tags in self.received.values())
        parts = [
            f"{self.direction}: sent {len(self.sent)}, received {received}",
            f"lost {len(self.lost)} {self.lost}",
            f"duplicated {len(self.duplicated)} {self.duplicated}",
            f"out of order {self.out_of_order}",
        ]
        if self.excused_lost:
            parts.append(
                f"destroyed by the fault (GetMsgEx batch cleared by QQ, reply never read intact)"
                f" {len(self.excused_lost)} {self.excused_lost}"
            )
        if self.excused_duplicated:
            parts.append(
                f"allowed duplicates (CLTMSG reply never read intact: at-least-once)"
                f" {len(self.excused_duplicated)} {self.excused_duplicated}"
            )
        if self.unexpected:
            parts.append(f"unexpected {self.unexpected}")
        return "; ".join(parts)


class Traffic:
    """Sends tagged rounds (one message per chat and direction) and counts the result."""

    def __init__(self, chats: Chats, round_interval: float = 1.0) -> None:
        self.chats = chats
        self.round_interval = round_interval
        self.sent: list[Sent] = []
        self.failed_sends: list[str] = []  # tags whose send raised (never sent as far as we know)
        self.paused: set[str] = set()
        self.not_sent_notices: list[str] = []  # "Not sent to QQ: …" in the portal rooms
        self._numbers = {Q2M: itertools.count(1), M2Q: itertools.count(1)}
        self._flow: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self.tag_pattern = re.compile(rf"^f-{re.escape(chats.scenario)}-(q2m|m2q)-(\d+)$")

    # --- sending ------------------------------------------------------------------------

    def _tag(self, direction: str) -> tuple[str, int]:
        n = next(self._numbers[direction])
        return f"f-{self.chats.scenario}-{direction}-{n}", n

    async def round(self) -> None:
        """One message per chat, both ways (unless a direction is paused)."""
        chats = self.chats
        jobs = []
        for uin, peer in chats.peers.items():
            if Q2M not in self.paused:
                jobs.append(self._send_q2m(uin, peer))
        if M2Q not in self.paused:
            jobs.append(self._send_m2q_all())
        await asyncio.gather(*jobs)

    async def _send_q2m(self, uin: int, peer: TimedPeer) -> None:
        tag, n = self._tag(Q2M)
        await peer.client.send_text(self.chats.uin, tag)
        self.sent.append(Sent(tag, Q2M, uin, n, time.time()))

    async def _send_m2q_all(self) -> None:
        # One after the other, so the bridge sees them in n order.
        for uin, room in self.chats.rooms.items():
            tag, n = self._tag(M2Q)
            try:
                await self.chats.user.send(room, tag)
            except Exception as error:
                self.failed_sends.append(f"{tag} ({error.__class__.__name__})")
                continue
            self.sent.append(Sent(tag, M2Q, uin, n, time.time()))

    def start(self) -> None:
        """Rounds every ``round_interval`` seconds in the background until ``stop``."""
        self._stop.clear()
        self._flow = asyncio.create_task(self._run(), name=f"traffic {self.chats.scenario}")

    async def stop(self) -> None:
        """Stop the background rounds after the one in progress; then send one last round,
        which (order being kept per chat) is the signal that everything before it arrived."""
        self._stop.set()
        if self._flow is not None:
            await self._flow
            self._flow = None
        await self.round()

    async def _run(self) -> None:
        while not self._stop.is_set():
            began = time.monotonic()
            await self.round()
            wait = self.round_interval - (time.monotonic() - began)
            if wait > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), wait)

    # --- what arrived -------------------------------------------------------------------

    async def matrix_side(self) -> dict[int, list[tuple[str, float]]]:
        """Per chat, the tags the puppet posted in its room, oldest first, with Synapse's
        origin_server_ts (seconds)."""
        result: dict[int, list[tuple[str, float]]] = {}
        notices: list[str] = []
        for uin, room in self.chats.rooms.items():
            page = await self.chats.user.client.get_messages(
                room, PaginationDirection.BACKWARD, limit=1000
            )
            events: list[Any] = list(reversed(page.events))  # type: ignore[attr-defined]
            notices += [
                body
                for event in events
                if event.type == EventType.ROOM_MESSAGE
                and (body := str(getattr(event.content, "body", ""))).startswith("Not sent to QQ")
            ]
            result[uin] = [
                (body, event.timestamp / 1000)
                for event in events
                if event.type == EventType.ROOM_MESSAGE
                and event.sender == self.chats.stack.puppet(uin)
                and self.tag_pattern.match(body := str(getattr(event.content, "body", "")))
            ]
        self.not_sent_notices = notices
        return result

    def qq_side(self) -> dict[int, list[tuple[str, float]]]:
        """Per chat (peer), the tags it received from the bridged account, with arrival time."""
        return {
            uin: [
                (event.text, at)
                for at, event in peer.arrivals
                if isinstance(event, TextMessage)
                and event.sender == self.chats.uin
                and self.tag_pattern.match(event.text)
            ]
            for uin, peer in self.chats.peers.items()
        }

    def _missing(self, q2m: dict[int, list[tuple[str, float]]]) -> set[str]:
        m2q = self.qq_side()
        arrived = {tag for got in (*q2m.values(), *m2q.values()) for tag, _ in got}
        return {s.tag for s in self.sent} - arrived

    async def wait_delivered(self, timeout: float, excused: set[str] | None = None) -> float:
        """Wait (at most ``timeout`` s) until every tag sent arrived (but ``excused`` ones);
        woken by the user's /sync and the peers' events. Returns the seconds waited."""
        began = time.monotonic()
        deadline = began + timeout
        while True:
            user_mark = self.chats.user.mark()
            peer_marks = {uin: len(peer.events) for uin, peer in self.chats.peers.items()}
            if not (self._missing(await self.matrix_side()) - (excused or set())):
                return time.monotonic() - began
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return time.monotonic() - began
            await self._something_arrives(user_mark, peer_marks, min(remaining, 2.0))

    async def _something_arrives(
        self, user_mark: int, peer_marks: dict[int, int], timeout: float
    ) -> None:
        waits: list[asyncio.Future[Any]] = [
            asyncio.ensure_future(
                self.chats.user.wait_for(lambda _e: True, timeout=timeout, after=user_mark)
            )
        ]
        for uin, peer in self.chats.peers.items():
            waits.append(asyncio.ensure_future(_new_event(peer, peer_marks[uin], timeout)))
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()
            await asyncio.gather(*waits, return_exceptions=True)

    async def count(
        self, destroyed: set[str] | None = None, ambiguous: set[str] | None = None
    ) -> dict[str, Direction]:
        """Lost, duplicated and out-of-order tags per direction. ``destroyed``: QQ→Matrix tags
        the fault itself took off the QQ server; ``ambiguous``: Matrix→QQ tags whose CLTMSG
        the server may have accepted without the bridge knowing."""
        matrix = await self.matrix_side()
        qq = self.qq_side()
        return {
            Q2M: self._direction(Q2M, matrix, destroyed or set(), set()),
            M2Q: self._direction(M2Q, qq, set(), ambiguous or set()),
        }

    def _direction(
        self,
        direction: str,
        arrived: dict[int, list[tuple[str, float]]],
        destroyed: set[str],
        ambiguous: set[str],
    ) -> Direction:
        sent = [s for s in self.sent if s.direction == direction]
        sent_tags = {s.tag for s in sent}
        received = {
            uin: [tag for tag, _ in got if tag.split("-")[2] == direction]
            for uin, got in arrived.items()
        }
        report = Direction(direction, sent, received)
        seen: Counter[str] = Counter(tag for tags in received.values() for tag in tags)
        for s in sent:
            if s.tag not in seen:
                (report.excused_lost if s.tag in destroyed else report.lost).append(s.tag)
        for tag, times in seen.items():
            if times > 1:
                target = report.excused_duplicated if tag in ambiguous else report.duplicated
                target[tag] = times
            if tag not in sent_tags:
                report.unexpected.append(tag)
        chat_of = {s.tag: s.chat for s in sent}
        for uin, tags in received.items():
            highest = 0
            late: list[str] = []
            for tag in dict.fromkeys(tags):  # first arrivals, in order
                n = int(tag.rsplit("-", 1)[1])
                if chat_of.get(tag, uin) != uin:
                    late.append(f"{tag} (in the wrong chat)")
                elif n < highest:
                    late.append(tag)
                highest = max(highest, n)
            if late:
                report.out_of_order[uin] = late
        return report

    # --- timing -------------------------------------------------------------------------

    async def first_matrix_delivery_after(self, moment: float) -> float | None:
        """Seconds from ``moment`` to the first tagged QQ→Matrix message Synapse stored after
        it, or None."""
        times = [at for got in (await self.matrix_side()).values() for _, at in got if at >= moment]
        return min(times) - moment if times else None

    def first_qq_delivery_after(self, moment: float) -> float | None:
        """Seconds from ``moment`` to the first tagged CLTMSG from the bridged account that
        the QQ server answered and the bridge read, after it, or None."""
        times = [
            e.replied
            for e in self.cltmsgs()
            if e.intact and e.replied is not None and e.replied >= moment
        ]
        return min(times) - moment if times else None

    def first_attempt_after(self, command: str, moment: float) -> float | None:
        """Seconds from ``moment`` to the first ``command`` (GETMSGEX, CLTMSG) the bridge sent
        for this account that reached the proxy, or None."""
        times = [
            e.accepted
            for e in self.chats.stack.proxy.exchanges
            if e.command == command and e.uin == self.chats.uin and e.accepted >= moment
        ]
        return min(times) - moment if times else None

    # --- the proxy's record ---------------------------------------------------------------

    def cltmsgs(self) -> list[Exchange]:
        return [
            e
            for e in self.chats.stack.proxy.exchanges
            if e.command == "CLTMSG" and e.uin == self.chats.uin and self._tag_in(e.request)
        ]

    def polls(self) -> list[Exchange]:
        return [
            e
            for e in self.chats.stack.proxy.exchanges
            if e.command == "GETMSGEX" and e.uin == self.chats.uin
        ]

    def tags_in(self, data: bytes) -> set[str]:
        pattern = rf"f-{re.escape(self.chats.scenario)}-(?:q2m|m2q)-\d+"
        return set(re.findall(pattern, data.decode("utf-8", "replace")))

    def _tag_in(self, data: bytes) -> bool:
        return bool(self.tags_in(data))

    def ambiguous_sends(self) -> set[str]:
        """Tags of CLTMSGs whose reply the bridge did not read as the server sent it."""
        return {
            tag
            for e in self.cltmsgs()
            if e.forwarded is not None and not e.intact
            for tag in self.tags_in(e.request)
        }

    def destroyed_batches(self) -> set[str]:
        """Tags in GetMsgEx replies (cleared from QQ as sent) that the bridge did not read
        intact."""
        return {
            tag
            for e in self.polls()
            if e.forwarded is not None and not e.intact
            for tag in self.tags_in(e.reply_body())
        }

    def in_flight_at(self, kills: Iterable[float]) -> tuple[set[str], set[str]]:
        """(GetMsgEx tags, CLTMSG tags) of the last exchange of each kind the bridge had
        started before each kill, if it started no further one of that kind before the kill:
        a batch it may have read but not journalled, a message QQ may have accepted but the
        bridge not marked sent."""
        polls: set[str] = set()
        sends: set[str] = set()
        for kill in kills:
            last_poll = max(
                (e for e in self.polls() if e.accepted < kill),
                default=None,
                key=lambda e: e.accepted,
            )
            if last_poll is not None:
                polls |= self.tags_in(last_poll.reply_body())
            last_send = max(
                (e for e in self.cltmsgs() if e.accepted < kill),
                default=None,
                key=lambda e: e.accepted,
            )
            if last_send is not None:
                sends |= self.tags_in(last_send.request)
        return polls, sends


async def _new_event(peer: QQPeer, mark: int, timeout: float) -> None:
    """Until the peer has more than ``mark`` events."""
    await peer.wait_for(lambda _e: len(peer.events) > mark, timeout=timeout)
