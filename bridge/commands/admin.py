"""Commands for the bridge's admins (permission ``admin``): users, logout-user, stats.

``handle_command`` refuses them to anyone else, with a message that says so.
"""

from __future__ import annotations

from collections import Counter

from ..notices import escape
from ..user import NotLoggedInError
from .registry import CommandContext, UsageError, command


@command("users", "List every bridged user: QQ number, connection state, queue depths.", True)
async def users(ctx: CommandContext) -> None:
    everyone = await ctx.bridge.all_users()
    if not everyone:
        await ctx.reply("No one has used the bridge yet.")
        return
    depths = await ctx.bridge.db.queue_depths()
    lines = [f"Bridged users ({len(everyone)}), with messages waiting to Matrix / to QQ:"]
    for user in sorted(everyone, key=lambda u: u.mxid):
        qq = f"QQ {user.uin}" if user.uin is not None else "no QQ number"
        waiting = f"{depths.inbound.get(user.mxid, 0)} / {depths.outbound.get(user.mxid, 0)}"
        lines.append(f"- {escape(user.mxid)}: {qq}, {user.state}, {waiting}")
    await ctx.reply("\n".join(lines))


@command("logout-user <mxid>", "Log a user out of QQ and forget their stored login.", True)
async def logout_user(ctx: CommandContext) -> None:
    mxid = ctx.args[0] if ctx.args else ""
    if not mxid.startswith("@") or ":" not in mxid:
        raise UsageError("Usage: `logout-user @someone:example.com`")
    if await ctx.bridge.db.get_user(mxid) is None:
        await ctx.reply(f"{escape(mxid)} has never used the bridge.")
        return
    target = await ctx.bridge.user(mxid)
    try:
        await target.logout()
    except NotLoggedInError:
        await ctx.reply(f"{escape(mxid)} is not logged in to QQ.")
        return
    await ctx.reply(f"Logged {escape(mxid)} out of QQ.")
    if target is not ctx.user:
        await target.notify("A bridge admin logged you out of QQ. Send `login` to log in again.")


@command("stats", "Show how many users are in each state, and the queues.", True)
async def stats(ctx: CommandContext) -> None:
    everyone = await ctx.bridge.all_users()
    states = Counter(user.state for user in everyone)
    depths = await ctx.bridge.db.queue_depths()
    by_state = ", ".join(f"{count} {state}" for state, count in sorted(states.items()))
    lines = [
        f"Users: {len(everyone)} ({by_state or 'none'})",
        f"Waiting to Matrix: {sum(depths.inbound.values())} messages, the oldest for "
        f"{depths.oldest_age('inbound'):.0f} s",
        f"Waiting to QQ: {sum(depths.outbound.values())} messages, the oldest for "
        f"{depths.oldest_age('outbound'):.0f} s",
    ]
    await ctx.reply("\n".join(lines))
