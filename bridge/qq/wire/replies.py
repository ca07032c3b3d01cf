"""Reply bodies decoded into typed results. Pure functions: bytes in, dataclasses out.

``parse_envelope(command, body)`` checks a reply and returns its ``Reply``; one
``decode_<command>(reply)`` per command with a result turns it into that result. Both raise a
``WireError``: ``ServerRefused`` subclasses for a RES that is not 0, ``MalformedReply`` for
anything that is not the shape seed 000/004 shows, ``NoReply`` for an empty body ("NULL").
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..codes import (
    BLOOD_TYPES,
    CONSTELLATIONS,
    SEXES,
    ZODIAC,
    AddResult,
    Command,
    LoginResult,
    MessageType,
    Res,
    Status,
)
from .fields import (
    MalformedReply,
    NoReply,
    WireError,
    decode_text,
    parse_int,
    parse_reply_pairs,
    split_list,
)

# --- errors the server states -------------------------------------------------------------


class ServerRefused(WireError):
    """The server answered with a RES other than 0."""

    def __init__(self, res: int, detail: str) -> None:
        super().__init__(detail)
        self.res = res


class Penalty(ServerRefused):
    """RES=3: too fast or too often; the server refuses for a while (20 s in the seeds)."""

    def __init__(self) -> None:
        super().__init__(Res.PENALTY, "the QQ server refused: too fast (RES=3, penalty)")


class InvalidUin(ServerRefused):
    def __init__(self) -> None:
        super().__init__(Res.INVALID_UIN, "the QQ server says this QQ number is impossible (RES=5)")


class NotLoggedIn(ServerRefused):
    def __init__(self) -> None:
        super().__init__(Res.NOT_LOGGED_IN, "not logged in, or the session lapsed (RES=20)")


class LoginRefused(ServerRefused):
    """RS=1: the server refused the login; ``reason`` is its RA= text (e.g. wrong password)."""

    def __init__(self, reason: str) -> None:
        super().__init__(Res.OK, f"login refused: {reason or 'no reason given'}")
        self.reason = reason


# --- results --------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoginOk:
    heartbeat: int  # HI: seconds within which to send a request (we poll more often)
    lapse: int  # LI: seconds of silence after which the server drops the session


@dataclass(frozen=True)
class FriendList:
    count: int
    uins: list[int] = field(default_factory=list)  # empty when asked with TN=0


@dataclass(frozen=True)
class OnlineFriend:
    uin: int
    face: int
    status: Status
    nick: str


@dataclass(frozen=True)
class OnlineFriends:
    count: int
    friends: list[OnlineFriend] = field(default_factory=list)  # empty when asked with TN=0


@dataclass(frozen=True)
class Profile:
    """A GetInfo reply; ``fields`` keeps every key the server sent, decoded."""

    uin: int
    nick: str
    level: int
    fields: dict[str, str]

    @property
    def face(self) -> int | None:
        return _optional_int(self.fields.get("FC"))

    def readable(self) -> list[tuple[str, str]]:
        """(label, value) pairs for a person, with the seeds' code tables applied."""
        rows = [("QQ", str(self.uin)), ("Nickname", self.nick)]
        for key, label, table in _PROFILE_ROWS:
            raw = self.fields.get(key)
            if raw is None or raw == "":
                continue
            value = raw
            if table is not None:
                code = _optional_int(raw)
                value = table.get(code, f"unknown ({raw})") if code is not None else raw
            if value:
                rows.append((label, value))
        return rows


_Table = dict[int, str] | None
_PROFILE_ROWS: list[tuple[str, str, _Table]] = [
    ("RN", "Real name", None),
    ("SX", "Sex", SEXES),
    ("AG", "Age", None),
    ("BT", "Blood type", BLOOD_TYPES),
    ("CO", "Constellation", CONSTELLATIONS),
    ("SH", "Zodiac", ZODIAC),
    ("CY", "Country", None),
    ("PV", "Province", None),
    ("CT", "City", None),
    ("AD", "Address", None),
    ("PC", "Postcode", None),
    ("PH", "Phone", None),
    ("MO", "Mobile", None),
    ("EM", "Email", None),
    ("HP", "Homepage", None),
    ("JB", "Occupation", None),
    ("SC", "School", None),
    ("PR", "About", None),
]


