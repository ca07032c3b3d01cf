"""Property tests of the codec: any text survives both escaping models, and no input makes
the decoders raise anything but a WireError."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.qq.codes import AckCode, Command, Status
from bridge.qq.wire import LoginRefused, WireError, requests
from bridge.qq.wire.fields import decode_request_pairs, encode_list, encode_reply, encode_text
from bridge.qq.wire.replies import (
    Added,
    FriendList,
    FriendRequest,
    LoginOk,
    OnlineFriend,
    OnlineFriends,
    Profile,
    RequestAccepted,
    RequestRejected,
    StatusChange,
    TextMessage,
)
from tests.raw_http import split_responses

from .decoding import decode

FAST = settings(max_examples=300, deadline=None)

# Any Unicode text that UTF-8 can carry (lone surrogates cannot be sent by anyone).
texts = st.text(st.characters(codec="utf-8"), max_size=40)
# Text biased towards the characters both escaping models treat specially.
nasty = st.text(
    st.one_of(st.sampled_from(list("&=+%,\r\n ;#?/2cC5aA0")), st.characters(codec="utf-8")),
    max_size=40,
)
any_text = st.one_of(texts, nasty)
uins = st.integers(min_value=10000, max_value=2**32 - 1)
seqs = st.integers(min_value=0, max_value=2**31 - 1)
statuses = st.sampled_from(list(Status))


def envelope(command: Command, seq: int, uin: int) -> list[tuple[str, str]]:
    return [
        ("VER", "1.1"),
        ("CMD", command.reply_spelling),
        ("SEQ", str(seq)),
        ("UIN", str(uin)),
        ("RES", "0"),
    ]


# --- (a) requests ---------------------------------------------------------------------------


@FAST
@given(uin=uins, seq=seqs, target=uins, text=any_text)
def test_message_text_survives_the_request_encoding(
    uin: int, seq: int, target: int, text: str
) -> None:
    pairs = decode_request_pairs(requests.cltmsg(uin, seq, target, text))
    assert pairs == {
        "VER": "1.1",
        "CMD": "CLTMSG",
        "SEQ": str(seq),
        "UIN": str(uin),
        "UN": str(target),
        "MG": text,
    }


@FAST
@given(uin=uins, seq=seqs, target=uins, reason=any_text)
def test_reason_text_survives_the_request_encoding(
    uin: int, seq: int, target: int, reason: str
) -> None:
    body = requests.ack_add_to_list(uin, seq, target, AckCode.REQUEST, reason)
    assert decode_request_pairs(body)["RS"] == reason


@FAST
@given(text=any_text, limit=st.integers(min_value=4, max_value=30))
def test_split_text_pieces_fit_and_join_back(text: str, limit: int) -> None:
    pieces = requests.split_text(text, limit)
    assert "".join(pieces) == text
    assert all(len(piece.encode()) <= limit for piece in pieces)
    assert all(pieces) or pieces == [""]
    for piece in pieces:  # each piece is whole characters, so each survives on its own
        assert decode_request_pairs(requests.cltmsg(1, 1, 2, piece))["MG"] == piece


# --- (b) replies ----------------------------------------------------------------------------

events = st.one_of(
    st.tuples(st.sampled_from([9, 2, 3, 4]), uins, any_text),
    st.tuples(st.just(99), uins, statuses.map(lambda status: str(int(status)))),
)
_EVENT_CLASS: dict[int, Any] = {
    9: TextMessage,
    2: FriendRequest,
    3: RequestAccepted,
    4: RequestRejected,
}


@FAST
@given(seq=seqs, uin=uins, batch=st.lists(events, max_size=6), trailing=st.booleans())
def test_any_messages_survive_get_msg_ex(
    seq: int, uin: int, batch: list[tuple[int, int, str]], trailing: bool
) -> None:
    body = encode_reply(
        [
            *envelope(Command.GET_MSG_EX, seq, uin),
            ("MN", str(len(batch))),
            ("MT", encode_list(kind for kind, _, _ in batch)),
            ("UN", encode_list(sender for _, sender, _ in batch)),
            ("MG", encode_list(text for _, _, text in batch)),
        ],
        trailing_ampersand=trailing,
    )
    expected = [
        StatusChange(sender, Status(int(text))) if kind == 99 else _EVENT_CLASS[kind](sender, text)
        for kind, sender, text in batch
    ]
    assert decode(Command.GET_MSG_EX, body) == expected


@FAST
@given(
    seq=seqs,
    uin=uins,
    friends=st.lists(
        st.tuples(uins, st.integers(min_value=0, max_value=999), statuses, any_text), max_size=6
    ),
)
def test_any_nicknames_survive_query_stat(
    seq: int, uin: int, friends: list[tuple[int, int, Status, str]]
) -> None:
    body = encode_reply(
        [
            *envelope(Command.QUERY_STAT, seq, uin),
            ("FC", encode_list(face for _, face, _, _ in friends)),
            ("FN", "1"),
            ("SN", str(len(friends))),
            ("ST", encode_list(int(status) for _, _, status, _ in friends)),
            ("UN", encode_list(friend for friend, _, _, _ in friends)),
            ("NK", encode_list(nick for _, _, _, nick in friends)),
        ]
    )
    assert decode(Command.QUERY_STAT, body) == OnlineFriends(
        len(friends), [OnlineFriend(*friend) for friend in friends]
    )


PROFILE_TEXT_KEYS = (
    "AD AG BT CO CT CV CY EM FC HP ID JB MO MT MV PC PH PR PV RN SC SH SX NK".split()  # noqa: SIM905
)


@FAST
@given(
    seq=seqs,
    uin=uins,
    target=uins,
    level=st.integers(min_value=0, max_value=5),
    values=st.fixed_dictionaries({key: any_text for key in PROFILE_TEXT_KEYS}),
)
def test_any_profile_text_survives_get_info(
    seq: int, uin: int, target: int, level: int, values: dict[str, str]
) -> None:
    pairs = [("LV", str(level)), ("UN", str(target))]
    pairs += [(key, encode_text(value)) for key, value in values.items()]
    body = encode_reply([*envelope(Command.GET_INFO, seq, uin), *pairs])
    profile = decode(Command.GET_INFO, body)
    assert profile == Profile(
        uin=target,
        nick=values["NK"],
        level=level,
        fields={"LV": str(level), "UN": str(target), **values},
    )
    assert isinstance(profile, Profile)
    assert all(isinstance(label, str) and isinstance(v, str) for label, v in profile.readable())


@FAST
@given(seq=seqs, uin=uins, reason=any_text, hi=st.integers(1, 999), li=st.integers(1, 9999))
def test_any_refusal_reason_survives_login(
    seq: int, uin: int, reason: str, hi: int, li: int
) -> None:
    refused = encode_reply(
        [*envelope(Command.LOGIN, seq, uin), ("RS", "1"), ("RA", encode_text(reason))]
    )
    try:
        decode(Command.LOGIN, refused)
    except LoginRefused as error:
        assert error.reason == reason
    else:
        raise AssertionError("RS=1 must raise LoginRefused")
    accepted = encode_reply(
        [*envelope(Command.LOGIN, seq, uin), ("RS", "0"), ("HI", str(hi)), ("LI", str(li))]
    )
    assert decode(Command.LOGIN, accepted) == LoginOk(hi, li)


# --- (c) and (d): nothing but WireError -----------------------------------------------------

RESULT_TYPES: dict[Command, Any] = {
    Command.LOGIN: LoginOk,
    Command.LIST: FriendList,
    Command.QUERY_STAT: OnlineFriends,
    Command.GET_INFO: Profile,
    Command.ADD_TO_LIST: Added,
    Command.GET_MSG_EX: list,
}
KEYS = "VER CMD SEQ UIN RES RS RA HI LI FN SN UN FC ST NK LV CD MN MT MG PR".split()  # noqa: SIM905
number_lists = st.lists(
    st.tuples(st.integers(-5, 120).map(str), st.sampled_from([",", " ,", ", ", ""])), max_size=4
).map(lambda items: "".join(number + separator for number, separator in items))
fragments = st.one_of(
    st.integers(-5, 120).map(lambda number: str(number).encode()),
    number_lists.map(str.encode),
    st.binary(max_size=12),
    st.text(st.sampled_from(list("0123456789,%- +2cCaA&=\r\n中")), max_size=12).map(str.encode),
    st.sampled_from([b"10", b"99", b"9", b"3", b"20", b"%2c", b"%252c", b"%ff", b"1,2,", b""]),
)
pairs = st.lists(
    st.tuples(st.sampled_from(KEYS).map(str.encode), fragments).map(
        lambda kv: kv[0] + b"=" + kv[1]
    ),
    max_size=10,
)


@st.composite
def reply_like(draw: st.DrawFn, command: Command) -> bytes:
    """Bytes that mostly get past the envelope, so the decoders themselves are exercised."""
    spelling = draw(st.sampled_from([command.reply_spelling, command.value.lower(), "LIST"]))
    res = draw(st.sampled_from([b"0", b" 0", b"3", b"20", b"x", b"", b"7"]))
    head = b"VER=1.1&CMD=" + spelling.encode() + b"&SEQ=1&UIN=2&RES=" + res
    return head + b"&" + b"&".join(draw(pairs))


def check_decode(command: Command, body: bytes) -> None:
    try:
        result = decode(command, body)
    except WireError:
        return
    expected = RESULT_TYPES.get(command)
    if expected is None:
        assert result is None
    else:
        assert isinstance(result, expected)


@FAST
@given(command=st.sampled_from(list(Command)), body=st.binary(max_size=200))
def test_decode_of_arbitrary_bytes_raises_only_wire_errors(command: Command, body: bytes) -> None:
    check_decode(command, body)


@FAST
@given(data=st.data(), command=st.sampled_from(list(Command)))
def test_decode_of_reply_like_bytes_raises_only_wire_errors(
    data: st.DataObject, command: Command
) -> None:
    check_decode(command, data.draw(reply_like(command)))


http_like = st.lists(
    st.one_of(
        st.sampled_from(
            [
                b"HTTP/1.1 200 OK\r\n",
                b"Content-Length: 5\r\n",
                b"Content-Length: -1\r\n",
                b"Content-Length: x\r\n",
                b"content-length:0\r\n",
                b"\r\n",
                b"\r\n\r\n",
            ]
        ),
        st.binary(max_size=10),
    ),
    max_size=12,
).map(b"".join)


@FAST
@given(raw=st.one_of(st.binary(max_size=300), http_like))
def test_split_responses_raises_only_wire_errors(raw: bytes) -> None:
    try:
        bodies = split_responses(raw)
    except WireError:
        return
    assert all(isinstance(body, bytes) for body in bodies)
    assert sum(len(body) for body in bodies) <= len(raw)


@FAST
@given(
    bodies=st.lists(st.binary(max_size=80), min_size=1, max_size=4),
    between=st.sampled_from([b"", b"\r\n"]),
)
def test_split_responses_returns_every_body(bodies: list[bytes], between: bytes) -> None:
    raw = between.join(
        b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body for body in bodies
    )
    assert split_responses(raw) == bodies
