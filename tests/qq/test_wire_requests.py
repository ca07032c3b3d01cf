"""Request bodies, the password hash and message splitting (bridge.qq.wire.requests)."""

from __future__ import annotations

import re

import pytest

from bridge.qq.codes import LOGIN_CONSTANT, AckCode, Command, InfoLevel, Status
from bridge.qq.wire import requests
from bridge.qq.wire.fields import decode_request_pairs

MD5 = "5f4dcc3b5aa765d61d8327deb882cf99"  # md5("password")
HEAD = "VER=1.1&CMD={}&SEQ=4321&UIN=29501213"


@pytest.mark.parametrize(
    ("body", "tail"),
    [
        (requests.login(29501213, 4321, MD5), f"&PS={MD5}&M5=1&LC=9326B87B234E7235"),
        (requests.list_friends(29501213, 4321), "&TN=160&UN=0"),
        (requests.list_friends(29501213, 4321, tn=0), "&TN=0&UN=0"),
        (requests.query_stat(29501213, 4321), "&TN=50&UN=0"),
        (requests.get_info(29501213, 4321, 106814), "&LV=3&UN=106814"),
        (requests.get_info(29501213, 4321, 106814, InfoLevel.BRIEF), "&LV=0&UN=106814"),
        (requests.add_to_list(29501213, 4321, 106814), "&UN=106814"),
        (
            requests.ack_add_to_list(29501213, 4321, 106814, AckCode.REQUEST, "TEST"),
            "&UN=106814&CD=2&RS=TEST",
        ),
        (requests.ack_add_to_list(29501213, 4321, 106814, AckCode.ACCEPT), "&UN=106814&CD=0&RS="),
        (requests.del_from_list(29501213, 4321, 106814), "&UN=106814"),
        (requests.change_stat(29501213, 4321, Status.BUSY), "&ST=30"),
        (requests.change_stat(29501213, 4321, Status.INVISIBLE), "&ST=40"),
        (requests.get_msg_ex(29501213, 4321), ""),
        (requests.cltmsg(29501213, 4321, 106814, "TEST"), "&UN=106814&MG=TEST"),
        (requests.logout(29501213, 4321), ""),
    ],
)
def test_simple_requests_are_exact(body: bytes, tail: str) -> None:
    command = decode_request_pairs(body)["CMD"]
    assert body == (HEAD.format(command) + tail).encode()


def test_every_command_has_a_builder_spelling_it_as_the_seeds_do() -> None:
    built = {
        decode_request_pairs(body)["CMD"]
        for body in (
            requests.login(1, 1, MD5),
            requests.list_friends(1, 1),
            requests.query_stat(1, 1),
            requests.get_info(1, 1, 2),
            requests.add_to_list(1, 1, 2),
            requests.ack_add_to_list(1, 1, 2, AckCode.REJECT),
            requests.del_from_list(1, 1, 2),
            requests.change_stat(1, 1, Status.ONLINE),
            requests.get_msg_ex(1, 1),
            requests.cltmsg(1, 1, 2, "x"),
            requests.logout(1, 1),
        )
    }
    # Seed 000/004's list: Login、List、Query_Stat、GetInfo、AddToList、Ack_AddToList、
    # DelFromList、Change_Stat、GetMsgEx、CLTMSG、Logout.
    assert built == {command.value for command in Command}
    assert built == {
        "Login", "List", "Query_Stat", "GetInfo", "AddToList", "Ack_AddToList",
        "DelFromList", "Change_Stat", "GetMsgEx", "CLTMSG", "Logout",
    }  # fmt: skip


NASTY = [
    "a&UN=1",
    "x=y",
    "1+1=2",
    "100%",
    "%41",
    "a,b,c,",
    "line\r\nline\nline\r",
    "你好,世界&再见",
    "鶹鸑 □",
    "emoji 😀👍🏽",
    " leading and trailing ",
    "",
]


@pytest.mark.parametrize("text", NASTY)
def test_message_text_survives(text: str) -> None:
    pairs = decode_request_pairs(requests.cltmsg(29501213, 4321, 106814, text))
    assert pairs["MG"] == text
    assert pairs["UN"] == "106814"
    assert set(pairs) == {"VER", "CMD", "SEQ", "UIN", "UN", "MG"}


