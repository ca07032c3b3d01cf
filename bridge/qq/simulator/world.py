"""Everything the simulated server knows, and the rules that change it.

Pure state: no sockets and no clock of its own (callers pass ``now``), so tests inspect and
drive it directly. ``Simulator.state`` is one of these.
"""

from __future__ import annotations

import dataclasses
import hmac
from collections.abc import Iterable

from ..codes import MessageType, Status
from .accounts import Account
from .mailbox import Item, Mailboxes
from .penalties import PenaltyBox
from .sessions import Session, SessionTable
from .settings import SimulatorSettings

# Statuses Query_Stat lists; OFFLINE (including INVISIBLE, seen as OFFLINE) is left out.
LISTED_STATUSES = frozenset({Status.ONLINE, Status.BUSY})


class World:
    def __init__(self, accounts: Iterable[Account], settings: SimulatorSettings) -> None:
        self.settings = settings
        self.accounts: dict[int, Account] = {account.uin: account for account in accounts}
        self._password_md5 = {uin: account.password_md5 for uin, account in self.accounts.items()}
        # Friendship is mutual: ``friends[a]`` holds b exactly when ``friends[b]`` holds a.
        self.friends: dict[int, set[int]] = {uin: set() for uin in self.accounts}
        for account in self.accounts.values():
            for friend in account.friends:
                self.befriend(account.uin, friend)
        self.sessions = SessionTable()
        self.mailboxes = Mailboxes(settings.queue_limit)
        self.penalties = PenaltyBox()
        # spoken_to[a] holds every account a has sent a CLTMSG to: b sees a's messages
        # once b has spoken to a, even if they are strangers (seed 004).
        self.spoken_to: dict[int, set[int]] = {}
        # pending_requests[target] holds who asked target to be friends (Ack_AddToList CD=2).
        self.pending_requests: dict[int, set[int]] = {}

    # --- friendship -------------------------------------------------------------------

    def are_friends(self, a: int, b: int) -> bool:
        return b in self.friends.get(a, ())

    def befriend(self, a: int, b: int) -> None:
        self.friends.setdefault(a, set()).add(b)
        self.friends.setdefault(b, set()).add(a)

    def unfriend(self, a: int, b: int) -> None:
        self.friends.get(a, set()).discard(b)
        self.friends.get(b, set()).discard(a)

    def friend_list(self, uin: int) -> list[int]:
        return sorted(self.friends.get(uin, ()))

    def online_friends(self, uin: int) -> list[tuple[Account, Status]]:
        """Friends others can see online (ONLINE or BUSY), in QQ-number order."""
        listed = []
        for friend in self.friend_list(uin):
            session = self.sessions.get(friend)
            if session is not None and session.visible_status in LISTED_STATUSES:
                listed.append((self.accounts[friend], session.visible_status))
        return listed

    # --- profiles ---------------------------------------------------------------------

    def change_profile(self, uin: int, nick: str | None = None, face: int | None = None) -> None:
        """The account's owner changes their nickname or face (None: unchanged).

        QQ HTTP v1.1 has no command for it (the 11 of seeds 000-004 only read profiles) and no
        message announces it: others see the new values in their next Query_Stat (NK, FC) and
        GetInfo, as a real server would show them. For tests and the demo; raises KeyError
        for an unknown account and ValueError for a negative face.
        """
        account = self.accounts[uin]
        if face is not None and face < 0:
            raise ValueError("a face is a number of 0 or more")
        self.accounts[uin] = dataclasses.replace(
            account,
            nick=account.nick if nick is None else nick,
            face=account.face if face is None else face,
        )

    # --- presence ---------------------------------------------------------------------

    def password_matches(self, uin: int, md5: str) -> bool:
        expected = self._password_md5.get(uin)
        return expected is not None and hmac.compare_digest(expected, md5.strip().lower())

    def visible_status(self, uin: int) -> Status:
        session = self.sessions.get(uin)
        return session.visible_status if session is not None else Status.OFFLINE

    def is_online(self, uin: int) -> bool:
        """Logged in, whatever the status (an invisible account still gets messages)."""
        return uin in self.sessions

    def log_in(self, uin: int, ip: str, now: float) -> Session:
        before = self.visible_status(uin)
        session = self.sessions.open(uin, ip, now)
        if before != session.visible_status:
            self.announce(uin, session.visible_status)
        return session

    def change_status(self, uin: int, session: Session, status: Status) -> None:
        """Seed 004: every status change reaches the friends, INVISIBLE sent as OFFLINE."""
        session.status = status
        self.announce(uin, session.visible_status)

    def end_session(self, uin: int) -> None:
        session = self.sessions.close(uin)
        if session is not None and session.visible_status != Status.OFFLINE:
            self.announce(uin, Status.OFFLINE)

    def announce(self, uin: int, status: Status) -> None:
        """MT 99 to every logged-in friend. A full queue drops it: Query_Stat recovers it."""
        item = Item(MessageType.SYSTEM, uin, str(int(status)))
        for friend in self.friends.get(uin, ()):
            if friend in self.sessions:
                self.mailboxes.put(friend, item)

    def sweep(self, now: float) -> int:
        """End every lapsed session (friends see it go offline); how many ended."""
        lapsed = list(self.sessions.pop_lapsed(now, self.settings.lapse))
        for uin, session in lapsed:
            if session.visible_status != Status.OFFLINE:
                self.announce(uin, Status.OFFLINE)
        return len(lapsed)

    # --- inspection, for tests and the demo ---------------------------------------------

    def queue(self, uin: int) -> list[Item]:
        return self.mailboxes.peek(uin)
