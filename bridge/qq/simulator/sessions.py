"""Who is logged in, from where, in which status, and when they were last heard from."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass

from ..codes import Status


@dataclass
class Session:
    ip: str
    status: Status  # as the user set it; others see INVISIBLE as OFFLINE
    last_seen: float

    @property
    def visible_status(self) -> Status:
        return Status.OFFLINE if self.status == Status.INVISIBLE else self.status


class SessionTable:
    """One session per QQ number, kept in last-seen order.

    The clock only moves forward, so moving a touched session to the end keeps the table
    sorted by ``last_seen``: lapsed sessions are always at the front and a sweep stops at
    the first live one, whatever the number of sessions.
    """

    def __init__(self) -> None:
        self._sessions: OrderedDict[int, Session] = OrderedDict()

    def __len__(self) -> int:
        return len(self._sessions)

    def __contains__(self, uin: int) -> bool:
        return uin in self._sessions

    def get(self, uin: int) -> Session | None:
        return self._sessions.get(uin)

    def items(self) -> Iterator[tuple[int, Session]]:
        return iter(list(self._sessions.items()))

    def open(self, uin: int, ip: str, now: float) -> Session:
        """A new session for ``uin``, replacing any other (a login from elsewhere wins)."""
        self._sessions.pop(uin, None)
        session = Session(ip=ip, status=Status.ONLINE, last_seen=now)
        self._sessions[uin] = session
        return session

    def touch(self, uin: int, session: Session, now: float) -> None:
        session.last_seen = now
        self._sessions.move_to_end(uin)

    def close(self, uin: int) -> Session | None:
        return self._sessions.pop(uin, None)

    def pop_lapsed(self, now: float, lapse: float) -> Iterator[tuple[int, Session]]:
        """Remove and yield every session not heard from for ``lapse`` seconds or more."""
        while self._sessions:
            uin, session = next(iter(self._sessions.items()))
            if now - session.last_seen < lapse:
                return
            del self._sessions[uin]
            yield uin, session
