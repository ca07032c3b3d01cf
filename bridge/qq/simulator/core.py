"""The server's protocol logic, without sockets: a request body in, reply bodies out."""

from __future__ import annotations

import logging

from ..clock import Clock
from .commands import HANDLERS
from .request import Context, Refusal, Silence, parse_request
from .world import World

log = logging.getLogger(__name__)


class ServerCore:
    def __init__(self, world: World, clock: Clock) -> None:
        self.world = world
        self.clock = clock

    def handle(self, peer: str, body: bytes) -> list[bytes] | None:
        """The reply bodies for one request from address ``peer``, in order (Query_Stat
        may answer twice); None when the server would close the connection unanswered."""
        now = self.clock.now()
        self.world.sweep(now)
        try:
            request = parse_request(body)
        except Silence:
            log.debug("no reply to a malformed request from %s", peer)
            return None
        context = Context(self.world, request, peer, now)
        try:
            return HANDLERS[request.command](context)
        except Silence:
            # The body is not logged: a Login body carries the password's md5.
            log.debug("no reply to %s from %s", request.command.value, peer)
            return None
        except Refusal as refusal:
            return [context.reply(refusal.res)]

    def sweep(self) -> int:
        """End lapsed sessions now (the server also does this on every request)."""
        return self.world.sweep(self.clock.now())
