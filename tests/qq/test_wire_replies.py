"""Reply decoding beyond the seeds' examples: the envelope, bad shapes, codes and tables."""

from __future__ import annotations

import pytest

from bridge.qq.codes import (
    BLOOD_TYPES,
    CONSTELLATIONS,
    SEXES,
    ZODIAC,
    AddResult,
    Command,
    Status,
)
from bridge.qq.wire import (
    InvalidUin,
    LoginRefused,
    MalformedReply,
    NoReply,
    NotLoggedIn,
    Penalty,
    ServerRefused,
    WireError,
)
from bridge.qq.wire.replies import (
    Added,
    EventsDropped,
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
    UnknownEvent,
    decode_get_msg_ex,
    parse_envelope,
)

from .decoding import decode


def reply(cmd: str, tail: str, res: str = "0") -> bytes:
    return f"VER=1.1&CMD={cmd}&SEQ=4321&UIN=29501213&RES={res}{tail}".encode()


def messages(tail: str) -> object:
    return decode(Command.GET_MSG_EX, reply("GETMSGEX", tail))


# --- envelope -------------------------------------------------------------------------------


@pytest.mark.parametrize("cmd", ["LOGIN", "Login", "login", "lOgIn", " LOGIN "])
def test_cmd_echo_is_case_insensitive(cmd: str) -> None:
    assert decode(Command.LOGIN, reply(cmd, "&RS=0&HI=60&LI=300")) == LoginOk(60, 300)


@pytest.mark.parametrize("command", list(Command))
def test_every_reply_spelling_is_understood(command: Command) -> None:
    assert Command.parse(command.reply_spelling) is command
    assert Command.parse(command.value.upper()) is command
    assert Command.parse(command.value.lower()) is command


def test_a_reply_for_another_command_is_malformed() -> None:
    with pytest.raises(MalformedReply, match="is for List, not Query_Stat"):
        decode(Command.QUERY_STAT, reply("LIST", "&FN=9"))


@pytest.mark.parametrize(
    "body", [b"VER=1.1&SEQ=1&UIN=2&RES=0", b"VER=1.1&CMD=Hello&RES=0", b"garbage", b"\x00"]
)
def test_a_reply_naming_no_known_command_is_malformed(body: bytes) -> None:
    with pytest.raises(MalformedReply, match="no known command"):
        decode(Command.LOGOUT, body)


@pytest.mark.parametrize("body", [b"VER=1.1&CMD=LOGOUT&SEQ=1&UIN=2", b"CMD=LOGOUT&RES=&"])
def test_missing_res_is_malformed(body: bytes) -> None:
    with pytest.raises(MalformedReply, match="RES"):
        decode(Command.LOGOUT, body)


def test_non_numeric_res_is_malformed() -> None:
    with pytest.raises(MalformedReply, match="RES is not a number"):
        decode(Command.LOGOUT, reply("LOGOUT", "", res="ok"))


@pytest.mark.parametrize("body", [b"", b"\r\n", b"  "])
def test_an_empty_body_is_no_reply(body: bytes) -> None:
    with pytest.raises(NoReply):
        decode(Command.GET_MSG_EX, body)


@pytest.mark.parametrize(
    ("res", "error"),
    [("3", Penalty), ("5", InvalidUin), ("20", NotLoggedIn), (" 20 ", NotLoggedIn)],
)
def test_res_codes(res: str, error: type[ServerRefused]) -> None:
    with pytest.raises(error) as raised:
        decode(Command.CLTMSG, reply("CLTMSG", "", res=res))
    assert raised.value.res == int(res)


def test_an_unknown_res_is_a_plain_refusal() -> None:
    with pytest.raises(ServerRefused) as raised:
        decode(Command.CLTMSG, reply("CLTMSG", "", res="7"))
    assert type(raised.value) is ServerRefused
    assert raised.value.res == 7


def test_envelope_keeps_seq_and_uin_as_text() -> None:
    envelope = parse_envelope(Command.QUERY_STAT, reply("QUERY_STAT", "&FN=1"))
    assert (envelope.seq, envelope.uin, envelope.res) == ("4321", "29501213", 0)
    # Seed 003: the server echoed SEQ=-1, so callers must not match replies on SEQ.
    envelope = parse_envelope(Command.QUERY_STAT, b"CMD=QUERY_STAT&SEQ=-1&RES=0&FN=1")
    assert envelope.seq == "-1"
    assert parse_envelope(Command.LOGOUT, b"CMD=LOGOUT&RES=0").uin == ""


