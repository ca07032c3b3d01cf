"""Commands about the user's own QQ login: login, logout, ping, status."""

from __future__ import annotations

import logging

from .. import own_status
from ..db import LoginState
from ..login import log_in
from ..qq.client import ConnectionState, Status
from ..web import login_link
from ..web.links import LINK_LIFETIME
from .registry import CommandContext, UsageError, command

log = logging.getLogger("bridge.commands")

STATE_WORDS = {
    ConnectionState.ONLINE: "online",
    ConnectionState.LOGGING_IN: "logging in",
    ConnectionState.RECONNECTING: "reconnecting to the QQ server",
    ConnectionState.BAD_CREDENTIALS: "refused by QQ: log in again",
    ConnectionState.LOGGED_OUT: "logged out",
}


@command(
    "login [<uin> <password>]",
    "Log in to QQ: alone, a one-time link to a login page (safer); with a number and a "
    "password, at once (the message is removed).",
)
async def login(ctx: CommandContext) -> None:
    if not ctx.args:
        await _send_link(ctx)
        return
    if not ctx.hidden:
        await hide_message(ctx)  # a login the handler's check did not catch (a short number)
    uin = ctx.uin_arg(0)
    password = ctx.text_after(1)
    if not password:
        raise UsageError("Usage: `login` for a login link, or `login <uin> <password>`")
    await ctx.reply(f"Logging in to QQ as {uin}…")
    result = await log_in(ctx.bridge, ctx.user, uin, password)
    await ctx.reply(result.message)
    if result.ok and login_link(ctx.bridge, ctx.user.mxid) is not None:
        await ctx.reply(
            "Next time, send `login` alone: I answer with a link to a login page, and your "
            "password never enters a Matrix room (where a redacted message may stay on the "
            "server for a while)."
        )


async def _send_link(ctx: CommandContext) -> None:
    link = login_link(ctx.bridge, ctx.user.mxid)
    if link is None:
        await ctx.reply(
            "This bridge has no login page (its admin has not set appservice.public_address). "
            "Send `login <uin> <password>`: I remove that message at once."
        )
        return
    minutes = round(LINK_LIFETIME / 60)
    await ctx.reply(
        f"Open this link to log in to QQ: {link}\nIt works once, for {minutes} minutes, and only "
        "for you: do not share it."
    )


async def hide_message(ctx: CommandContext) -> None:
    """Redact the command's message, and the one it edits (a fixed typo holds it too)."""
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


@command("ping", "Tell whether you are logged in to QQ, and your QQ status.")
async def ping(ctx: CommandContext) -> None:
    user = ctx.user
    if user.client is None:
        if user.has_credentials and user.row.login_state is LoginState.LOGGED_IN:
            await ctx.reply(f"Logging in to QQ as {user.uin} (the QQ server has not answered yet).")
        else:
            await ctx.reply("You are not logged in to QQ.")
        return
    state = STATE_WORDS[user.client.state]
    await ctx.reply(f"QQ {user.uin}: {state}. Your QQ status: {user.status.word}.")


@command("status online|busy|invisible|offline", "Set your QQ status.")
async def status(ctx: CommandContext) -> None:
    chosen = Status.from_word(ctx.args[0]) if ctx.args else None
    if chosen is None:
        raise UsageError("Usage: status online|busy|invisible|offline")
    await own_status.choose(ctx.user, chosen)
    await ctx.reply(f"Your QQ status is now {chosen.word}.")
