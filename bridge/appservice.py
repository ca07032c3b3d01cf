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
- **The homeserver is back.** Every transaction and ping calls ``on_homeserver_seen``, which
  ends the back-off of queues that were waiting for the homeserver.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, cast

import sqlalchemy.exc
from aiohttp import web
from mautrix.appservice import AppService
from mautrix.types import JSON, Event, EventType, SerializerError

from .metrics import TRANSACTION_SECONDS

log = logging.getLogger("bridge.appservice")

# 100 PDUs x 64 KiB is 6.4 MiB; EDUs and to-device messages can add as much again, and JSON
# escaping can double a body. 64 MiB is well above any real transaction.
MAX_TRANSACTION_BYTES = 64 * 1024 * 1024

EventFailureHandler = Callable[[Event, BaseException], Awaitable[None]]
UnreadableHandler = Callable[[JSON, BaseException], Awaitable[None]]


def is_infrastructure_failure(error: BaseException) -> bool:
    """A failure of the bridge's own footing, not of the event: retrying later may succeed.

    The database unreachable, locked or out of space (SQLAlchemy's OperationalError,
    InterfaceError, pool time-outs), the disk or the network (OSError), memory.
    """
    return isinstance(
        error,
        sqlalchemy.exc.OperationalError
        | sqlalchemy.exc.InterfaceError
        | sqlalchemy.exc.TimeoutError
        | sqlalchemy.exc.DisconnectionError
        | OSError
        | MemoryError
        | asyncio.TimeoutError,
    )


class BridgeAppService(AppService):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("aiohttp_params", {"client_max_size": MAX_TRANSACTION_BYTES})
        super().__init__(*args, **kwargs)
        self.synchronous_handlers = True
        self.on_event_failure: EventFailureHandler | None = None
        self.on_unreadable_event: UnreadableHandler | None = None
        self.on_homeserver_seen: Callable[[], None] = lambda: None

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

    async def handle_transaction(
        self, txn_id: str, *, events: list[JSON], extra_data: JSON, **_: Any
    ) -> JSON:
        """Each event in order; raises only for an infrastructure failure (then: 500)."""
        for raw_event in events:
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
            log.exception("Event %s could not be handled", getattr(event, "event_id", "?"))
            if self.on_event_failure is not None:
                await self.on_event_failure(event, error)

    async def _unreadable(self, raw_event: JSON, error: BaseException) -> None:
        event_id = raw_event.get("event_id") if isinstance(raw_event, dict) else None
        log.warning("Event %s is malformed: %s", event_id, error)
        if self.on_unreadable_event is not None and isinstance(raw_event, dict):
            await self.on_unreadable_event(raw_event, error)

    async def handle_matrix_event(self, event: Event, ephemeral: bool = False) -> None:
        # mautrix's, without its background mode (which could lose a failure unnoticed).
        if getattr(event, "state_key", None) is not None:
            event.type = event.type.with_class(EventType.Class.STATE)
        else:
            event.type = event.type.with_class(EventType.Class.MESSAGE)
        for handler in self.event_handlers:
            await handler(event)
