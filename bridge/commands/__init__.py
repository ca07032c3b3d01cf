"""The bot's commands: typed in the management room (the user's DM with the bot) as they are,
or in any other room with the bridge (a portal, a room with the bot) after the prefix
``bridge.command_prefix`` (``!qq ping``)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from mautrix.types import EventID, RoomID

from ..qq.client import Penalty, TransportError, WireError
from ..user import NotLoggedInError
from . import account, admin, contacts  # noqa: F401  (registers the commands)
from .registry import COMMANDS, CommandContext, UsageError, command

if TYPE_CHECKING:
    from ..core import Bridge
    from ..user import User

log = logging.getLogger("bridge.commands")


@command("help", "Show this list.")
async def help_command(ctx: CommandContext) -> None:
    prefix = ctx.bridge.config.command_prefix
    lines = [
        f"Commands: in your direct chat with me as they are, anywhere else after `{prefix}` "
        f"(as in `{prefix} ping`)."
    ]
    is_admin = ctx.bridge.config.has_permission(ctx.user.mxid, "admin")
    lines += [f"- `{c.usage}`: {c.summary}" for c in COMMANDS.values() if is_admin or not c.admin]
    await ctx.reply("\n".join(lines))


def command_line(body: str, prefix: str, management_room: bool) -> str | None:
    """The command in a message's ``body``, without the prefix; None when it is not one.

    Outside the management room a command starts with ``prefix`` and a space (``!qq ping``);
    in it the prefix may be left out. The prefix alone asks for ``help``.
    """
    text = body.strip()
    word, _, rest = text.partition(" ")
    if word.lower() == prefix.lower():
        return rest.strip() or "help"
    return text if management_room else None


async def handle_command(
    bridge: Bridge,
    user: User,
    room_id: RoomID,
    event_id: EventID,
    body: str,
    edited: EventID | None = None,
    hidden: bool = False,
) -> None:
    """Run one command line (the prefix already cut, see ``command_line``) typed in
    ``room_id``; ``edited``: the event this one edits;
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
    if found.admin and not bridge.config.has_permission(user.mxid, "admin"):
        await ctx.reply(f"`{found.name}` is for the bridge's admins only.")
        return
    log.info("%s ran %s", user.mxid, found.name)  # never the arguments: login holds a password
    try:
        await found.handler(ctx)
    except (UsageError, NotLoggedInError) as error:
        await ctx.reply(str(error))
    except Penalty:
        wait = round(bridge.client_settings.penalty_wait)
        await ctx.reply(
            f"QQ says that was too fast (a penalty): wait {wait} seconds and try again."
        )
    except WireError as error:
        await ctx.reply(f"QQ error: {error}")
    except TransportError as error:
        await ctx.reply(f"Could not reach the QQ server: {error}")
    except Exception:
        log.exception("Command %s of %s failed", found.name, user.mxid)
        await ctx.reply(f"Something went wrong running `{found.name}`; it is in the bridge's log.")


class Commands:
    """``command_line`` and ``handle_command``, handed to the event router (matrix.py) by
    app.py."""

    line = staticmethod(command_line)
    run = staticmethod(handle_command)
