"""AddToList, Ack_AddToList and DelFromList: making and ending friendships."""

from __future__ import annotations

from ...codes import AckCode, AddResult, Command, MessageType, Res
from ...wire.fields import encode_text
from ..mailbox import Item
from ..request import Context, Refusal

AUTH_TO_ADD_RESULT = {
    0: AddResult.ADDED,
    1: AddResult.NEEDS_VERIFICATION,
    # Seeds 000/004 say CD=2 for "refuses everyone"; seed 003 says 3. We follow 000/004,
    # whose authors probed the server; the client reads both.
    2: AddResult.REFUSED,
}


def add_to_list(ctx: Context) -> list[bytes]:
    """CD by the target's auth; with auth 0 both are friends at once (seed 004)."""
    target = ctx.number("UN")
    ctx.session()
    world, uin = ctx.world, ctx.request.uin
    account = world.accounts.get(target)
    if account is None or target == uin:
        result = AddResult.REFUSED  # no one can befriend a number that does not exist
    elif world.are_friends(uin, target):
        result = AddResult.ADDED
    else:
        result = AUTH_TO_ADD_RESULT[account.auth]
        if result is AddResult.ADDED:
            world.befriend(uin, target)
    fields = [("CD", str(int(result))), ("UN", encode_text(ctx.text("UN")))]
    return [ctx.reply(fields=fields)]


def ack_add_to_list(ctx: Context) -> list[bytes]:
    """CD=2 asks the target (MT 2); CD=0 or 1 answers a request the target made to us."""
    target = ctx.number("UN")
    code = ctx.number("CD")
    reason = ctx.text("RS")
    ctx.session()
    world, uin, now = ctx.world, ctx.request.uin, ctx.now
    if world.penalties.is_penalised(uin, Command.ACK_ADD_TO_LIST, now):
        raise Refusal(Res.PENALTY)
    if code not in AckCode._value2member_map_:
        # Seed 004: "当CD>=3时,RES=3,响应时间20s". Negative codes are treated alike.
        world.penalties.penalise(uin, Command.ACK_ADD_TO_LIST, now, world.settings.penalty)
        raise Refusal(Res.PENALTY)
    if code == AckCode.REQUEST:
        _ask(ctx, uin, target, reason)
    else:
        _answer(ctx, uin, target, AckCode(code), reason)
    return [ctx.reply()]


def _ask(ctx: Context, uin: int, target: int, reason: str) -> None:
    world = ctx.world
    account = world.accounts.get(target)
    if account is None or target == uin or account.auth == 2:
        return  # accepted and dropped, as the server does with messages to strangers
    if not world.mailboxes.put(target, Item(MessageType.FRIEND_REQUEST, uin, reason)):
        raise Refusal(Res.PENALTY)  # the target's queue is full: the sender should retry
    world.pending_requests.setdefault(target, set()).add(uin)


def _answer(ctx: Context, uin: int, requester: int, code: AckCode, reason: str) -> None:
    """Answer ``requester``'s pending request; without one there is nothing to answer."""
    world = ctx.world
    pending = world.pending_requests.get(uin, set())
    if requester not in pending:
        return
    kind = MessageType.REQUEST_ACCEPTED if code == AckCode.ACCEPT else MessageType.REQUEST_REJECTED
    if not world.mailboxes.put(requester, Item(kind, uin, reason)):
        raise Refusal(Res.PENALTY)
    pending.discard(requester)
    if not pending:
        del world.pending_requests[uin]
    if code == AckCode.ACCEPT:
        world.befriend(uin, requester)


def del_from_list(ctx: Context) -> list[bytes]:
    """Ends the friendship both ways; deleting a non-friend earns RES=3 for 30 s (seed 004)."""
    target = ctx.number("UN")
    ctx.session()
    world, uin, now = ctx.world, ctx.request.uin, ctx.now
    if world.penalties.is_penalised(uin, Command.DEL_FROM_LIST, now):
        raise Refusal(Res.PENALTY)
    if not world.are_friends(uin, target):
        world.penalties.penalise(uin, Command.DEL_FROM_LIST, now, world.settings.delete_penalty)
        raise Refusal(Res.PENALTY)
    world.unfriend(uin, target)
    return [ctx.reply(trailing_ampersand=True)]
