"""The two escaping models of bridge.qq.wire.fields, one value at a time."""

from __future__ import annotations

import pytest

from bridge.qq.wire.fields import (
    MalformedReply,
    NoReply,
    WireError,
    decode_request_pairs,
    decode_text,
    encode_list,
    encode_pairs,
    encode_reply,
    encode_text,
    parse_int,
    parse_reply_pairs,
    split_list,
)

# --- requests: percent-encoded UTF-8 ------------------------------------------------------


def test_encode_pairs_percent_encodes_every_value() -> None:
    assert encode_pairs({"A": "x y", "B": 5, "C": ""}) == b"A=x%20y&B=5&C="


@pytest.mark.parametrize(
    ("text", "wire"),
    [
        ("&", b"%26"),
        ("=", b"%3D"),
        ("+", b"%2B"),
        ("%", b"%25"),
        (",", b"%2C"),
        ("\r\n", b"%0D%0A"),
        ("/?#", b"%2F%3F%23"),
        ("中", b"%E4%B8%AD"),
        ("😀", b"%F0%9F%98%80"),
        ("a-b_c.d~e", b"a-b_c.d~e"),
    ],
)
def test_encode_pairs_escapes(text: str, wire: bytes) -> None:
    assert encode_pairs({"MG": text}) == b"MG=" + wire
    assert decode_request_pairs(b"MG=" + wire) == {"MG": text}


def test_decode_request_pairs_reads_what_old_clients_send() -> None:
    # PHP's urlencode (seed 003's client) writes a space as "+"; seed 000's probe sends raw.
    assert decode_request_pairs(b"MG=hello+world%21") == {"MG": "hello world!"}
    assert decode_request_pairs("UN=106814&MG=你好 h".encode()) == {"UN": "106814", "MG": "你好 h"}


def test_decode_request_pairs_keys_and_shape() -> None:
    pairs = decode_request_pairs(b"ver=1.1& cmd =Login&SEQ=1&SEQ=2&junk&UIN=5&")
    assert pairs == {"VER": "1.1", "CMD": "Login", "SEQ": "2", "UIN": "5"}
    assert decode_request_pairs(b"") == {}


@pytest.mark.parametrize("body", [b"MG=\xff\xfe", b"MG=%FF%FE", b"RS=%E4%B8"])
def test_decode_request_pairs_refuses_text_that_is_not_utf8(body: bytes) -> None:
    # Seed 004: "MG含非UTF-8字符" and "RS为非UTF-8字符" get NULL from the server.
    with pytest.raises(UnicodeDecodeError):
        decode_request_pairs(body)


# --- replies: raw UTF-8, item layer and value layer ---------------------------------------


@pytest.mark.parametrize(
    ("text", "wire"),
    [
        (",", "%252c"),
        ("%", "%2525"),
        ("&", "%26"),
        ("\r", "%0d"),
        ("\n", "%0a"),
        ("=", "="),
        ("+", "+"),
        (" a b ", " a b "),
        ("微程", "微程"),
        ("%2c", "%25252c"),
    ],
)
def test_encode_text_layers(text: str, wire: str) -> None:
    assert encode_text(text) == wire


def test_encode_text_matches_seed_003() -> None:
    # Seed 003, the GetInfo PR= example: commas twice escaped, CR LF once.
    about = "网络为媒,关系为本,信息为财,客户为主.\r\n"
    assert encode_text(about) == "网络为媒%252c关系为本%252c信息为财%252c客户为主.%0d%0a"


def test_encode_list_and_reply() -> None:
    assert encode_list([]) == ""
    assert encode_list([10, 20]) == "10,20,"
    assert encode_list(["a,b", "c&d"]) == "a%252cb,c%26d,"
    assert encode_reply([("RES", "0"), ("MG", "x")]) == b"RES=0&MG=x"
    assert encode_reply([("RES", "0")], trailing_ampersand=True) == b"RES=0&"


def test_parse_reply_pairs_undoes_the_value_layer_only() -> None:
    pairs = parse_reply_pairs(b"res=0& mn =1&MG=a%252cb%0d%0a,c%26d,\r\n")
    assert pairs == {"RES": "0", "MN": "1", "MG": "a%2cb\r\n,c&d,"}
    assert split_list(pairs["MG"]) == ["a,b\r\n", "c&d"]


def test_parse_reply_pairs_replaces_bytes_that_are_not_utf8() -> None:
    assert parse_reply_pairs(b"MG=ok\xff,") == {"MG": "ok\ufffd,"}


def test_parse_reply_pairs_later_keys_win_and_junk_is_skipped() -> None:
    assert parse_reply_pairs(b"A=1&A=2&junk&=x") == {"A": "2", "": "x"}


@pytest.mark.parametrize(
    ("value", "items"),
    [
        ("", []),
        (",", [""]),
        ("a", ["a"]),
        ("a,", ["a"]),
        ("a,b", ["a", "b"]),
        ("a,,", ["a", ""]),
        ("30 ,x ,", ["30 ", "x "]),
        ("%2c,%25,", [",", "%"]),
    ],
)
def test_split_list(value: str, items: list[str]) -> None:
    assert split_list(value) == items


def test_decode_text_undoes_the_item_layer() -> None:
    assert decode_text("a%2cb%25c") == "a,b%c"
    assert decode_text("100%") == "100%"  # a stray % is kept, not an error


# --- numbers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "number"), [("30", 30), (" 30 ", 30), ("30 ", 30), ("-1", -1), ("007", 7)]
)
def test_parse_int_strips_stray_spaces(value: str, number: int) -> None:
    assert parse_int(value, "MG") == number


@pytest.mark.parametrize("value", ["", " ", "abc", "3 0", "1.5", "1_0", "１２", "١٢", "0x1f"])
def test_parse_int_refuses_what_is_not_an_ascii_number(value: str) -> None:
    with pytest.raises(MalformedReply, match="MG is not"):
        parse_int(value, "MG", "body")


def test_parse_int_refuses_missing_and_huge_numbers() -> None:
    with pytest.raises(MalformedReply, match="missing RES"):
        parse_int(None, "RES")
    with pytest.raises(MalformedReply):
        parse_int("9" * 5000, "UN")


def test_errors_are_wire_errors_and_keep_the_body() -> None:
    error = MalformedReply("bad", "x" * 500)
    assert isinstance(error, WireError)
    assert error.body == "x" * 500
    assert len(str(error)) < 300
    assert isinstance(NoReply(), WireError)
