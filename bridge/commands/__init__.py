"""The bot's commands, typed in the management room (the user's DM with the bot)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from mautrix.types import EventID, RoomID

from ..qq.client import TransportError
from ..qq.wire import Penalty, WireError
from ..user import NotLoggedInError
from . import account, contacts  # noqa: F401  (registers the commands)
from .registry import COMMANDS, CommandContext, UsageError, command

if TYPE_CHECKING:
    from ..core import Bridge
    from ..user import User

log = logging.getLogger("bridge.commands")


@command("help", "Show this list.")
async def help_command(ctx: CommandContext) -> None:
    lines = ["Commands (type them here, without any prefix):"]
    lines += [f"- {c.usage}: {c.summary}" for c in COMMANDS.values()]
    await ctx.reply("\n".join(lines))


async def handle_command(
    bridge: Bridge,
    user: User,
    room_id: RoomID,
    event_id: EventID,
    body: str,
    edited: EventID | None = None,
    hidden: bool = False,
) -> None:
    """Run one line typed in the management room; ``edited``: the event this one edits;
    ``hidden``: the handler already tried to redact it (it looked like a login)."""
    name, _, rest = body.strip().partition(" ")
    ctx = CommandContext(bridge, user, room_id, event_id, rest.split(), rest, edited, hidden)
    if bridge.config.permission(user.mxid) is None:
        await ctx.reply("Sorry, you are not allowed to use this bridge.")
        return
    found = COMMANDS.get(name.lower())
    if found is None:
        await ctx.reply(f"Unknown command `{name}`. Send `help` for the list.")
        return
    log.info("%s ran %s", user.mxid, found.name)  # never the arguments: login holds a password
    try:
        await found.handler(ctx)
    except (UsageError, NotLoggedInError) as error:
        await ctx.reply(str(error))
    except Penalty:
        await ctx.reply("QQ says that was too fast (a penalty): wait 20 seconds and try again.")
    except WireError as error:
        await ctx.reply(f"QQ error: {error}")
    except TransportError as error:
        await ctx.reply(f"Could not reach the QQ server: {error}")
    except Exception:
        log.exception("Command %s of %s failed", found.name, user.mxid)
        await ctx.reply(f"Something went wrong running `{found.name}`; it is in the bridge's log.")
