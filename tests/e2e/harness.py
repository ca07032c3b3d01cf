"""The bridge and the QQ side of the end-to-end tests: a restartable bridge and QQ peers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from mautrix.types import RoomID

from bridge.app import BridgeApp
from bridge.qq.client import ClientSettings, QQClient, QQTransport
from bridge.qq.simulator import Account
from bridge.qq.wire.replies import Event, TextMessage
from bridge.qq.wire.requests import password_md5

from .matrix_user import MatrixUser, SeenEvent

TIMEOUT = 30.0


class BridgeRunner:
    """One BridgeApp at a time on the registered port; tests may stop and start it."""

    def __init__(self, config: Any) -> None:
        self.config = config
        self.app: BridgeApp | None = None

    async def start(self, database_url: str | None = None) -> BridgeApp:
        if database_url is not None:
            self.config["appservice.database"] = database_url
        self.app = BridgeApp(self.config)
        await self.app.start()
        return self.app

    async def stop(self) -> None:
        if self.app is not None:
            await self.app.stop()
            self.app = None

    @property
    def bridge(self) -> Any:
        assert self.app is not None and self.app.bridge is not None
        return self.app.bridge


class QQPeer:
    """A QQ account on the other side, driven through our own protocol client."""

    def __init__(
        self, server_url: str, account: Account, settings: ClientSettings | None = None
    ) -> None:
        self.account = account
        self.transport = QQTransport(server_url)
        self.events: list[Event] = []
        self._changed = asyncio.Condition()
        self.client = QQClient(
            self.transport,
            account.uin,
            password_md5(account.password),
            settings=settings,
            on_events=self._on_events,
        )

    async def _on_events(self, events: list[Event]) -> None:
        async with self._changed:
            self.events.extend(events)
            self._changed.notify_all()

    async def start(self) -> QQPeer:
        await self.client.start()
        return self

    async def stop(self) -> None:
        await self.client.logout()
        await self.transport.close()

    async def wait_for(self, predicate: Callable[[Event], bool], timeout: float = TIMEOUT) -> Event:
        def find() -> Event | None:
            return next((e for e in self.events if predicate(e)), None)

        async with self._changed:
            found = await asyncio.wait_for(self._changed.wait_for(find), timeout)
        assert found is not None
        return found

    async def texts_from(self, uin: int, count: int, timeout: float = TIMEOUT) -> list[str]:
        """The first ``count`` texts this peer received from ``uin``, in order."""

        def enough() -> bool:
            return len(self._texts(uin)) >= count

        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(enough), timeout)
        return self._texts(uin)[:count]

    def _texts(self, uin: int) -> list[str]:
        return [e.text for e in self.events if isinstance(e, TextMessage) and e.sender == uin]


def _e2e_accounts() -> dict[int, Account]:
    """QQ accounts 30001-30399 for the end-to-end tests; each test uses its own few.

    30070-30079 are the encryption tests' (on main); operations' tests use 30062-30068 and
    30080-30084. From 30086 to 30099 and from 30100 to 30299 accounts come in friend pairs
    (each even number is a friend of the next odd one) so that a new test needs no edit here;
    30300-30399 have no friends. Blocks: 30085-30099 and 30300-30319 encryption, 30100-30149
    and 30320-30339 rooms, 30150-30199 and 30340-30359 profiles, 30200-30249 and 30360-30379
    performance, 30250-30299 and 30380-30399 core."""
    nicks = {30002: "小红 & co, ltd", 30023: "Peer=100%"}
    friendships = {
        30001: (30002,),
        30003: (30004,),
        30011: (30012,),
        30013: (30014,),
        30016: (30017,),
        30022: (30023,),
        30024: (30025,),
        30050: (30051,),
        30040: (30041,),
        30043: (30044,),
        30046: (30047,),
        30055: (30056,),
        30071: (30072,),
        30073: (30074,),
        30075: (30076,),
        30077: (30078,),
        30062: (30063,),
        30064: (30065,),
        30080: (30081,),
        30083: (30084,),
    }
    friendships.update({uin: (uin + 1,) for uin in range(30086, 30100, 2)})
    friendships.update({uin: (uin + 1,) for uin in range(30100, 30300, 2)})
    auth = {30005: 1, 30006: 0, 30007: 2, 30008: 1, 30009: 1, 30010: 1, 30034: 1}
    return {
        uin: Account(
            uin=uin,
            password=f"pw-{uin}",
            nick=nicks.get(uin, f"测试{uin}"),
            face=(uin % 100) * 3,
            auth=auth.get(uin, 0),
            profile={"AG": "20", "BT": "2", "CO": "7", "SH": "5", "SX": "1", "PR": "hi, there"},
            friends=friendships.get(uin, ()),
        )
        for uin in range(30001, 30400)
    }


E2E_ACCOUNTS = _e2e_accounts()


class LoggedInSession:
    """A Matrix user with a management room, logged in to QQ through the bot."""

    def __init__(self, user: MatrixUser, room: RoomID, bot: str, uin: int, puppet: Any) -> None:
        self.user, self.room, self.bot, self.uin, self._puppet = user, room, bot, uin, puppet

    async def command(self, text: str, expect: str) -> SeenEvent:
        mark = self.user.mark()
        await self.user.send(self.room, text)
        return await self.user.wait_for_text(self.room, expect, sender=self.bot, after=mark)

    async def open_portal(self, uin: int) -> RoomID:
        await self.user.send(self.room, f"pm {uin}")
        room = await self.user.wait_for_invite(self._puppet(uin))
        await self.user.join(room)
        return room


UserFactory = Callable[[str], Awaitable[MatrixUser]]
QQPeerFactory = Callable[[int], Awaitable[QQPeer]]
LoggedIn = Callable[[str, int], Awaitable[LoggedInSession]]