@pytest.mark.parametrize("text", NASTY)
def test_reason_text_survives(text: str) -> None:
    body = requests.ack_add_to_list(29501213, 4321, 106814, AckCode.REQUEST, text)
    pairs = decode_request_pairs(body)
    assert pairs["RS"] == text
    assert pairs["CD"] == "2"


def test_request_bodies_are_ascii() -> None:
    body = requests.cltmsg(1, 2, 3, "你好 😀\r\n")
    assert body.isascii()
    assert b" " not in body and b"\r" not in body and b"\n" not in body


# --- password -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "digest"),
    [
        ("", "d41d8cd98f00b204e9800998ecf8427e"),
        ("password", MD5),
        ("密码", "a8105204604a0b11e916f3879aae3b0b"),  # md5 of the UTF-8 bytes
    ],
)
def test_password_md5(password: str, digest: str) -> None:
    assert requests.password_md5(password) == digest
    assert re.fullmatch(r"[0-9a-f]{32}", requests.password_md5(password))


def test_password_md5_hashes_utf8_not_gbk() -> None:
    import hashlib

    gbk = hashlib.md5("密码".encode("gbk")).hexdigest()
    assert requests.password_md5("密码") != gbk


def test_login_carries_the_constant_and_the_hash() -> None:
    pairs = decode_request_pairs(requests.login(100001, 7, requests.password_md5("password")))
    assert pairs["PS"] == MD5
    assert pairs["M5"] == "1"
    assert pairs["LC"] == LOGIN_CONSTANT == "9326B87B234E7235"


# --- split_text -------------------------------------------------------------------------------


def sizes(pieces: list[str]) -> list[int]:
    return [len(piece.encode()) for piece in pieces]


def test_limit_is_700_bytes() -> None:
    assert requests.MESSAGE_LIMIT == 700


@pytest.mark.parametrize("text", ["", "hi", "a" * 700, "中" * 233, "😀" * 175])
def test_short_text_is_one_piece(text: str) -> None:
    assert requests.split_text(text) == [text]


def test_empty_text_is_one_empty_piece() -> None:
    assert requests.split_text("") == [""]


def test_split_without_whitespace_fills_each_piece() -> None:
    assert sizes(requests.split_text("a" * 1500)) == [700, 700, 100]


def test_split_never_cuts_a_three_byte_character() -> None:
    pieces = requests.split_text("中" * 500)
    assert sizes(pieces) == [699, 699, 102]
    assert "".join(pieces) == "中" * 500


def test_split_never_cuts_a_four_byte_character() -> None:
    text = "a" + "😀" * 400  # the emoji sit at odd offsets, so a byte cut would land inside one
    pieces = requests.split_text(text)
    assert all(size <= 700 for size in sizes(pieces))
    assert sizes(pieces) == [697, 700, 204]
    assert "".join(pieces) == text


def test_split_prefers_a_space() -> None:
    text = "word " * 300
    pieces = requests.split_text(text)
    assert "".join(pieces) == text
    assert all(piece.endswith(" ") for piece in pieces)
    assert all(size <= 700 for size in sizes(pieces))
    assert sizes(pieces)[0] == 700


def test_split_prefers_a_newline() -> None:
    line = "x" * 99 + "\n"
    text = line * 10
    pieces = requests.split_text(text)
    assert pieces == [line * 7, line * 3]


def test_split_ignores_whitespace_too_early_in_the_piece() -> None:
    text = "ab " + "c" * 1000
    pieces = requests.split_text(text)
    assert sizes(pieces) == [700, 303]  # cutting after "ab " would waste the piece


def test_split_with_a_small_limit() -> None:
    assert requests.split_text("ab cd ef", limit=4) == ["ab ", "cd ", "ef"]
    assert requests.split_text("😀😀", limit=4) == ["😀", "😀"]
    with pytest.raises(ValueError):
        requests.split_text("abc", limit=3)
