"""The bridge's shared state: who is who, and the one place each user, puppet and portal lives.

Everything else asks the Bridge for a User, Puppet or Portal, so there is only ever one object
per Matrix user, QQ contact and room, and their caches stay true.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from cachetools import LRUCache
from mautrix.appservice import AppService, IntentAPI
from mautrix.types import EventID, RoomID, UserID

from .config import Config
from .db import Database, PortalRow, PuppetRow, UserRow
from .e2ee.sending import send_message
from .homeserver import HomeserverWatch
from .login_pacing import LoginPacer
from .notices import notice_content
from .portal import Portal
from .presence import PresenceKeeper
from .puppet import Puppet
from .qq.client import ClientSettings, QQTransport
from .qq.clock import Clock, RealClock
from .status import StatusPusher
from .user import User
from .web.links import LoginLinks

if TYPE_CHECKING:
    from .e2ee import Encryption

log = logging.getLogger("bridge.core")

# Puppets' intents kept at most: the chats active at once, with room to spare (~13 MiB).
PUPPET_INTENTS = 1_000


class Bridge:
    def __init__(
        self,
        config: Config,
        db: Database,
        az: AppService,
        transport: QQTransport,
        clock: Clock | None = None,
    ) -> None:
        self.config = config
        self.db = db
        self.az = az
        self.transport = transport
        self.clock = clock or RealClock()
        self._users: dict[str, User] = {}
        self._puppets: dict[int, Puppet] = {}
        self._puppet_intents: LRUCache[int, IntentAPI] = LRUCache(maxsize=PUPPET_INTENTS)
        self._portals: dict[tuple[str, int], Portal] = {}
        # Room -> portal, for the Matrix side's look-up of every message; checked against the
        # portal's own room before use, so a portal whose room changed or was left is not found
        # by its old room.
        self._portal_rooms: dict[RoomID, Portal] = {}
        self._lock = asyncio.Lock()
        self._uin_locks: dict[int, asyncio.Lock] = {}
        self.login_links = LoginLinks(self.clock.now)
        self.client_settings = ClientSettings.from_config(config.qq_settings)
        # Logins resumed at start-up take turns (login_pacing.py); a login command does not wait.
        self.login_pacer = LoginPacer(float(config.qq_settings["login_rate"]), self.clock)
        # The bot's encryption device, when bridge.encryption.allow is on (set by BridgeApp).
        self.encryption: Encryption | None = None
        self.status = StatusPusher(self)
        self.presence = PresenceKeeper(self, config.presence_refresh)
        self.homeserver = HomeserverWatch(
            config.homeserver_address, lambda: az.http_session, self.clock, self.retry_deliveries
        )

    @property
    def bot(self) -> IntentAPI:
        return self.az.intent

    def is_bridge_ghost(self, mxid: str) -> bool:
        """True for the bot and the puppets: events they send are our own echoes."""
        return mxid == self.config.bot_mxid or self.config.uin_from_mxid(mxid) is not None

    async def send_notice(
        self, intent: IntentAPI, room_id: RoomID, text: str, txn_id: str | None = None
    ) -> EventID:
        """A notice as ``intent``'s user: ``text`` is Markdown, sent with its HTML
        (notices.py), encrypted where the room is (e2ee/sending.py)."""
        return await send_message(self, intent, room_id, notice_content(text), txn_id)

    # --- users --------------------------------------------------------------------------

    async def user(self, mxid: str) -> User:
        async with self._lock:
            user = self._users.get(mxid)
            if user is None:
                row = await self.db.get_user(mxid) or UserRow(mxid=mxid)
                user = self._users[mxid] = User(self, row)
            return user

    async def user_by_uin(self, uin: int) -> User | None:
        row = await self.db.get_user_by_uin(uin)
        return await self.user(row.mxid) if row else None

    async def all_users(self) -> list[User]:
        rows = await self.db.all_users()
        async with self._lock:
            # From the rows just read: a query per user would cost seconds at 10,000 users.
            return [self._users.get(row.mxid) or self._add_user(row) for row in rows]

    def _add_user(self, row: UserRow) -> User:
        user = self._users[row.mxid] = User(self, row)
        return user

    def loaded_users(self) -> list[User]:
        return list(self._users.values())

    def uin_lock(self, uin: int) -> asyncio.Lock:
        """Held while logging in to ``uin``, by whichever Matrix user (see login.py)."""
        return self._uin_locks.setdefault(uin, asyncio.Lock())

    def retry_deliveries(self) -> None:
        """The homeserver is back: every queue waiting out a back-off tries again now."""
        for user in self._users.values():
            user.inbound.worker.retry_now()
            user.outbound.worker.retry_now()

    # --- puppets ------------------------------------------------------------------------

    async def puppet(self, uin: int) -> Puppet:
        puppet = self._puppets.get(uin)
        if puppet is None:
            row = await self.db.get_puppet(uin) or PuppetRow(uin=uin)
            puppet = self._puppets.setdefault(uin, Puppet(self, row))
        return puppet

    def puppet_intent(self, uin: int) -> IntentAPI:
        """The puppet's IntentAPI, kept for the puppets used last (``PUPPET_INTENTS``): making
        one was a fifth of delivering a QQ message, and keeping one for every puppet ever seen
        (every online friend of every user) would cost ~13 KiB each (docs/performance.md)."""
        intent = self._puppet_intents.get(uin)
        if intent is None:
            intent = self.az.intent.user(UserID(self.config.puppet_mxid(uin)))
            self._puppet_intents[uin] = intent
        return intent

    # --- portals ------------------------------------------------------------------------

    async def portal(self, user: User, uin: int) -> Portal:
        key = (user.mxid, uin)
        portal = self._portals.get(key)
        if portal is None:
            row = await self.db.get_portal(user.mxid, uin) or PortalRow(owner=user.mxid, uin=uin)
            portal = self._portals.setdefault(key, Portal(self, row, user, await self.puppet(uin)))
        return portal

    async def existing_portal(self, user: User, uin: int) -> Portal | None:
        """The portal if a room was ever made for this pair; never creates one."""
        if (user.mxid, uin) in self._portals or await self.db.get_portal(user.mxid, uin):
            return await self.portal(user, uin)
        return None

    async def owned_portal(self, room_id: RoomID, owner: UserID) -> Portal | None:
        """The portal of ``room_id`` if ``owner`` is the Matrix user it belongs to."""
        portal = await self.portal_by_room(room_id)
        return portal if portal and portal.user.mxid == owner else None

    async def portal_by_room(self, room_id: RoomID) -> Portal | None:
        portal = self._portal_rooms.get(room_id)
        if portal is not None and portal.room_id == room_id and self._is_loaded(portal):
            return portal
        self._portal_rooms.pop(room_id, None)
        row = await self.db.get_portal_by_room(room_id)
        if row is None:
            return None
        portal = await self.portal(await self.user(row.owner), row.uin)
        if portal.room_id == room_id:
            self._portal_rooms[room_id] = portal
        return portal

    def _is_loaded(self, portal: Portal) -> bool:
        return self._portals.get((portal.user.mxid, portal.uin)) is portal
