"""RES=3: the server's answer to a client that acts too often (seed 004)."""

from __future__ import annotations

from ..codes import Command


class PenaltyBox:
    """Minimum intervals and penalties, per account and per command.

    A penalty is a time until which the command keeps answering RES=3; attempts during it
    neither extend it nor count as actions.
    """

    def __init__(self) -> None:
        self._last_action: dict[tuple[int, Command], float] = {}
        self._penalised_until: dict[tuple[int, Command], float] = {}

    def is_penalised(self, uin: int, command: Command, now: float) -> bool:
        until = self._penalised_until.get((uin, command))
        if until is None:
            return False
        if now < until:
            return True
        del self._penalised_until[(uin, command)]
        return False

    def penalise(self, uin: int, command: Command, now: float, seconds: float) -> None:
        self._penalised_until[(uin, command)] = now + seconds

    def too_soon(self, uin: int, command: Command, now: float, interval: float) -> bool:
        """Whether the last recorded action of this kind was less than ``interval`` ago."""
        last = self._last_action.get((uin, command))
        return last is not None and now - last < interval

    def record(self, uin: int, command: Command, now: float) -> None:
        self._last_action[(uin, command)] = now