@pytest.mark.parametrize(
    "command", [Command.ACK_ADD_TO_LIST, Command.DEL_FROM_LIST, Command.CHANGE_STAT]
)
def test_commands_that_only_say_res_return_none(command: Command) -> None:
    assert decode(command, reply(command.reply_spelling, "&")) is None


# --- Login ----------------------------------------------------------------------------------


def test_login_defaults_and_refusals() -> None:
    assert decode(Command.LOGIN, reply("LOGIN", "")) == LoginOk(60, 300)
    assert decode(Command.LOGIN, reply("LOGIN", "&RS=0&HI=30&LI=120")) == LoginOk(30, 120)
    with pytest.raises(LoginRefused) as raised:
        decode(Command.LOGIN, reply("LOGIN", "&RS=1&RA=wrong%252c password%0d%0a"))
    assert raised.value.reason == "wrong, password\r\n"
    with pytest.raises(LoginRefused) as raised:
        decode(Command.LOGIN, reply("LOGIN", "&RS=2"))
    assert raised.value.reason == ""
    assert "no reason given" in str(raised.value)


@pytest.mark.parametrize("tail", ["&RS=x", "&RS=0&HI=sixty", "&RS=0&LI=", "&RS=0&HI=１２"])
def test_login_non_numbers_are_malformed(tail: str) -> None:
    with pytest.raises(MalformedReply):
        decode(Command.LOGIN, reply("LOGIN", tail))


# --- List and Query_Stat --------------------------------------------------------------------


def test_list_with_and_without_tn() -> None:
    assert decode(Command.LIST, reply("LIST", "&FN=9")) == FriendList(9)
    assert decode(Command.LIST, reply("LIST", "&FN=1&SN=2&UN=10001,10002,")) == FriendList(
        2, [10001, 10002]
    )
    assert decode(Command.LIST, reply("LIST", "&FN=1&SN=0&UN=")) == FriendList(0, [])


@pytest.mark.parametrize(
    "tail", ["", "&FN=nine", "&FN=1&SN=x&UN=1,", "&FN=1&SN=9&UN=3814526,...,", "&SN=1&UN=1 2,"]
)
def test_list_non_numbers_are_malformed(tail: str) -> None:
    # "...," is the seeds' elision left in; "1 2" is two numbers run together.
    with pytest.raises(MalformedReply):
        decode(Command.LIST, reply("LIST", tail))


def test_query_stat_strips_numbers_and_keeps_nicks() -> None:
    body = reply("QUERY_STAT", "&FC=270 , 3,&FN=1&SN=2&ST= 10,30 ,&UN=1 ,2,&NK= a ,%252c,")
    assert decode(Command.QUERY_STAT, body) == OnlineFriends(
        2, [OnlineFriend(1, 270, Status.ONLINE, " a "), OnlineFriend(2, 3, Status.BUSY, ",")]
    )


@pytest.mark.parametrize(
    "tail",
    [
        "&FC=0,0,&SN=2&ST=10,10,&UN=1,2,&NK=a,",  # a nickname missing
        "&FC=0,&SN=1&ST=10,&UN=1,&NK=a,b,",  # an unescaped comma in a nickname
        "&FC=0,&SN=1&ST=15,&UN=1,&NK=a,",  # ST 15 is no status
        "&FC=0,&SN=1&ST=online,&UN=1,&NK=a,",
        "&FC=0,&SN=1&ST=10,&UN=x,&NK=a,",
        "&FN=x",
    ],
)
def test_query_stat_bad_shapes_are_malformed(tail: str) -> None:
    with pytest.raises(MalformedReply):
        decode(Command.QUERY_STAT, reply("QUERY_STAT", tail))


# --- GetMsgEx -------------------------------------------------------------------------------


def test_get_msg_ex_every_message_type() -> None:
    tail = "&MN=7&MT=9,99,2,3,4,99,5,&UN=1,2,3,4,5,6,7,&MG=hi,40,let me in,,no%252c sorry,15,?,"
    assert messages(tail) == [
        TextMessage(1, "hi"),
        StatusChange(2, Status.INVISIBLE),
        FriendRequest(3, "let me in"),
        RequestAccepted(4, ""),
        RequestRejected(5, "no, sorry"),
        UnknownEvent(99, 6, "15"),  # MT 99 with a number that is no status: kept, not dropped
        UnknownEvent(5, 7, "?"),  # an MT no seed documents
    ]


