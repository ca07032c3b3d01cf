"""split_responses: the double HTTP response of Query_Stat without TN (seed 000)."""

from __future__ import annotations

import pytest

from bridge.qq.wire import MalformedReply
from tests.raw_http import split_responses

FIRST = b"VER=1.1&CMD=QUERY_STAT&SEQ=1234&UIN=123456789&RES=0&FN=1"
SECOND = b"VER=1.1&CMD=QUERY_STAT&SEQ=1234&UIN=123456789&RES=0&FC=&FN=1&SN=0&ST=&UN=&NK="


def response(body: bytes, length: int | None = None, name: bytes = b"Content-Length") -> bytes:
    """One response as seed 000 shows it, with the CR LF the page's layout dropped."""
    head = b"HTTP/1.1 200 OK\r\nServer: tencent imserver/1.0.0\r\n"
    head += b"Content-Type: text/plain; charset=UTF-8\r\n"
    head += name + b": " + str(len(body) if length is None else length).encode() + b"\r\n"
    return head + b"\r\n" + body


def test_the_seeds_lengths_fit_their_bodies() -> None:
    # Seed 000 prints Content-Length 56 and 77 for these bodies with a 4-digit SEQ and a
    # 9-digit UIN; the codec relies on the length, not on any separator.
    assert (len(FIRST), len(SECOND)) == (56, 77)


@pytest.mark.parametrize("between", [b"", b"\r\n", b"\r\n\r\n", b"\n"])
def test_two_responses_on_one_connection(between: bytes) -> None:
    raw = response(FIRST) + between + response(SECOND)
    assert split_responses(raw) == [FIRST, SECOND]


def test_one_response_and_trailing_line_ends() -> None:
    assert split_responses(response(FIRST)) == [FIRST]
    assert split_responses(response(FIRST) + b"\r\n") == [FIRST]
    assert split_responses(b"") == []
    assert split_responses(b"\r\n") == []


def test_body_runs_to_the_end_without_a_content_length() -> None:
    raw = b"HTTP/1.0 200 OK\r\nServer: x\r\n\r\n" + FIRST + b"\r\nHTTP/1.1 200 OK"
    assert split_responses(raw) == [FIRST + b"\r\nHTTP/1.1 200 OK"]


def test_header_names_ignore_case_and_bodies_may_be_empty() -> None:
    raw = response(b"", name=b"content-length") + response(FIRST, name=b"CONTENT-LENGTH")
    assert split_responses(raw) == [b"", FIRST]


def test_a_body_with_a_blank_line_inside_is_kept_whole() -> None:
    body = b"A=1\r\n\r\nHTTP/1.1 200 OK\r\n\r\n"
    assert split_responses(response(body) + response(FIRST)) == [body, FIRST]


@pytest.mark.parametrize(
    "raw",
    [
        FIRST,  # a body without any HTTP around it
        b"HTTP/1.1 200 OK\r\nContent-Length: 3",  # no blank line after the headers
        b"VER=1.1\r\n\r\nbody",  # no status line
        response(FIRST, length=-5),
        response(FIRST, length=10**30),
        response(FIRST) + b"garbage",
    ],
)
def test_what_is_not_http_is_malformed(raw: bytes) -> None:
    with pytest.raises(MalformedReply):
        split_responses(raw)


@pytest.mark.parametrize("value", [b"abc", b"", b"5 5", b"\xb2", b"0x10"])
def test_a_bad_content_length_is_malformed(value: bytes) -> None:
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: " + value + b"\r\n\r\n" + FIRST
    with pytest.raises(MalformedReply, match="Content-Length"):
        split_responses(raw)


def test_a_body_cut_short_is_malformed() -> None:
    with pytest.raises(MalformedReply, match="cut short"):
        split_responses(response(FIRST, length=len(FIRST) + 1))
    with pytest.raises(MalformedReply, match="cut short"):
        split_responses(response(FIRST) + response(SECOND)[:-1])
