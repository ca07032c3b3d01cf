"""Commands about the user's own QQ login: login, logout, ping, status."""

from __future__ import annotations

import logging

from ..qq.client import QQ_FAILURES, ConnectionState
from ..qq.codes import Status
from ..qq.wire import InvalidUin, LoginRefused, NoReply
from ..qq.wire.requests import password_md5
from .registry import CommandContext, UsageError, command

log = logging.getLogger("bridge.commands")

STATUS_WORDS = {
    "online": Status.ONLINE,
    "busy": Status.BUSY,
    "invisible": Status.INVISIBLE,
    "offline": Status.OFFLINE,
}
STATE_WORDS = {
    ConnectionState.ONLINE: "online",
    ConnectionState.LOGGING_IN: "logging in",
    ConnectionState.RECONNECTING: "reconnecting to the QQ server",
    ConnectionState.BAD_CREDENTIALS: "refused by QQ: log in again",
    ConnectionState.LOGGED_OUT: "logged out",
}


@command("login <uin> <password>", "Log in to QQ. The message is removed at once.")
async def login(ctx: CommandContext) -> None:
    await _hide_password(ctx)
    uin = ctx.uin_arg(0)
    password = ctx.text_after(1)
    if not password:
        raise UsageError("Usage: login <uin> <password>")
    owner = await ctx.bridge.user_by_uin(uin)
    if owner is not None and owner.mxid != ctx.user.mxid:
        if owner.has_credentials:
            await ctx.reply(f"QQ {uin} is already bridged for another Matrix user.")
            return
        await owner.release_uin()  # its last user logged out, or QQ refused them since
    await ctx.reply(f"Logging in to QQ as {uin}…")
    try:
        await ctx.user.login(uin, password_md5(password))
    except LoginRefused as refused:
        await ctx.reply(f"QQ refused the login: {refused.reason or 'no reason given'}.")
    except InvalidUin:
        await ctx.reply(f"QQ says {uin} is not a valid QQ number.")
    except NoReply:
        await ctx.reply("The QQ server did not answer the login. Check the number and try again.")
    except QQ_FAILURES as error:
        await ctx.reply(f"Could not reach the QQ server: {error}")
    else:
        await ctx.reply(f"Logged in to QQ as {uin}. Your friends' messages will appear as chats.")


async def _hide_password(ctx: CommandContext) -> None:
    # An edited login (say, a typo fixed) holds the password in the original event too.
    for event_id in filter(None, (ctx.event_id, ctx.edited)):
        try:
            await ctx.bridge.bot.redact(ctx.room_id, event_id, reason="It contained a password")
        except Exception:
            log.warning("Could not redact a login message in %s", ctx.room_id)
            await ctx.reply("I could not remove your message: please delete it (a password).")


@command("logout", "Log out of QQ and forget the stored login.")
async def logout(ctx: CommandContext) -> None:
    await ctx.user.logout()
    await ctx.reply("Logged out of QQ.")


@command("ping", "Tell whether you are logged in to QQ.")
async def ping(ctx: CommandContext) -> None:
    user = ctx.user
    if user.client is None:
        if user.has_credentials and user.row.login_state == "logged_in":
            await ctx.reply(f"Logging in to QQ as {user.uin} (the QQ server has not answered yet).")
        else:
            await ctx.reply("You are not logged in to QQ.")
        return
    state = STATE_WORDS[user.client.state]
    await ctx.reply(f"QQ {user.uin}: {state}.")


@command("status online|busy|invisible|offline", "Set your QQ status.")
async def status(ctx: CommandContext) -> None:
    word = ctx.args[0].lower() if ctx.args else ""
    if word not in STATUS_WORDS:
        raise UsageError("Usage: status online|busy|invisible|offline")
    await ctx.user.require_client().set_status(STATUS_WORDS[word])
    await ctx.reply(f"Your QQ status is now {word}.")
