"""How full the journals are: per-user queue depths and the age of the oldest pending row.

Read by the admin commands (``users``, ``stats``) and the metrics; one grouped query per
journal, so their cost does not grow with the number of users asked about.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlalchemy import false, func, select

from .models import InboundModel, OutboundModel
from .rows import OutboundState
from .store_base import StoreBase


@dataclass
class QueueDepths:
    """Pending rows per owner (Matrix ID) and journal; ``oldest``: when the oldest pending row
    of each journal was written (Unix seconds), absent when none is pending."""

    inbound: dict[str, int] = field(default_factory=dict)
    outbound: dict[str, int] = field(default_factory=dict)
    oldest: dict[str, float] = field(default_factory=dict)  # "inbound" / "outbound"

    def oldest_age(self, journal: str, now: float | None = None) -> float:
        """Seconds the oldest pending row of ``journal`` has waited; 0 when none waits."""
        written = self.oldest.get(journal)
        return 0.0 if written is None else max(0.0, (now or time.time()) - written)


class QueueQueries(StoreBase):
    async def queue_depths(self) -> QueueDepths:
        depths = QueueDepths()
        inbound = select(
            InboundModel.owner, func.count(), func.min(InboundModel.received_at)
        ).where(InboundModel.done == false())
        outbound = select(
            OutboundModel.owner, func.count(), func.min(OutboundModel.created_at)
        ).where(OutboundModel.state == OutboundState.PENDING)
        async with self._sessions() as session:
            for journal, query, counts in (
                ("inbound", inbound.group_by(InboundModel.owner), depths.inbound),
                ("outbound", outbound.group_by(OutboundModel.owner), depths.outbound),
            ):
                for owner, count, oldest in (await session.execute(query)).all():
                    counts[owner] = int(count)
                    if oldest is not None:
                        depths.oldest[journal] = min(depths.oldest.get(journal, oldest), oldest)
        return depths
