"""GetMsgEx and CLTMSG: the message queue."""

from __future__ import annotations

from ...codes import Command, MessageType, Res
from ...wire.fields import encode_list
from ..mailbox import Item
from ..request import Context, Refusal, Silence


def get_msg_ex(ctx: Context) -> list[bytes]:
    """Everything queued, oldest first, and the queue emptied."""
    ctx.session()
    items = ctx.world.mailboxes.take_all(ctx.request.uin)
    fields = [
        ("MN", str(len(items))),
        ("MT", encode_list(int(item.type) for item in items)),
        ("UN", encode_list(item.sender for item in items)),
        ("MG", encode_list(item.text for item in items)),
    ]
    return [ctx.reply(fields=fields)]


def cltmsg(ctx: Context) -> list[bytes]:
    target = ctx.number("UN")
    text = ctx.text("MG")
    world, uin, now = ctx.world, ctx.request.uin, ctx.now
    if len(text.encode()) > world.settings.message_limit:
        raise Silence  # our bound; the seeds give none (docs/simulator.md)
    ctx.session()
    penalties, settings = world.penalties, world.settings
    if penalties.is_penalised(uin, Command.CLTMSG, now):
        raise Refusal(Res.PENALTY)  # attempts during a penalty do not extend it
    if penalties.too_soon(uin, Command.CLTMSG, now, settings.message_interval):
        penalties.penalise(uin, Command.CLTMSG, now, settings.penalty)
        raise Refusal(Res.PENALTY)
    if target in world.accounts:
        # Seed 004: a stranger who never spoke to the sender does not see the message,
        # though the server answers RES=0 all the same.
        shown = world.are_friends(uin, target) or uin in world.spoken_to.get(target, ())
        if shown and not world.mailboxes.put(target, Item(MessageType.USER, uin, text)):
            raise Refusal(Res.PENALTY)  # the target's queue is full: the sender should retry
        world.spoken_to.setdefault(uin, set()).add(target)
    penalties.record(uin, Command.CLTMSG, now)
    return [ctx.reply(trailing_ampersand=True)]
