"""mautrix's AppService, changed where "nothing lost, nothing stalled" needs it.

- **Acknowledged once stored.** mautrix answers Synapse 200 even when a handler failed, and
  runs handlers in the background. Here handlers run in line, so a Matrix message is in the
  outbound queue before Synapse hears "got it".
- **Every event, every time.** mautrix skips a transaction whose id it has seen. Synapse on
  SQLite starts transaction ids at 1 again after a restart, so that skip dropped every message
  until the counter passed the old value. Here nothing is skipped by transaction id; the
  handlers recognise a replayed event by its event id (bridge/db/matrix_events.py).
- **One event's failure is that event's.** An exception about one event (its content cannot be
  converted, it is malformed) is handed to ``on_event_failure``, which records it and tells the
  sender, and the transaction is acknowledged. Only infrastructure failures (the database or
  the disk) answer 500, so that Synapse retries the whole transaction later.
- **Any body Synapse may send.** A transaction holds at most 100 PDUs of at most 64 KiB each,
  plus up to 100 EDUs and 100 to-device messages (Synapse's appservice scheduler); the body
  limit leaves generous room above that.
- **Keys for the bot's device.** With end-to-bridge encryption, to-device events (room keys),
  device list changes and one-time key counts come in the transaction too (MSC2409 and
  MSC3202, under their unstable names as Synapse sends them). They are handled before the
  events, so a message and the key it needs in one transaction decrypt. The same failure rule
  holds: an unreadable or undecryptable to-device event is logged and skipped; only an
  infrastructure failure answers 500.
- **The homeserver is back.** Every transaction and ping calls ``on_homeserver_seen``, which
  ends the back-off of queues that were waiting for the homeserver.
- **Our own echoes skipped unread.** Synapse sends back every event of the appservice's own
  users (each message a puppet sends); ``is_ours`` recognises their senders, and such an event
  is dropped before it is even parsed, since the bridge acts on none of them. State events are
  the exception: mautrix's state store learns from them who is in a room and with what power
  (a puppet's join, the power levels of a room it made), which redacting a password needs.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, cast

import aiohttp
import sqlalchemy.exc
from aiohttp import web
from mautrix.appservice import AppService
from mautrix.errors import MatrixConnectionError, MatrixRequestError
from mautrix.types import (
    JSON,
    ASToDeviceEvent,
    DeviceID,
    DeviceLists,
    DeviceOTKCount,
    Event,
    EventType,
    SerializerError,
    UserID,
)

from .logs import failure
from .metrics import TRANSACTION_SECONDS

log = logging.getLogger("bridge.appservice")

# 100 PDUs x 64 KiB is 6.4 MiB; EDUs and to-device messages can add as much again, and JSON
# escaping can double a body. 64 MiB is well above any real transaction.
MAX_TRANSACTION_BYTES = 64 * 1024 * 1024

EventFailureHandler = Callable[[Event, BaseException], Awaitable[None]]
UnreadableHandler = Callable[[JSON, BaseException], Awaitable[None]]


def is_infrastructure_failure(error: BaseException) -> bool:
    """A failure of the bridge's footing, not of the event: retrying later may succeed.

    The database unreachable, restarted, locked, deadlocked or out of space (every DBAPIError
    but a constraint or data error, which is about the row), the disk or the network (OSError,
    aiohttp and mautrix connection errors), the homeserver failing or rate-limiting us (5xx,
    429), memory.
    """
    if isinstance(error, sqlalchemy.exc.IntegrityError | sqlalchemy.exc.DataError):
        return False
    if isinstance(error, MatrixRequestError):
        return error.http_status >= 500 or error.http_status in (0, 429)
    return isinstance(
        error,
        sqlalchemy.exc.DBAPIError
        | sqlalchemy.exc.InterfaceError
        | sqlalchemy.exc.TimeoutError
        | sqlalchemy.exc.DisconnectionError
        | MatrixConnectionError
        | aiohttp.ClientError
        | OSError
        | MemoryError,
    )


class BridgeAppService(AppService):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("aiohttp_params", {"client_max_size": MAX_TRANSACTION_BYTES})
        super().__init__(*args, **kwargs)
        self.synchronous_handlers = True
        self.on_event_failure: EventFailureHandler | None = None
        self.on_unreadable_event: UnreadableHandler | None = None
        self.on_homeserver_seen: Callable[[], None] = lambda: None
        self.is_ours: Callable[[str], bool] = lambda _sender: False

    async def _read_transaction_header(self, request: web.Request) -> tuple[str, dict[str, Any]]:
        """mautrix's, without the skip of transaction ids seen before."""
        if not self._check_token(request):
            raise web.HTTPUnauthorized(
                content_type="application/json",
                text=json.dumps({"error": "Invalid auth token", "errcode": "M_UNKNOWN_TOKEN"}),
            )
        self.on_homeserver_seen()
        try:
            body = await request.json()
        except json.JSONDecodeError:
            raise web.HTTPBadRequest(
                content_type="application/json",
                text=json.dumps({"error": "Body is not JSON", "errcode": "M_NOT_JSON"}),
            ) from None
        if not isinstance(body, dict):
            raise web.HTTPBadRequest(
                content_type="application/json",
                text=json.dumps({"error": "Body is not an object", "errcode": "M_BAD_JSON"}),
            )
        return request.match_info["transaction_id"], body

    async def _http_ping(self, request: web.Request) -> web.Response:
        response = await super()._http_ping(request)
        self.on_homeserver_seen()
        return response

    async def _http_handle_transaction(self, request: web.Request) -> web.Response:
        transaction_id, data = await self._read_transaction_header(request)
        events = data.pop("events", None)
        if not isinstance(events, list):
            return web.json_response(
                {"errcode": "M_BAD_JSON", "error": "Missing events list in body"}, status=400
            )
        try:
            with TRANSACTION_SECONDS.time():
                await self._handle_crypto_fields(data)
                await self.handle_transaction(
                    transaction_id, events=events, extra_data=cast(JSON, data)
                )
        except Exception:
            log.exception("Transaction %s not stored; Synapse will retry it", transaction_id)
            return web.json_response(
                {"errcode": "M_UNKNOWN", "error": "The bridge could not store the events"},
                status=500,
            )
        return web.json_response({})

    async def _handle_crypto_fields(self, data: dict[str, Any]) -> None:
        """To-device events, device lists and OTK counts, each failure its own (see above)."""
        to_device = _pop(data, "to_device", "de.sorunome.msc2409")
        device_lists = _pop(data, "device_lists", "org.matrix.msc3202")
        otk_counts = _pop(data, "device_one_time_keys_count", "org.matrix.msc3202")
        data.pop("org.matrix.msc3202.device_one_time_key_counts", None)  # the same, misspelt
        if self.to_device_handler is not None and isinstance(to_device, list):
            for raw in to_device:
                await self._guarded("to-device event", self._to_device, raw)
        if self.device_list_handler is not None and isinstance(device_lists, dict):
            await self._guarded("device list change", self._device_lists, device_lists)
        if self.otk_handler is not None and isinstance(otk_counts, dict) and otk_counts:
            await self._guarded("one-time key count", self._otk_counts, otk_counts)

    async def _guarded(self, what: str, handle: Callable[[Any], Awaitable[None]], raw: Any) -> None:
        try:
            await handle(raw)
        except Exception as error:
            if is_infrastructure_failure(error):
                raise
            # Never the content: a to-device event may carry a room key.
            log.warning("A %s could not be handled: %s", what, type(error).__name__)

    async def _to_device(self, raw: Any) -> None:
        assert self.to_device_handler is not None
        await self.to_device_handler(cast(Event, ASToDeviceEvent.deserialize(raw)))

    async def _device_lists(self, raw: Any) -> None:
        assert self.device_list_handler is not None
        await self.device_list_handler(DeviceLists.deserialize(raw))

    async def _otk_counts(self, raw: Any) -> None:
        assert self.otk_handler is not None
        counts: dict[UserID, dict[DeviceID, DeviceOTKCount]] = {
            UserID(user): {
                DeviceID(device): DeviceOTKCount.deserialize(count)
                for device, count in devices.items()
            }
            for user, devices in raw.items()
        }
        await self.otk_handler(counts)

    async def handle_transaction(
        self, txn_id: str, *, events: list[JSON], extra_data: JSON, **_: Any
    ) -> JSON:
        """Each event in order; raises only for an infrastructure failure (then: 500)."""
        for raw_event in events:
            sender = raw_event.get("sender") if isinstance(raw_event, dict) else None
            if isinstance(sender, str) and self.is_ours(sender) and "state_key" not in raw_event:
                continue  # an echo of what the bridge sent (see above)
            try:
                self._fix_prev_content(raw_event)
                event = Event.deserialize(raw_event)
            except (SerializerError, TypeError, ValueError, KeyError, AttributeError) as error:
                await self._unreadable(raw_event, error)
                continue
            await self._handle_one(event)
        return cast(JSON, {})

    async def _handle_one(self, event: Event) -> None:
        try:
            await self.handle_matrix_event(event)
        except Exception as error:
            if is_infrastructure_failure(error):
                raise
            # The error's type and where, never its text: that may quote the event's content,
            # and the content may be a password.
            log.error(
                "Event %s could not be handled: %s", getattr(event, "event_id", "?"), failure(error)
            )
            if self.on_event_failure is not None:
                await self._report(self.on_event_failure(event, error))

    async def _unreadable(self, raw_event: JSON, error: BaseException) -> None:
        event_id = raw_event.get("event_id") if isinstance(raw_event, dict) else None
        # mautrix's SerializerError quotes the whole content: only its type is logged.
        log.warning("Event %s is malformed (%s)", event_id, type(error).__name__)
        if self.on_unreadable_event is not None and isinstance(raw_event, dict):
            await self._report(self.on_unreadable_event(raw_event, error))

    @staticmethod
    async def _report(telling: Awaitable[None]) -> None:
        """Run a failure handler: only an infrastructure failure of its own may answer 500
        (and have the transaction retried); anything else must not stall everyone."""
        try:
            await telling
        except Exception as error:
            if is_infrastructure_failure(error):
                raise
            log.error("Could not report a failed event: %s", type(error).__name__)

    async def handle_matrix_event(self, event: Event, ephemeral: bool = False) -> None:
        # mautrix's, without its background mode (which could lose a failure unnoticed).
        if getattr(event, "state_key", None) is not None:
            event.type = event.type.with_class(EventType.Class.STATE)
        else:
            event.type = event.type.with_class(EventType.Class.MESSAGE)
        for handler in self.event_handlers:
            await handler(event)


def _pop(data: dict[str, Any], field: str, unstable_prefix: str) -> Any:
    """A transaction field under its stable name, else its unstable one."""
    if field in data:
        return data.pop(field)
    return data.pop(f"{unstable_prefix}.{field}", None)
