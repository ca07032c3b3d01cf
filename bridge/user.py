"""A Matrix user of the bridge, and their QQ login.

The user owns one QQClient while logged in. Only the md5 of the QQ password is ever kept (in
memory and in the store), so a login resumes after a restart without the password itself.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import TYPE_CHECKING

import sqlalchemy.exc
from mautrix.types import EventID, RoomID

from . import own_status
from .db import LoginState, UserRow
from .friends import Friends
from .inbound import Inbound
from .outbound import Outbound
from .qq.client import (
    QQ_FAILURES,
    Backoff,
    ConnectionState,
    Event,
    InfoLevel,
    LoginRefused,
    QQClient,
    Status,
)
from .roster import take_online

if TYPE_CHECKING:
    from .core import Bridge

log = logging.getLogger("bridge.user")

# The login resume's back-off (the client's one policy, jittered so that after an outage of
# QQ a thousand users do not all try again in the same second).
RESUME_FIRST_RETRY, RESUME_LAST_RETRY, RESUME_JITTER = 2.0, 300.0, 0.2


class NotLoggedInError(Exception):
    def __init__(self) -> None:
        super().__init__("You are not logged in to QQ. Send `login` first.")


class User:
    def __init__(self, bridge: Bridge, row: UserRow) -> None:
        self.bridge = bridge
        self.row = row
        self.client: QQClient | None = None
        self.friends = Friends(self)  # the set QQ reported, and friend requests' answers
        self.inbound = Inbound(self)
        self.outbound = Outbound(self)
        self._online = asyncio.Event()
        self._lost_connection = False
        self._resume_task: asyncio.Task[None] | None = None
        self._login_lock = asyncio.Lock()

    @property
    def mxid(self) -> str:
        return self.row.mxid

    @property
    def uin(self) -> int | None:
        return self.row.uin

    @property
    def state(self) -> str:
        """The QQ connection as one word: ``online``, ``logging_in``, ``reconnecting``,
        ``bad_credentials`` or ``logged_out`` (the provisioning API, bridge status, metrics)."""
        if self.client is not None:
            return self.client.state.value.replace(" ", "_")
        if self.row.login_state == LoginState.LOGGED_IN:
            return "logging_in"  # resuming: the QQ server has not answered yet
        return self.row.login_state

    @property
    def has_credentials(self) -> bool:
        return self.row.uin is not None and bool(self.row.password_md5)

    # --- the management room -----------------------------------------------------------

    @property
    def management_room(self) -> RoomID | None:
        return RoomID(self.row.management_room) if self.row.management_room else None

    async def set_management_room(self, room_id: RoomID | None) -> None:
        """``None``: the user has no management room (until they open a new one)."""
        row = dataclasses.replace(self.row, management_room=room_id)
        await self.bridge.db.save_user(row)
        self.row.management_room = room_id  # the same object others hold: change it in place

    async def notify(self, text: str, txn_id: str | None = None) -> EventID | None:
        """A notice (Markdown) from the bot in the management room (if the user has one)."""
        if not self.management_room:
            log.info("No management room for %s; dropped notice: %s", self.mxid, text)
            return None
        return await self.bridge.send_notice(self.bridge.bot, self.management_room, text, txn_id)

    # --- logging in and out ------------------------------------------------------------

    # Logins, resumes and logouts take turns (self._login_lock): two at once would leave a
    # second client polling behind the user's back.

    async def login(self, uin: int, password_md5: str) -> None:
        """Log in now; raises the codec's errors (LoginRefused, InvalidUin, NoReply…).

        A failed login leaves the current one, if any, untouched.
        """
        async with self._login_lock:
            client = self._make_client(uin, password_md5)
            await client.login()
            row = dataclasses.replace(
                self.row, uin=uin, password_md5=password_md5, login_state=LoginState.LOGGED_IN
            )
            try:
                await self.bridge.db.save_user(row)
            except Exception as error:
                # A UNIQUE conflict: another bridge process holds the number, so its session.
                taken = isinstance(error, sqlalchemy.exc.IntegrityError)
                await self._abandon(client, uin, taken)
                raise
            previous_uin, self.row = self.row.uin, row
            # Logging the old account out is only right if it is another one: the server keys
            # sessions by (address, uin), so logging out the same uin would end the new session.
            await self._drop_client(log_out=previous_uin not in (None, uin))
            await self._went_online(client)

    async def _abandon(self, client: QQClient, uin: int, taken: bool) -> None:
        """A login that QQ accepted but the bridge could not keep: end it without harm.

        The server keys sessions by (address, uin), so a logout would also end the session of
        whoever else here is logged in to ``uin`` (this user's current login, or another
        user's): then only stop polling, and let the server time the duplicate out.
        """
        others = taken or (self.client is not None and self.row.uin == uin)
        others = others or any(
            user is not self and user.client is not None and user.uin == uin
            for user in self.bridge.loaded_users()
        )
        if others:
            await client.stop()
        else:
            await client.logout()

    async def resume(self, pending: bool = True) -> bool:
        """At start-up: log in again with the stored md5, retrying until QQ answers.

        ``pending``: the user may have rows waiting in a journal (False when the store said
        none, so that 10,000 users at start-up cost no query each; the login wakes both queues
        anyway once it succeeds). True if a login is being resumed (in the background)."""
        resuming = False
        if self.bridge.config.permission(self.mxid) is None:
            log.warning("Not resuming the QQ login of %s: no longer permitted", self.mxid)
        elif self.has_credentials and self.row.login_state == LoginState.LOGGED_IN:
            self._resume_task = asyncio.create_task(self._resume(), name=f"resume {self.mxid}")
            self.bridge.status.changed(self)  # CONNECTING until QQ answers
            resuming = True
        elif self.row.uin is not None and self.row.login_state == LoginState.LOGGED_IN:
            # The store could not open the stored login (bridge/db/contacts.py): say so.
            await self._bad_credentials("the bridge can no longer read your stored login")
        if pending:
            self.inbound.worker.wake()
            self.outbound.worker.wake()
        return resuming

    async def _resume(self) -> None:
        backoff = Backoff(RESUME_FIRST_RETRY, RESUME_LAST_RETRY, RESUME_JITTER)
        while True:
            await self.bridge.login_pacer.turn()  # outside the lock: a `login` need not wait
            async with self._login_lock:
                if self.client is not None or not self.has_credentials:
                    return  # a login command got there first, or the user logged out
                assert self.row.uin is not None and self.row.password_md5
                client = self._make_client(self.row.uin, self.row.password_md5)
                try:
                    await client.login()
                except LoginRefused as refused:
                    await self._bad_credentials(refused.reason)
                    return
                except QQ_FAILURES as error:
                    log.warning("Resuming %s failed (%s); retrying", self.mxid, error)
                else:
                    await self._went_online(client)
                    return
            await self.bridge.clock.sleep(backoff.next_delay())

    async def logout(self) -> None:
        """Log out and forget the login, releasing the QQ number for anyone to log in to."""
        async with self._login_lock:
            if self.client is None and not self.has_credentials:
                raise NotLoggedInError()
            await self._drop_client(log_out=True)
            await self._forget_login()
            self._wake_waiters()
        await self.bridge.presence.forget_user(self.mxid)
        self.bridge.status.changed(self)

    async def release_uin(self) -> None:
        """Another Matrix user logs in to the QQ number this (logged-out) user last had."""
        async with self._login_lock:
            await self._forget_login()

    async def _forget_login(self) -> None:
        row = dataclasses.replace(
            self.row, uin=None, password_md5=None, login_state=LoginState.LOGGED_OUT
        )
        await self.bridge.db.save_user(row)
        self.row = row  # the database first: memory follows only a write that succeeded

    async def stop(self) -> None:
        """Bridge shutdown: stop polling but stay logged in, to resume after the restart.

        The workers stop first, so a message being sent is cancelled (and stays pending for
        the restart) rather than failed by the client's shutdown.
        """
        if self._resume_task:
            self._resume_task.cancel()
        await self.inbound.worker.stop()
        await self.outbound.worker.stop()
        if self.client:
            await self.client.stop()

    @property
    def status(self) -> Status:
        """The QQ status the user chose (``status``); every new login sets it again
        (bridge/own_status.py)."""
        return Status(self.row.status)

    def require_client(self) -> QQClient:
        if self.client is None or self.client.state is ConnectionState.LOGGED_OUT:
            raise NotLoggedInError()
        return self.client

    async def wait_for_client(self) -> QQClient | None:
        """The client once logged in; None when there is no login to wait for."""
        while self.has_credentials and self.row.login_state == LoginState.LOGGED_IN:
            if self.client is not None and self._online.is_set():
                return self.client
            await self._online.wait()
        return None

    def _make_client(self, uin: int, password_md5: str) -> QQClient:
        async def on_state(state: ConnectionState, detail: str) -> None:
            # Only the client in use speaks for the user: a login attempt that fails (a typo in
            # the password) must not mark the working login as refused.
            if client is self.client:
                await self._on_state(state, detail)

        client = QQClient(
            self.bridge.transport,
            uin,
            password_md5,
            settings=self.bridge.client_settings,
            clock=self.bridge.clock,
            on_events=self._on_events,
            on_state=on_state,
        )
        return client

    async def _went_online(self, client: QQClient) -> None:
        self.client = client
        await client.start()
        await own_status.restore(self, client)
        try:
            await self._read_friends(client)
        except Exception:  # best effort: the login itself worked, and messages must flow
            log.warning("Could not read the friend list of %s", self.mxid, exc_info=True)
        self._online.set()
        self.inbound.worker.wake()
        self.outbound.worker.wake()
        self.bridge.status.changed(self)

    async def _read_friends(self, client: QQClient) -> None:
        """At every login: the friend list, and their nicknames, faces and statuses."""
        self.friends.know((await client.friends()).uins)
        await take_online(self, await client.online(), self.friends)

    async def _drop_client(self, log_out: bool = False) -> None:
        if self._resume_task and self._resume_task is not asyncio.current_task():
            self._resume_task.cancel()  # a resume still retrying would bring back the old login
        client, self.client = self.client, None
        self._online.clear()
        self.friends.clear()
        self._lost_connection = False
        if client is not None:
            if log_out:
                await client.logout()
            else:
                await client.stop()

    def _wake_waiters(self) -> None:
        """Wake wait_for_client callers: there is no login to wait for any more."""
        self._online.set()
        self._online.clear()

    async def _bad_credentials(self, reason: str) -> None:
        await self.bridge.db.set_login_state(self.mxid, LoginState.BAD_CREDENTIALS)
        self.row = dataclasses.replace(self.row, login_state=LoginState.BAD_CREDENTIALS)
        self._wake_waiters()
        await self.bridge.presence.forget_user(self.mxid)  # no login to tell who is online
        self.bridge.status.changed(self)
        try:
            await self.notify(
                f"QQ refused your stored login ({reason or 'no reason given'}). "
                "Send `login` to log in again."
            )
        except Exception as error:  # at start-up the homeserver may be away: not fatal
            log.warning("Could not tell %s their login was refused: %s", self.mxid, error)

    # --- from the QQ client ------------------------------------------------------------

    async def _on_events(self, events: list[Event]) -> None:
        await self.inbound.record(events)

    async def _on_state(self, state: ConnectionState, detail: str) -> None:
        self.bridge.status.changed(self)
        if state is ConnectionState.RECONNECTING and not self._lost_connection:
            self._lost_connection = True
            await self.notify(f"Lost the connection to the QQ server ({detail}); retrying.")
        elif state is ConnectionState.ONLINE and self._lost_connection:
            self._lost_connection = False
            await self.notify("Reconnected to the QQ server.")
        elif state is ConnectionState.BAD_CREDENTIALS:
            await self._bad_credentials(detail)

    # --- what the bridge knows of contacts ----------------------------------------------

    def note_friend(self, uin: int) -> None:
        """QQ told us something only friends hear (a status change)."""
        self.friends.add(uin)

    async def name_of(self, uin: int) -> str:
        puppet = await self.bridge.puppet(uin)
        return f"{puppet.row.nick} ({uin})" if puppet.row.nick else str(uin)

    async def learn_profile(self, uin: int, fresh: bool = False) -> None:
        """Fetch a contact's nickname and face from QQ (GetInfo) the first time we meet them,
        or every time with ``fresh`` (a friend request, `pm`: rare, and worth a current name)."""
        puppet = await self.bridge.puppet(uin)
        if (puppet.knows_profile and not fresh) or self.client is None:
            await puppet.sync_to_matrix()
            return
        try:
            profile = await self.client.info(uin, InfoLevel.NORMAL)
        except QQ_FAILURES as error:
            log.info("No profile for QQ %d: %s", uin, error)
            await puppet.sync_to_matrix()
            return
        await puppet.update_profile(profile.nick, profile.face)
