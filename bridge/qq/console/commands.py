"""What a typed line means. Pure: a line in, a command (or a usage message) out."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ..codes import Status


@dataclass(frozen=True)
class SendMessage:
    target: int
    text: str


@dataclass(frozen=True)
class SetStatus:
    status: Status


@dataclass(frozen=True)
class AddFriend:
    uin: int
    reason: str = ""


@dataclass(frozen=True)
class Accept:
    uin: int


@dataclass(frozen=True)
class Reject:
    uin: int
    reason: str = ""


@dataclass(frozen=True)
class Remove:
    uin: int


@dataclass(frozen=True)
class ShowFriends:
    pass


@dataclass(frozen=True)
class ShowOnline:
    pass


@dataclass(frozen=True)
class ShowInfo:
    uin: int


@dataclass(frozen=True)
class Quit:
    pass


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class Nothing:
    """An empty line."""


@dataclass(frozen=True)
class Usage:
    """A line that is not a valid command; ``message`` says how to write it."""

    message: str


Command = (
    SendMessage
    | SetStatus
    | AddFriend
    | Accept
    | Reject
    | Remove
    | ShowFriends
    | ShowOnline
    | ShowInfo
    | Quit
    | Help
    | Nothing
    | Usage
)

_Parser = Callable[[str], Command]

HELP = """\
/msg <uin> <text>        send a message (a line without a slash goes to the last peer);
                         in a message \\n is a new line and \\\\ a backslash
/status online|busy|invisible|offline
/add <uin> [reason]      add a friend; sends a request with the reason if they verify
/accept <uin>            accept a friend request
/reject <uin> [reason]   reject a friend request
/remove <uin>            remove a friend
/friends                 list friends
/online                  list friends who are online
/info <uin>              show a profile
/quit                    log out and leave
/help                    this list"""


def parse_line(line: str, last_peer: int | None) -> Command:
    """The command a line stands for; ``last_peer`` receives lines without a slash."""
    line = line.rstrip("\r\n")
    if not line.strip():
        return Nothing()
    if not line.startswith("/"):
        if last_peer is None:
            return Usage("no one to talk to yet: start with /msg <uin> <text>")
        return SendMessage(last_peer, unescape(line))
    name, _, rest = line[1:].partition(" ")
    parser = _PARSERS.get(name.lower())
    if parser is None:
        return Usage(f"unknown command /{name}; /help lists them")
    return parser(rest)


def _msg(rest: str) -> Command:
    # The text is kept exactly as typed after the one space that ends the number.
    uin_text, _, text = rest.lstrip(" ").partition(" ")
    uin = _uin(uin_text)
    if uin is None or not text:
        return Usage("usage: /msg <uin> <text>")
    return SendMessage(uin, unescape(text))


def unescape(text: str) -> str:
    """A typed message's text: ``\\n`` is a new line (a terminal line cannot hold one), ``\\\\``
    a backslash; any other backslash stays as typed."""
    return re.sub(r"\\([\\n])", lambda m: "\n" if m[1] == "n" else "\\", text)


def _status(rest: str) -> Command:
    status = Status.from_word(rest)
    if status is None:
        return Usage("usage: /status online|busy|invisible|offline")
    return SetStatus(status)


def _add(rest: str) -> Command:
    uin, reason = _uin_and_text(rest)
    return Usage("usage: /add <uin> [reason]") if uin is None else AddFriend(uin, reason)


def _accept(rest: str) -> Command:
    uin = _uin(rest.strip())
    return Usage("usage: /accept <uin>") if uin is None else Accept(uin)


def _reject(rest: str) -> Command:
    uin, reason = _uin_and_text(rest)
    return Usage("usage: /reject <uin> [reason]") if uin is None else Reject(uin, reason)


def _remove(rest: str) -> Command:
    uin = _uin(rest.strip())
    return Usage("usage: /remove <uin>") if uin is None else Remove(uin)


def _info(rest: str) -> Command:
    uin = _uin(rest.strip())
    return Usage("usage: /info <uin>") if uin is None else ShowInfo(uin)


def _no_arguments(command: Command, name: str) -> _Parser:
    def parse(rest: str) -> Command:
        return command if not rest.strip() else Usage(f"/{name} takes no arguments")

    return parse


def _uin_and_text(rest: str) -> tuple[int | None, str]:
    uin_text, _, text = rest.strip(" ").partition(" ")
    return _uin(uin_text), text.strip()


def _uin(text: str) -> int | None:
    # A QQ number is a positive 32-bit integer; anything else is a typing mistake.
    if not text.isascii() or not text.isdigit():
        return None
    number = int(text)
    return number if 0 < number <= 0xFFFFFFFF else None


_PARSERS = {
    "msg": _msg,
    "status": _status,
    "add": _add,
    "accept": _accept,
    "reject": _reject,
    "remove": _remove,
    "info": _info,
    "friends": _no_arguments(ShowFriends(), "friends"),
    "online": _no_arguments(ShowOnline(), "online"),
    "quit": _no_arguments(Quit(), "quit"),
    "help": _no_arguments(Help(), "help"),
}