@dataclass(frozen=True)
class Added:
    uin: int
    result: AddResult


# GetMsgEx events --------------------------------------------------------------------------


@dataclass(frozen=True)
class TextMessage:
    sender: int
    text: str


@dataclass(frozen=True)
class StatusChange:
    sender: int
    status: Status


@dataclass(frozen=True)
class FriendRequest:
    sender: int
    text: str


@dataclass(frozen=True)
class RequestAccepted:
    sender: int
    text: str


@dataclass(frozen=True)
class RequestRejected:
    sender: int
    reason: str


@dataclass(frozen=True)
class UnknownEvent:
    """An MT (or an MT 99 MG) this codec does not know; kept so nothing is lost silently."""

    type: int
    sender: int
    text: str


@dataclass(frozen=True)
class EventsDropped:
    """Not from the server: the client's report that a GetMsgEx batch held more than it hands
    over (``ClientSettings.max_batch_events`` / ``max_batch_senders``; our choice, since every
    sender becomes a puppet and a room). ``count``: the events not delivered; ``senders``: the
    distinct senders among them. It comes last in the batch it was cut from."""

    count: int
    senders: int


@dataclass(frozen=True)
class BatchUnreadable:
    """Not from the server: the client's report that a GetMsgEx reply could not be read. The
    server forgets a batch once sent, so whatever it held is lost; the user is told so."""


# What the server sends (``decode_get_msg_ex``); the other two are only ever made by the client.
ServerEvent = (
    TextMessage | StatusChange | FriendRequest | RequestAccepted | RequestRejected | UnknownEvent
)
Event = ServerEvent | EventsDropped | BatchUnreadable


@dataclass(frozen=True)
class Reply:
    """The envelope every reply shares, with its own fields still as text."""

    command: Command
    seq: str
    uin: str
    res: int
    fields: dict[str, str]
    body: str


# --- decoding -----------------------------------------------------------------------------


def parse_envelope(expected: Command, body: bytes) -> Reply:
    """Check CMD (any case) and RES; raise on a stated refusal. VER is not checked: the
    server answers 1.1 to 1.1 and nothing at all to any other version."""
    if not body.strip():
        raise NoReply()
    pairs = parse_reply_pairs(body)
    text = body.decode("utf-8", errors="replace")
    command = Command.parse(pairs.get("CMD", ""))
    if command is None:
        raise MalformedReply("reply names no known command", text)
    if command is not expected:
        raise MalformedReply(f"reply is for {command.value}, not {expected.value}", text)
    res = parse_int(pairs.get("RES"), "RES", text)
    if res == Res.PENALTY:
        raise Penalty()
    if res == Res.INVALID_UIN:
        raise InvalidUin()
    if res == Res.NOT_LOGGED_IN:
        raise NotLoggedIn()
    if res != Res.OK:
        raise ServerRefused(res, f"the QQ server refused {command.value} with RES={res}")
    seq, uin = pairs.get("SEQ", ""), pairs.get("UIN", "")
    return Reply(command, seq, uin, res, pairs, text)


def decode_login(reply: Reply) -> LoginOk:
    result = parse_int(reply.fields.get("RS", "0"), "RS", reply.body)
    if result != LoginResult.OK:
        raise LoginRefused(decode_text(reply.fields.get("RA", "")))
    heartbeat = parse_int(reply.fields.get("HI", "60"), "HI", reply.body)
    lapse = parse_int(reply.fields.get("LI", "300"), "LI", reply.body)
    return LoginOk(heartbeat, lapse)