def test_the_decoder_keeps_every_event_and_never_reports_a_drop() -> None:
    # Bounding a batch is the client's business (client/bounds.py): the codec hands over all.
    count = 2000
    numbers = ",".join(str(10000 + n) for n in range(count))
    tail = f"&MN={count}&MT={'9,' * count}&UN={numbers},&MG={'x,' * count}"
    events = decode_get_msg_ex(parse_envelope(Command.GET_MSG_EX, reply("GETMSGEX", tail)))
    assert len(events) == count
    assert not any(isinstance(event, EventsDropped) for event in events)


def test_events_dropped_is_a_frozen_value() -> None:
    report = EventsDropped(count=3, senders=2)
    assert report == EventsDropped(3, 2)
    with pytest.raises(AttributeError):
        report.count = 4  # type: ignore[misc]


def test_get_msg_ex_as_seed_004_prints_it() -> None:
    # Seed 004 with the blog's spaces left in: numbers are stripped, text is kept exact.
    tail = "& MN=4&MT=99,99,99,9,&UN=36791785,99833581,99833581,106814,&MG= 20,30,10,hi ,"
    assert messages(tail) == [
        StatusChange(36791785, Status.OFFLINE),
        StatusChange(99833581, Status.BUSY),
        StatusChange(99833581, Status.ONLINE),
        TextMessage(106814, "hi "),
    ]


def test_get_msg_ex_text_keeps_its_escapes_and_spaces() -> None:
    assert messages("&MT=9,&UN=1,&MG= a%252cb %2525 %26 = %0d%0a ,") == [
        TextMessage(1, " a,b % & = \r\n ")
    ]


def test_get_msg_ex_replaces_bytes_that_are_not_utf8() -> None:
    body = reply("GETMSGEX", "&MT=9,9,&UN=1,2,&MG=") + b"ok\xff\xfe,fine,"
    assert decode(Command.GET_MSG_EX, body) == [
        TextMessage(1, "ok\ufffd\ufffd"),
        TextMessage(2, "fine"),
    ]


def test_get_msg_ex_empty_and_absent_lists() -> None:
    assert messages("&MN=0&MT=&UN=&MG=") == []
    assert messages("&MN=0") == []


@pytest.mark.parametrize(
    "tail",
    [
        # A server that does not escape a comma in a text: three MG items for two messages.
        "&MT=9,9,&UN=1,2,&MG=hello, world,bye,",
        "&MT=9,&UN=1,2,&MG=a,",
        "&MT=9,9,&UN=1,2,&MG=a,",
        "&MT=9,&UN=1,",
    ],
)
def test_get_msg_ex_mismatched_lists_are_malformed(tail: str) -> None:
    with pytest.raises(MalformedReply, match="differ in length"):
        messages(tail)


@pytest.mark.parametrize("tail", ["&MT=text,&UN=1,&MG=a,", "&MT=9,&UN=one,&MG=a,"])
def test_get_msg_ex_non_numbers_are_malformed(tail: str) -> None:
    with pytest.raises(MalformedReply, match="not a number"):
        messages(tail)


# --- AddToList ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cd", "result"),
    [
        ("0", AddResult.ADDED),
        ("1", AddResult.NEEDS_VERIFICATION),
        ("2", AddResult.REFUSED),  # seeds 000/004
        ("3", AddResult.REFUSED),  # seed 003
        ("9", AddResult.REFUSED),
        (" 1 ", AddResult.NEEDS_VERIFICATION),
    ],
)
def test_add_to_list_codes(cd: str, result: AddResult) -> None:
    added = decode(Command.ADD_TO_LIST, reply("AddToList", f"&CD={cd}&UN=106814"))
    assert added == Added(106814, result)
    assert isinstance(added, Added) and type(added.result) is AddResult


@pytest.mark.parametrize("tail", ["&UN=1", "&CD=x&UN=1", "&CD=-1&UN=1", "&CD=0", "&CD=0&UN=x"])
def test_add_to_list_bad_shapes_are_malformed(tail: str) -> None:
    with pytest.raises(MalformedReply):
        decode(Command.ADD_TO_LIST, reply("AddToList", tail))


