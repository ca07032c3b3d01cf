"""Commands about QQ contacts: friends, online, info, add, accept, reject, remove, pm."""

from __future__ import annotations

from ..notices import escape
from ..qq.client import AddResult, InfoLevel
from ..roster import take_online, take_profile
from .registry import CommandContext, command

MAX_NAME_LOOKUPS = 50  # one GetInfo each: enough for a friend list, bounded for a huge one


@command("friends", "List your QQ friends and who is online.")
async def friends(ctx: CommandContext) -> None:
    client = ctx.user.require_client()
    friend_list, online = await client.friends(), await client.online()
    ctx.user.friends.know(friend_list.uins)
    await take_online(ctx.user, online, ctx.user.friends)
    online_by_uin = {friend.uin: friend for friend in online.friends}
    if not friend_list.uins:
        await ctx.reply("You have no QQ friends yet. Add one with `add <uin>`.")
        return
    lines = [f"Your QQ friends ({len(friend_list.uins)}):"]
    for index, uin in enumerate(friend_list.uins):
        friend = online_by_uin.get(uin)
        if friend:
            name, state = friend.nick, friend.status.word
        else:
            name, state = await _nick(ctx, uin, lookup=index < MAX_NAME_LOOKUPS), "offline"
        lines.append(f"- {escape(name)} ({uin}): {state}")
    await ctx.reply("\n".join(lines))


async def _nick(ctx: CommandContext, uin: int, lookup: bool) -> str:
    puppet = await ctx.bridge.puppet(uin)
    if not puppet.row.nick and lookup:
        profile = await ctx.user.require_client().info(uin, InfoLevel.BRIEF)
        await take_profile(ctx.user, uin, profile.nick, None)
        return profile.nick or "?"
    return puppet.row.nick or "?"


@command("online", "List your QQ friends who are online.")
async def online(ctx: CommandContext) -> None:
    online = await ctx.user.require_client().online()
    await take_online(ctx.user, online, ctx.user.friends)
    if not online.friends:
        await ctx.reply("None of your QQ friends is online.")
        return
    lines = [f"Online ({len(online.friends)}):"]
    lines += [f"- {escape(f.nick)} ({f.uin}): {f.status.word}" for f in online.friends]
    await ctx.reply("\n".join(lines))


@command("info <uin>", "Show a QQ user's profile.")
async def info(ctx: CommandContext) -> None:
    uin = ctx.uin_arg(0)
    profile = await ctx.user.require_client().info(uin, InfoLevel.DETAILED)
    await take_profile(ctx.user, uin, profile.nick, profile.face)
    readable = profile.readable()
    await ctx.reply("\n".join(f"{label}: {escape(str(value))}" for label, value in readable))


@command("add <uin> [reason]", "Add a QQ friend, with a request text if they must approve.")
async def add(ctx: CommandContext) -> None:
    client, uin = ctx.user.require_client(), ctx.uin_arg(0)
    added = await client.add(uin)
    if added.result is AddResult.ADDED:
        await ctx.user.friends.befriend(uin)
        await ctx.reply(f"QQ {uin} is now your friend. Send `pm {uin}` to chat.")
    elif added.result is AddResult.NEEDS_VERIFICATION:
        await client.request_friend(uin, ctx.text_after(1))
        await ctx.reply(f"QQ {uin} must approve: your friend request was sent.")
    else:
        await ctx.reply(f"QQ {uin} does not accept friend requests.")


@command("accept <uin>", "Accept a QQ friend request.")
async def accept(ctx: CommandContext) -> None:
    await ctx.user.friends.answer(ctx.uin_arg(0), accept=True)


@command("reject <uin> [reason]", "Refuse a QQ friend request.")
async def reject(ctx: CommandContext) -> None:
    await ctx.user.friends.answer(ctx.uin_arg(0), accept=False, reason=ctx.text_after(1))


@command("remove <uin>", "Remove a QQ friend.")
async def remove(ctx: CommandContext) -> None:
    uin = ctx.uin_arg(0)
    await ctx.user.require_client().remove(uin)
    ctx.user.friends.discard(uin)
    await ctx.reply(f"Removed QQ {uin} from your friends.")


@command("pm <uin>", "Open a chat with a QQ user.")
async def pm(ctx: CommandContext) -> None:
    uin = ctx.uin_arg(0)
    ctx.user.require_client()
    await ctx.user.learn_profile(uin, fresh=True)
    portal = await ctx.bridge.portal(ctx.user, uin)
    # Asked under the portal's room lock: of two `pm` at once, one opens and one is told so.
    created = await portal.open_dm()
    name = await ctx.user.name_of(uin)
    if created:
        await ctx.reply(f"Opened a chat with {name}: accept the invite to start.")
    else:
        await ctx.reply(f"You already have a chat with {name}.")
