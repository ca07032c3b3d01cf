"""QQClient: one logged-in QQ account, its session, its poll loop and its send queue."""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
import random
import re
from collections.abc import Awaitable, Callable
from typing import TypeVar

from ..clock import Clock, RealClock
from ..codes import AckCode, Command, InfoLevel, Status
from ..wire import InvalidUin, LoginRefused, NotLoggedIn, WireError, requests
from ..wire.replies import (
    Added,
    Event,
    FriendList,
    LoginOk,
    OnlineFriends,
    Profile,
    Reply,
    decode_add_to_list,
    decode_get_info,
    decode_get_msg_ex,
    decode_list,
    decode_login,
    decode_query_stat,
    parse_envelope,
)
from .backoff import Backoff
from .bounds import bound_batch
from .errors import SessionDropped, TransportError, is_unreadable
from .metrics import RELOGINS, count_request
from .poller import EventHandler, Poller
from .schedule import PollSchedule
from .sender import SendQueue, Step
from .settings import ClientSettings
from .state import ConnectionState, Happening, StateCallback, StateReporter
from .transport import Transport

log = logging.getLogger(__name__)

T = TypeVar("T")
Build = Callable[[int], bytes]  # a request body, given its SEQ

# What the seeds' server says in every Login reply; used until we have our own.
ASSUMED_SESSION = LoginOk(heartbeat=60, lapse=300)

_MD5 = re.compile(r"[0-9a-fA-F]{32}")

# The commands the seeds show penalised (RES=3, seed 004), whose reply may itself take 20 s
# ("响应时间20s"): they get the transport's long time-out. Every other command gets the short
# one, so a server that accepts connections and never answers is noticed within seconds.
PENALISABLE = frozenset(
    {Command.CLTMSG, Command.CHANGE_STAT, Command.ACK_ADD_TO_LIST, Command.DEL_FROM_LIST}
)

# Why we are RECONNECTING when a fresh re-login does not hold (see _request).
SESSION_DROPPED = "the QQ server drops our session right after login"


def _no_result(reply: Reply) -> None:
    return None