# --- GetInfo and the code tables ---------------------------------------------------------


def profile(tail: str) -> Profile:
    result = decode(Command.GET_INFO, reply("GETINFO", tail))
    assert isinstance(result, Profile)
    return result


def rows(tail: str) -> dict[str, str]:
    return dict(profile("&UN=1&NK=n" + tail).readable())


def test_get_info_needs_a_number() -> None:
    for tail in ["&NK=x", "&UN=x&NK=x", "&UN=1&LV=x"]:
        with pytest.raises(MalformedReply):
            profile(tail)
    assert profile("&UN=1").level == 0  # LV absent: brief
    assert profile("&UN=1").nick == ""


def test_get_info_fields_are_decoded_and_envelope_free() -> None:
    result = profile("&UN=5&LV=2&NK=a%252cb&PR=x%0d%0ay&ZZ=new")
    assert result.fields == {"UN": "5", "LV": "2", "NK": "a,b", "PR": "x\r\ny", "ZZ": "new"}
    assert (result.uin, result.level, result.nick) == (5, 2, "a,b")


def test_face() -> None:
    assert profile("&UN=1&FC=270").face == 270  # seed 000: image 270 // 3 + 1 = 91.bmp
    assert profile("&UN=1&FC= 3 ").face == 3
    assert profile("&UN=1").face is None
    assert profile("&UN=1&FC=x").face is None


# Seed 004's tables, in the order it lists them (1 => 'A型', …).
SEED_BLOOD = ["A", "B", "O", "AB", "other"]
SEED_CONSTELLATIONS = [
    "Aquarius", "Pisces", "Aries", "Taurus", "Gemini", "Cancer",
    "Leo", "Virgo", "Libra", "Scorpio", "Sagittarius", "Capricorn",
]  # fmt: skip
SEED_ZODIAC = [
    "Rat", "Ox", "Tiger", "Rabbit", "Dragon", "Snake",
    "Horse", "Goat", "Monkey", "Rooster", "Dog", "Pig",
]  # fmt: skip


@pytest.mark.parametrize(
    ("key", "label", "names"),
    [
        ("BT", "Blood type", SEED_BLOOD),
        ("CO", "Constellation", SEED_CONSTELLATIONS),
        ("SH", "Zodiac", SEED_ZODIAC),
    ],
)
def test_code_tables(key: str, label: str, names: list[str]) -> None:
    for code, name in enumerate(names, start=1):
        assert rows(f"&{key}={code}")[label] == name
    assert label not in rows(f"&{key}=0")  # 0 => '' : nothing to show
    assert label not in rows(f"&{key}=")
    assert rows(f"&{key}={len(names) + 1}")[label] == f"unknown ({len(names) + 1})"
    assert rows(f"&{key}=x")[label] == "x"


def test_code_tables_match_the_seed() -> None:
    assert [BLOOD_TYPES[code] for code in range(1, 6)] == SEED_BLOOD
    assert [CONSTELLATIONS[code] for code in range(1, 13)] == SEED_CONSTELLATIONS
    assert [ZODIAC[code] for code in range(1, 13)] == SEED_ZODIAC
    assert BLOOD_TYPES[0] == CONSTELLATIONS[0] == ZODIAC[0] == ""
    assert SEXES == {0: "male", 1: "female"}


def test_sex() -> None:
    assert rows("&SX=0")["Sex"] == "male"
    assert rows("&SX=1")["Sex"] == "female"
    assert rows("&SX=2")["Sex"] == "unknown (2)"


def test_readable_order_and_plain_fields() -> None:
    readable = profile("&UN=7&NK=n&PR=about&RN=real&AG=19&CV=%01&ID=-").readable()
    assert readable == [
        ("QQ", "7"),
        ("Nickname", "n"),
        ("Real name", "real"),
        ("Age", "19"),
        ("About", "about"),
    ]  # CV, ID, MT and MV mean nothing known (seed 004: "未知"), so they are not shown


def test_wire_errors_share_a_base() -> None:
    for error in (Penalty(), InvalidUin(), NotLoggedIn(), LoginRefused("x")):
        assert isinstance(error, ServerRefused) and isinstance(error, WireError)