def decode_list(reply: Reply) -> FriendList:
    if "SN" not in reply.fields:  # asked with TN=0: FN is the count
        return FriendList(parse_int(reply.fields.get("FN"), "FN", reply.body))
    uins = [parse_int(item, "UN", reply.body) for item in split_list(reply.fields.get("UN", ""))]
    return FriendList(parse_int(reply.fields["SN"], "SN", reply.body), uins)


def decode_query_stat(reply: Reply) -> OnlineFriends:
    fields = reply.fields
    if "SN" not in fields:
        return OnlineFriends(parse_int(fields.get("FN"), "FN", reply.body))
    columns = [split_list(fields.get(key, "")) for key in ("UN", "FC", "ST", "NK")]
    if len({len(column) for column in columns}) != 1:
        raise MalformedReply("Query_Stat lists UN, FC, ST and NK differ in length", reply.body)
    friends = [
        OnlineFriend(
            uin=parse_int(uin, "UN", reply.body),
            face=_optional_int(face) or 0,
            status=_status(parse_int(status, "ST", reply.body), reply.body),
            nick=nick,
        )
        for uin, face, status, nick in zip(*columns, strict=True)
    ]
    return OnlineFriends(parse_int(fields["SN"], "SN", reply.body), friends)


def decode_get_info(reply: Reply) -> Profile:
    fields = {
        key: decode_text(value) for key, value in reply.fields.items() if key not in _ENVELOPE
    }
    uin = parse_int(fields.get("UN"), "UN", reply.body)
    level = parse_int(fields.get("LV", "0"), "LV", reply.body)
    return Profile(uin=uin, nick=fields.get("NK", ""), level=level, fields=fields)


def decode_add_to_list(reply: Reply) -> Added:
    code = parse_int(reply.fields.get("CD"), "CD", reply.body)
    if code < 0:
        raise MalformedReply(f"AddToList CD={code} is not a known code", reply.body)
    result = AddResult(min(code, AddResult.REFUSED))  # seed 003 writes "refused" as CD=3
    return Added(parse_int(reply.fields.get("UN"), "UN", reply.body), result)


def decode_get_msg_ex(reply: Reply) -> list[ServerEvent]:
    fields = reply.fields
    types = split_list(fields.get("MT", ""))
    senders = split_list(fields.get("UN", ""))
    texts = split_list(fields.get("MG", ""))
    if not len(types) == len(senders) == len(texts):
        raise MalformedReply("GetMsgEx lists MT, UN and MG differ in length", reply.body)
    return [
        _event(parse_int(kind, "MT", reply.body), parse_int(sender, "UN", reply.body), text)
        for kind, sender, text in zip(types, senders, texts, strict=True)
    ]


def _event(kind: int, sender: int, text: str) -> ServerEvent:
    if kind == MessageType.USER:
        return TextMessage(sender, text)
    if kind == MessageType.SYSTEM:
        status = _optional_int(text)
        if status is not None and status in Status._value2member_map_:
            return StatusChange(sender, Status(status))
    elif kind == MessageType.FRIEND_REQUEST:
        return FriendRequest(sender, text)
    elif kind == MessageType.REQUEST_ACCEPTED:
        return RequestAccepted(sender, text)
    elif kind == MessageType.REQUEST_REJECTED:
        return RequestRejected(sender, text)
    return UnknownEvent(kind, sender, text)


def _status(code: int, body: str) -> Status:
    try:
        return Status(code)
    except ValueError:
        raise MalformedReply(f"ST={code} is not a known status", body) from None


def _optional_int(value: str | None) -> int | None:
    """The number in ``value`` by the same rule as ``parse_int``, or None."""
    if value is None:
        return None
    try:
        return parse_int(value, "number")
    except MalformedReply:
        return None


_ENVELOPE = {"VER", "CMD", "SEQ", "UIN", "RES"}
