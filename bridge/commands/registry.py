"""How a command is declared and what it is handed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mautrix.types import EventID, RoomID

from ..notices import say

if TYPE_CHECKING:
    from ..core import Bridge
    from ..user import User


class UsageError(Exception):
    """The command was mistyped; the message says how to type it."""


@dataclass
class CommandContext:
    bridge: Bridge
    user: User
    room_id: RoomID
    event_id: EventID
    args: list[str]  # the words after the command name
    rest: str  # the text after the command name, spaces kept
    edited: EventID | None = None  # when the command is an edit: the event it replaces
    hidden: bool = False  # the handler already tried to redact it, as one holding a password

    async def reply(self, text: str) -> None:
        """Answer in the command's room, in Markdown (the bot, or in a portal its puppet)."""
        await say(self.bridge, self.room_id, text)

    def uin_arg(self, index: int = 0) -> int:
        """A QQ number argument, or a UsageError that says what was expected."""
        try:
            uin = int(self.args[index])
        except (IndexError, ValueError):
            raise UsageError("This command needs a QQ number.") from None
        if uin <= 0:
            raise UsageError(f"{uin} is not a QQ number.")
        return uin

    def text_after(self, count: int) -> str:
        """The rest of the line after ``count`` words, spaces inside it kept."""
        rest = self.rest
        for _ in range(count):
            rest = rest.lstrip().partition(" ")[2]
        return rest.strip()


Handler = Callable[[CommandContext], Awaitable[None]]


@dataclass(frozen=True)
class Command:
    name: str
    usage: str
    summary: str
    handler: Handler
    admin: bool = False  # only for users with the `admin` permission


COMMANDS: dict[str, Command] = {}


def command(usage: str, summary: str, admin: bool = False) -> Callable[[Handler], Handler]:
    """Declare a command; its name is the first word of ``usage``; ``admin``: for admins only."""

    def register(handler: Handler) -> Handler:
        name = usage.split()[0]
        COMMANDS[name] = Command(name, usage, summary, handler, admin)
        return handler

    return register
