"""How much of one GetMsgEx batch the client hands over: a reply may name any number of
events and senders, and each sender would become a puppet and a Matrix room."""

from __future__ import annotations

from collections.abc import Sequence

from ..wire.replies import Event, EventsDropped, ServerEvent


def bound_batch(events: Sequence[ServerEvent], max_events: int, max_senders: int) -> list[Event]:
    """The events from the first ``max_senders`` distinct senders, in order, at most
    ``max_events`` of them; when anything is left out, one ``EventsDropped`` last, counting
    the events left out and their distinct senders. Nothing is dropped without a report."""
    kept: list[Event] = []
    senders: set[int] = set()
    dropped = 0
    dropped_senders: set[int] = set()
    for event in events:
        known = event.sender in senders
        if len(kept) < max_events and (known or len(senders) < max_senders):
            senders.add(event.sender)
            kept.append(event)
        else:
            dropped += 1
            dropped_senders.add(event.sender)
    if dropped:
        kept.append(EventsDropped(dropped, len(dropped_senders)))
    return kept
