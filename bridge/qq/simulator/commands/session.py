"""Login, Logout and Change_Stat: a session's start, end and status."""

from __future__ import annotations

from ...codes import LOGIN_CONSTANT, Command, LoginResult, Res, Status
from ..accounts import HIGHEST_UIN, LOWEST_UIN
from ..request import Context, Refusal, Silence

# RA= texts. Seed 000 shows 密码错误 for a wrong password; the seeds never show a login
# for a number that does not exist, so that text is ours.
WRONG_PASSWORD = "密码错误"
NO_SUCH_ACCOUNT = "帐号不存在"

SETTABLE_STATUSES = frozenset(int(status) for status in Status)


def login(ctx: Context) -> list[bytes]:
    md5 = ctx.text("PS")
    if ctx.text("LC") != LOGIN_CONSTANT or md5 == "":
        raise Silence  # seed 000: a wrong LC or an empty PS gets no reply
    uin = ctx.request.uin
    if not LOWEST_UIN <= uin <= HIGHEST_UIN:
        raise Refusal(Res.INVALID_UIN)
    # M5 is read by nobody: seed 000 saw no difference between its values.
    world = ctx.world
    if uin not in world.accounts:
        return [_refused(ctx, NO_SUCH_ACCOUNT)]
    if not world.password_matches(uin, md5):
        return [_refused(ctx, WRONG_PASSWORD)]
    world.log_in(uin, ctx.peer, ctx.now)
    settings = world.settings
    fields = [
        ("RS", str(int(LoginResult.OK))),
        ("HI", str(settings.heartbeat)),
        ("LI", str(settings.lapse)),
    ]
    return [ctx.reply(fields=fields)]


def _refused(ctx: Context, reason: str) -> bytes:
    return ctx.reply(fields=[("RS", str(int(LoginResult.REFUSED))), ("RA", reason)])


def logout(ctx: Context) -> list[bytes]:
    """Always RES=0 (seed 004: "好像永远成功的"); ends the session only from its own address."""
    uin = ctx.request.uin
    session = ctx.world.sessions.get(uin)
    if session is not None and session.ip == ctx.peer:
        ctx.world.end_session(uin)
    return [ctx.reply()]


def change_stat(ctx: Context) -> list[bytes]:
    status = ctx.optional_number("ST")
    if status is None or status not in SETTABLE_STATUSES:
        raise Silence  # seed 004: "其他视为非法" and an illegal ST gets NULL
    session = ctx.session()
    world, uin, now = ctx.world, ctx.request.uin, ctx.now
    penalties, settings = world.penalties, world.settings
    if penalties.is_penalised(uin, Command.CHANGE_STAT, now):
        raise Refusal(Res.PENALTY)
    if penalties.too_soon(uin, Command.CHANGE_STAT, now, settings.status_interval):
        penalties.penalise(uin, Command.CHANGE_STAT, now, settings.penalty)
        raise Refusal(Res.PENALTY)
    penalties.record(uin, Command.CHANGE_STAT, now)
    world.change_status(uin, session, Status(status))
    return [ctx.reply(trailing_ampersand=True)]
