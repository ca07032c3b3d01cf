"""The provisioning API, in the style of mautrix bridges: JSON under ``provisioning.prefix``.

Every request carries ``Authorization: Bearer <provisioning.shared_secret>`` and names the
Matrix user it acts for in the query, ``?user_id=@alice:example.com``. Answers are JSON; an
error is ``{"errcode": ..., "error": ...}``. All requests of a client address share one rate
limit, checked before the secret, so the secret cannot be guessed quickly.

- ``GET  {prefix}/v1/whoami``: ``{"mxid", "permission", "management_room",
  "qq": null | {"uin", "state"}}``; ``state`` is ``online``, ``logging_in``,
  ``reconnecting``, ``bad_credentials`` or ``logged_out``.
- ``POST {prefix}/v1/login`` with ``{"uin": 10001, "password": "..."}``: 200 ``{"uin",
  "state": "online"}``; 403 (refused by QQ, or not permitted), 409 (the number is bridged for
  another user), 400, 502 (the QQ server did not answer), with ``errcode`` ``QQ_<CODE>``.
- ``POST {prefix}/v1/logout``: 200 ``{}``, or 404 when not logged in.
- ``GET  {prefix}/v1/bridge_state``: the user's bridge state as mautrix bridges shape it
  (bridge/status.py): ``{"state_event": "CONNECTED" | "CONNECTING" | "TRANSIENT_DISCONNECT" |
  "BAD_CREDENTIALS" | "LOGGED_OUT", "user_id", "remote_id", "remote_name", "timestamp", "ttl",
  "source", "error"?, "message"?}``.

401 for a missing or wrong secret, 429 (with Retry-After) past the rate limit.
"""

from __future__ import annotations

import hmac
import json
import logging
import math
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..login import HTTP_STATUS, log_in
from ..status import bridge_state
from ..user import NotLoggedInError
from .ratelimit import RateLimiter

if TYPE_CHECKING:
    from ..core import Bridge
    from ..user import User

log = logging.getLogger("bridge.web")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
MAX_BODY_BYTES = 4096


def _error(status: int, errcode: str, error: str, **headers: str) -> web.Response:
    return web.json_response({"errcode": errcode, "error": error}, status=status, headers=headers)


class Provisioning:
    """The API's routes, added to the appservice's aiohttp app by ``add_routes``."""

    def __init__(self, bridge: Bridge, secret: str, prefix: str, limiter: RateLimiter) -> None:
        self.bridge = bridge
        self.prefix = prefix
        self.limiter = limiter
        self._secret = secret.encode()

    def __repr__(self) -> str:  # never the secret
        return f"Provisioning({self.prefix!r})"

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get(f"{self.prefix}/v1/whoami", self._guarded(self.whoami))
        app.router.add_post(f"{self.prefix}/v1/login", self._guarded(self.login))
        app.router.add_post(f"{self.prefix}/v1/logout", self._guarded(self.logout))
        app.router.add_get(f"{self.prefix}/v1/bridge_state", self._guarded(self.state))

    def _guarded(self, handler: Callable[[web.Request, User], Awaitable[web.Response]]) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            client = request.remote or "?"
            if not self.limiter.allow(client):
                wait = str(math.ceil(self.limiter.retry_after(client)))
                return _error(429, "M_LIMIT_EXCEEDED", "Too many requests", **{"Retry-After": wait})
            if not self._authorized(request):
                return _error(401, "M_UNKNOWN_TOKEN", "Missing or wrong shared secret")
            mxid = request.query.get("user_id", "")
            if not mxid:
                return _error(400, "M_MISSING_PARAM", "The user_id query parameter is missing")
            if not self.bridge.config.has_permission(mxid):
                return _error(403, "M_FORBIDDEN", "That user may not use this bridge")
            return await handler(request, await self.bridge.user(mxid))

        return guarded

    def _authorized(self, request: web.Request) -> bool:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.encode(), self._secret)

    async def whoami(self, request: web.Request, user: User) -> web.Response:
        qq: dict[str, Any] | None = None
        if user.uin is not None and user.has_credentials:
            qq = {"uin": user.uin, "state": user.state}
        return web.json_response(
            {
                "mxid": user.mxid,
                "permission": self.bridge.config.permission(user.mxid),
                "management_room": user.management_room,
                "qq": qq,
            }
        )

    async def login(self, request: web.Request, user: User) -> web.Response:
        # Read no more than a login needs: the listener accepts large bodies for transactions.
        raw = await request.content.read(MAX_BODY_BYTES + 1)
        if len(raw) > MAX_BODY_BYTES:
            return _error(413, "M_TOO_LARGE", "The body is too large")
        try:
            body = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return _error(400, "M_NOT_JSON", "The body is not JSON")
        uin = body.get("uin") if isinstance(body, dict) else None
        password = body.get("password") if isinstance(body, dict) else None
        if isinstance(uin, str) and uin.isdigit():
            uin = int(uin)
        if isinstance(uin, bool) or not isinstance(uin, int) or uin <= 0:
            return _error(400, "M_BAD_JSON", "uin must be a QQ number")
        if not isinstance(password, str) or not password:
            return _error(400, "M_BAD_JSON", "password must be a non-empty string")
        result = await log_in(self.bridge, user, uin, password)
        if not result.ok:
            return _error(HTTP_STATUS[result.code], f"QQ_{result.code.upper()}", result.message)
        return web.json_response({"uin": uin, "state": user.state})

    async def state(self, request: web.Request, user: User) -> web.Response:
        return web.json_response(bridge_state(user).serialize())

    async def logout(self, request: web.Request, user: User) -> web.Response:
        try:
            await user.logout()
        except NotLoggedInError as error:
            return _error(404, "QQ_NOT_LOGGED_IN", str(error))
        return web.json_response({})