class QQClient:
    def __init__(
        self,
        transport: Transport,
        uin: int,
        password_md5: str,
        settings: ClientSettings | None = None,
        clock: Clock | None = None,
        on_events: EventHandler | None = None,
        on_state: StateCallback | None = None,
    ) -> None:
        if not _MD5.fullmatch(password_md5):
            # Refuse rather than send (and perhaps log) what may be a plain password.
            raise ValueError("password_md5 must be 32 hex digits (requests.password_md5)")
        self.uin = uin
        self.settings = settings or ClientSettings()
        self._transport = transport
        self._md5 = password_md5.lower()
        self._clock = clock or RealClock()
        self._state = StateReporter(uin, on_state)
        self._seq = itertools.count(random.randint(1000, 9000))
        self._login_lock = asyncio.Lock()
        self._logins = 0  # how many logins succeeded; tells a re-login it is already done
        self._wants_session = False  # login() was asked for and logout() was not
        self._session = ASSUMED_SESSION
        self._status = Status.ONLINE  # the last set_status that succeeded: a re-login restores it
        self._last_contact = self._clock.now()
        self._schedule = PollSchedule(self.settings, self.max_silence())
        self._sender = SendQueue(
            self._clock,
            self.settings,
            on_sent=self._note_activity,
            until_reachable=transport.wait_reachable,
        )
        self._poller = Poller(
            uin=uin,
            clock=self._clock,
            settings=self.settings,
            schedule=self._schedule,
            fetch=self.fetch_events,
            keep_alive=self.keep_alive,
            deliver=on_events,
            last_contact=lambda: self._last_contact,
            max_silence=self.max_silence,
            until_reachable=transport.wait_reachable,
        )

    @staticmethod
    def hash_password(password: str) -> str:
        """The md5 a login sends (32 lower-case hex digits, seed 000): what the bridge keeps
        and gives to ``QQClient``, so the password itself is never stored."""
        return requests.password_md5(password)

    def __repr__(self) -> str:  # never shows the md5
        return f"<QQClient {self.uin} {self.state.value}>"

    @property
    def state(self) -> ConnectionState:
        return self._state.current

    @property
    def session(self) -> LoginOk:
        """HI and LI of the current session (the seeds' 60/300 before the first login)."""
        return self._session

    @property
    def status(self) -> Status:
        """The status last set with ``set_status`` (ONLINE after ``login``); a re-login
        restores it, since the server starts every session ONLINE."""
        return self._status

    @property
    def polling(self) -> bool:
        """True from ``start`` until ``stop`` (or ``logout``): the poll loop runs."""
        return self._poller.running

    def max_silence(self) -> float:
        return self.settings.max_silence(self._session.heartbeat, self._session.lapse)

    # --- lifecycle ----------------------------------------------------------------------

    async def login(self) -> LoginOk:
        """Log in (again). LoginRefused/InvalidUin leave the state BAD_CREDENTIALS."""
        self._wants_session = True
        async with self._login_lock:
            session = await self._login_locked()
        self._status = Status.ONLINE  # the server starts a new session ONLINE
        return session

    async def start(self) -> None:
        """Log in unless online, then poll. Network trouble at login is not an error here:
        the state says RECONNECTING and the poll loop keeps trying. Bad credentials raise."""
        self._wants_session = True
        if self.state is not ConnectionState.ONLINE:
            try:
                await self.login()
            except (TransportError, WireError) as error:
                if isinstance(error, LoginRefused | InvalidUin):
                    raise
                await self._state.saw(Happening.LOGIN_FAILED_RETRYING, str(error))
        self._poller.start()

    async def stop(self) -> None:
        """Stop polling and sending (queued sends fail); the session is left to lapse."""
        await self._poller.stop()
        await self._sender.close("the QQ client was stopped")

    async def logout(self) -> None:
        self._wants_session = False
        await self.stop()
        detail = ""
        try:
            await self._command(Command.LOGOUT, self._build(requests.logout), _no_result)
        except (TransportError, WireError) as error:
            # The session lapses on its own soon; the user asked to be gone, so they are.
            detail = f"the server was not told ({error}); the session will lapse"
        await self._state.saw(Happening.LOGGED_OUT, detail)

    # --- commands -----------------------------------------------------------------------

    async def friends(self) -> FriendList:
        return await self._command(Command.LIST, self._build(requests.list_friends), decode_list)

    async def online(self) -> OnlineFriends:
        build = self._build(requests.query_stat)
        return await self._command(Command.QUERY_STAT, build, decode_query_stat)

    async def info(self, uin: int, level: InfoLevel | int = InfoLevel.DETAILED) -> Profile:
        build = self._build(requests.get_info, target=uin, level=int(level))
        return await self._command(Command.GET_INFO, build, decode_get_info)

    async def add(self, uin: int) -> Added:
        build = self._build(requests.add_to_list, target=uin)
        return await self._command(Command.ADD_TO_LIST, build, decode_add_to_list)

    async def ack(self, uin: int, code: AckCode, reason: str = "") -> None:
        """Ack_AddToList as the wire has it; the bridge uses the three named answers below."""
        build = self._build(requests.ack_add_to_list, target=uin, code=code, reason=reason)
        await self._command(Command.ACK_ADD_TO_LIST, build, _no_result)

    async def request_friend(self, uin: int, text: str = "") -> None:
        """Ask ``uin`` to approve us as a friend (after ``add`` said NEEDS_VERIFICATION)."""
        await self.ack(uin, AckCode.REQUEST, text)

    async def answer_request(self, uin: int, accept: bool, reason: str = "") -> None:
        """Accept or refuse the friend request of ``uin``; ``reason`` goes with a refusal."""
        await self.ack(uin, AckCode.ACCEPT if accept else AckCode.REJECT, reason)

    async def remove(self, uin: int) -> None:
        build = self._build(requests.del_from_list, target=uin)
        await self._command(Command.DEL_FROM_LIST, build, _no_result)

    async def set_status(self, status: Status) -> None:
        """Queued with the messages and paced on its own (the server penalises frequent
        changes); raises SendFailed when it gives up."""
        build = self._build(requests.change_stat, status=status)

        async def change() -> None:
            await self._request(Command.CHANGE_STAT, build, _no_result)
            self._status = status  # what a re-login restores

        await self._sender.submit(f"status {status.name}", [change], self._sender.statuses)

    async def send_text(self, target: int, text: str) -> None:
        """Queued; returns once QQ accepted every piece, raises SendFailed on giving up."""
        steps: list[Step] = [
            functools.partial(
                self._request,
                Command.CLTMSG,
                self._build(requests.cltmsg, target=target, text=piece),
                _no_result,
            )
            for piece in requests.split_text(text)
        ]
        await self._sender.submit(f"message to {target}", steps, self._sender.messages)

    async def fetch_events(self) -> list[Event]:
        """One GetMsgEx, its events returned rather than handed to ``on_events``. The
        server forgets what it returns, so use it only where the poll loop does not run.
        At most ``max_batch_events`` events from ``max_batch_senders`` senders, then one
        ``EventsDropped`` for the rest (``bound_batch``)."""
        build = self._build(requests.get_msg_ex)
        events = await self._request(Command.GET_MSG_EX, build, decode_get_msg_ex)
        settings = self.settings
        return bound_batch(events, settings.max_batch_events, settings.max_batch_senders)

    async def keep_alive(self) -> None:
        """A request that changes nothing and consumes no events: List with TN=0."""
        build = self._build(requests.list_friends, tn=0)
        await self._command(Command.LIST, build, decode_list)

    # --- the request path ---------------------------------------------------------------

    def _build(self, builder: Callable[..., bytes], **fields: object) -> Build:
        return lambda seq: builder(self.uin, seq, **fields)

    async def _command(self, command: Command, build: Build, decoder: Callable[[Reply], T]) -> T:
        """A direct command (not queued, not GetMsgEx): ``_request`` with unreadable replies
        retried (``_retrying_unreadable``). Queued sends count them in the send queue, and
        GetMsgEx is never repeated, since the server forgets a batch once it has sent it."""
        return await self._retrying_unreadable(
            command.value, lambda: self._request(command, build, decoder)
        )

    async def _retrying_unreadable(self, what: str, attempt: Callable[[], Awaitable[T]]) -> T:
        """``attempt()``; a reply that cannot be read (``is_unreadable``) is tried again after
        the back-off, at most ``max_garbled_retries`` times, and then raised. Refusals the
        server states and network errors are raised at once, as before."""
        settings = self.settings
        backoff = Backoff(settings.backoff_initial, settings.backoff_max, settings.backoff_jitter)
        while True:
            try:
                return await attempt()
            except WireError as error:
                if not is_unreadable(error) or backoff.failures >= settings.max_garbled_retries:
                    raise
                delay = backoff.next_delay()
                log.warning(
                    "QQ %d: unreadable %s reply (%s); retrying in %.1f s",
                    self.uin,
                    what,
                    error,
                    delay,
                )
                await self._clock.sleep(delay)

    async def _request(
        self, command: Command, build: Build, decoder: Callable[[Reply], T], retried: bool = False
    ) -> T:
        """Every command's path: RES=20 means the session lapsed, so log in again (once,
        however many requests noticed) and retry the command once. RES=20 again after that
        raises SessionDropped, so callers back off instead of logging in once per request."""
        logins_before = self._logins
        try:
            result = decoder(await self._ask(command, build(next(self._seq))))
        except NotLoggedIn:
            # The server answered, but an answer that we are not logged in does not make us
            # ONLINE again: only a command that gets through does (_reached_server).
            self._last_contact = self._clock.now()
            if not self._wants_session:
                raise
            if retried:
                await self._state.saw(Happening.SESSION_DROPPED, SESSION_DROPPED)
                raise SessionDropped(SESSION_DROPPED) from None
            await self._relogin(logins_before)
            return await self._request(command, build, decoder, retried=True)
        await self._reached_server()
        return result

    async def _ask(self, command: Command, body: bytes) -> Reply:
        """Post a request and check its reply's envelope; every outcome is counted."""
        try:
            reply = parse_envelope(command, await self._post(body, command in PENALISABLE))
        except (TransportError, WireError) as error:
            count_request(command.value, error)
            raise
        count_request(command.value, None)
        return reply

    async def _post(self, body: bytes, slow: bool = False) -> bytes:
        try:
            return await self._transport.post(body, slow=slow)
        except TransportError as error:
            await self._state.saw(Happening.CONNECTION_LOST, str(error))
            raise

    async def _reached_server(self) -> None:
        self._last_contact = self._clock.now()
        if self._logins:
            await self._state.saw(Happening.SERVER_ANSWERED, "the QQ server answers again")

    async def _relogin(self, logins_before: int) -> None:
        async with self._login_lock:
            if self._logins != logins_before:
                return  # another request logged in again meanwhile
            log.info("QQ %d: session lapsed; logging in again", self.uin)
            # While RECONNECTING the user hears "online" only once a command gets through:
            # a server that forgets each new session must not flap the state every back-off.
            await self._login_locked(announce=self.state is not ConnectionState.RECONNECTING)
            RELOGINS.inc()
            await self._restore_status()

    async def _restore_status(self) -> None:
        """Set the remembered status again: the new session started ONLINE, which would make
        an invisible or busy user visible. Sent directly, as _request would log in again on
        RES=20; a failure is only logged (the user is logged in, just in the wrong status)."""
        if self._status is Status.ONLINE:
            return
        body = requests.change_stat(self.uin, next(self._seq), status=self._status)
        try:
            await self._ask(Command.CHANGE_STAT, body)
        except (TransportError, WireError) as error:
            log.warning("QQ %d: could not set %s again: %s", self.uin, self._status.name, error)
            return
        self._last_contact = self._clock.now()
        # The server penalises frequent changes: a queued set_status waits its pace after this.
        self._sender.statuses.mark()

    async def _login_locked(self, announce: bool = True) -> LoginOk:
        """Log in; ``announce`` False leaves the state alone unless the login fails."""
        previous = self.state
        if announce:
            await self._state.saw(Happening.LOGIN_STARTED)
        try:
            session = await self._retrying_unreadable(Command.LOGIN.value, self._post_login)
        except (LoginRefused, InvalidUin) as refusal:
            self._wants_session = False
            await self._state.saw(Happening.CREDENTIALS_REFUSED, str(refusal))
            raise
        except (TransportError, WireError) as error:
            retrying = self._poller.running or previous is ConnectionState.RECONNECTING
            failed = Happening.LOGIN_FAILED_RETRYING if retrying else Happening.LOGIN_FAILED
            await self._state.saw(failed, str(error))
            raise
        self._session = session
        self._schedule.limit = self.max_silence()
        self._logins += 1
        self._last_contact = self._clock.now()
        if announce:
            await self._state.saw(Happening.LOGIN_ACCEPTED)
        return session

    async def _post_login(self) -> LoginOk:
        body = requests.login(self.uin, next(self._seq), self._md5)
        try:
            reply = parse_envelope(Command.LOGIN, await self._transport.post(body))
        except (TransportError, WireError) as error:
            count_request(Command.LOGIN.value, error)
            raise
        count_request(Command.LOGIN.value, None)
        return decode_login(reply)

    def _note_activity(self) -> None:
        self._schedule.note_activity(self._clock.now())
