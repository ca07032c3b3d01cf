"""mautrix's AppService, changed in one respect: a transaction is acknowledged only once stored.

mautrix answers Synapse 200 even when a handler failed, and runs handlers in the background by
default. Here handlers run in line and any failure answers 500, so Synapse retries the transaction
and a Matrix message can never be acknowledged before it is in the outbound queue.
"""

from __future__ import annotations

import logging
from typing import Any, cast

from aiohttp import web
from mautrix.appservice import AppService
from mautrix.types import JSON

log = logging.getLogger("bridge.appservice")


class BridgeAppService(AppService):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.synchronous_handlers = True

    async def _http_handle_transaction(self, request: web.Request) -> web.Response:
        transaction_id, data = await self._read_transaction_header(request)
        events = data.pop("events", None)
        if events is None:
            return web.json_response(
                {"errcode": "M_BAD_JSON", "error": "Missing events object in body"}, status=400
            )
        try:
            await self.handle_transaction(
                transaction_id,
                events=events,
                extra_data=cast(JSON, data),
            )
        except Exception:
            log.exception("Transaction %s not stored; Synapse will retry it", transaction_id)
            return web.json_response(
                {"errcode": "M_UNKNOWN", "error": "The bridge could not store the events"},
                status=500,
            )
        self.transactions.add(transaction_id)
        return web.json_response({})
