"""The numbers QQ HTTP v1.1 speaks in, named.

Every value here comes from the write-ups in ``shared/seeds`` (000 and 004 are the most
detailed); docs/protocol.md says which seed each rests on.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Command(StrEnum):
    """The 11 commands, spelled as a request sends them (``CMD=``)."""

    LOGIN = "Login"
    LIST = "List"
    QUERY_STAT = "Query_Stat"
    GET_INFO = "GetInfo"
    ADD_TO_LIST = "AddToList"
    ACK_ADD_TO_LIST = "Ack_AddToList"
    DEL_FROM_LIST = "DelFromList"
    CHANGE_STAT = "Change_Stat"
    GET_MSG_EX = "GetMsgEx"
    CLTMSG = "CLTMSG"
    LOGOUT = "Logout"

    @classmethod
    def parse(cls, text: str) -> Command | None:
        """The command named by ``text``, ignoring case (replies echo ``LOGIN`` or ``Login``)."""
        return _COMMANDS_BY_FOLDED.get(text.strip().casefold())

    @property
    def reply_spelling(self) -> str:
        """How the server echoes this command in ``CMD=`` (seed 000/004)."""
        return _REPLY_SPELLING[self]


_COMMANDS_BY_FOLDED = {command.value.casefold(): command for command in Command}

# Seeds 000 and 004 show some echoes upper-cased and the others as sent.
_REPLY_SPELLING = {
    Command.LOGIN: "LOGIN",
    Command.LIST: "LIST",
    Command.QUERY_STAT: "QUERY_STAT",
    Command.GET_INFO: "GETINFO",
    Command.ADD_TO_LIST: "AddToList",
    Command.ACK_ADD_TO_LIST: "Ack_AddToList",
    Command.DEL_FROM_LIST: "DelFromList",
    Command.CHANGE_STAT: "Change_Stat",
    Command.GET_MSG_EX: "GETMSGEX",
    Command.CLTMSG: "CLTMSG",
    Command.LOGOUT: "LOGOUT",
}


class Res(IntEnum):
    """``RES=``: the outcome of a request."""

    OK = 0
    PENALTY = 3  # too fast or too often: the server refuses for a while (20 s, seed 004)
    INVALID_UIN = 5  # Login with an impossible number, such as 100
    NOT_LOGGED_IN = 20  # no session for this (IP, UIN), or it lapsed


class LoginResult(IntEnum):
    """``RS=`` in a Login reply."""

    OK = 0
    REFUSED = 1  # RA= says why, e.g. a wrong password


class Status(IntEnum):
    """``ST=`` in Change_Stat and Query_Stat, and ``MG=`` of a status message (MT 99)."""

    ONLINE = 10
    OFFLINE = 20
    BUSY = 30
    INVISIBLE = 40  # only ever sent; others see an invisible account as OFFLINE

    @property
    def word(self) -> str:
        """The status as people read and type it: ``online``, ``offline``, ``busy`` or
        ``invisible`` (the bridge's commands, the terminal client). STATUS_WORDS is the
        one table of these words."""
        return STATUS_WORDS[self]

    @classmethod
    def from_word(cls, word: str) -> Status | None:
        """The status a typed word names, ignoring case and spaces; None for any other word."""
        return _STATUS_BY_WORD.get(word.strip().casefold())


# Seed 004: "10为上线,20为离线,30为忙碌,40为隐身" (online, offline, busy, invisible).
STATUS_WORDS = {
    Status.ONLINE: "online",
    Status.OFFLINE: "offline",
    Status.BUSY: "busy",
    Status.INVISIBLE: "invisible",
}
_STATUS_BY_WORD = {word: status for status, word in STATUS_WORDS.items()}


class MessageType(IntEnum):
    """``MT=`` of one GetMsgEx item."""

    FRIEND_REQUEST = 2  # MG: the request text
    REQUEST_ACCEPTED = 3
    REQUEST_REJECTED = 4  # MG: the reason
    USER = 9  # MG: the text
    SYSTEM = 99  # MG: the sender's new Status


class AddResult(IntEnum):
    """``CD=`` in an AddToList reply: the target's authorisation mode."""

    ADDED = 0  # anyone may add: the target is now a friend
    NEEDS_VERIFICATION = 1  # send Ack_AddToList CD=2 with a reason
    REFUSED = 2  # no one may add (seed 003 says 3; we read both as this)


class AckCode(IntEnum):
    """``CD=`` of Ack_AddToList. Any value of 3 or more earns RES=3."""

    ACCEPT = 0
    REJECT = 1
    REQUEST = 2


class InfoLevel(IntEnum):
    """``LV=`` of GetInfo: 0 and 1 brief, 2 normal, 3 and above detailed."""

    BRIEF = 0
    NORMAL = 2
    DETAILED = 3


# The GetInfo code tables (seed 004, Chinese; seed 002 has them in English).
BLOOD_TYPES = {0: "", 1: "A", 2: "B", 3: "O", 4: "AB", 5: "other"}
CONSTELLATIONS = {
    0: "",
    1: "Aquarius",
    2: "Pisces",
    3: "Aries",
    4: "Taurus",
    5: "Gemini",
    6: "Cancer",
    7: "Leo",
    8: "Virgo",
    9: "Libra",
    10: "Scorpio",
    11: "Sagittarius",
    12: "Capricorn",
}
ZODIAC = {
    0: "",
    1: "Rat",
    2: "Ox",
    3: "Tiger",
    4: "Rabbit",
    5: "Dragon",
    6: "Snake",
    7: "Horse",
    8: "Goat",
    9: "Monkey",
    10: "Rooster",
    11: "Dog",
    12: "Pig",
}
SEXES = {0: "male", 1: "female"}

# LC= is a constant every client sends; any other value gets no reply (seed 000).
LOGIN_CONSTANT = "9326B87B234E7235"
VERSION = "1.1"
