"""The bytes of one exchange with QQ's server (bridge/qq/client/http.py), without I/O."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.qq.client.errors import ReplyTooLarge
from bridge.qq.client.http import MAX_HEAD, BrokenReply, NothingHeard, ReplyReader, request

BODY = b"VER=1.1&CMD=GetMsgEx&SEQ=7&UIN=10001&RES=0&MN=0"
WITH_LENGTH = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(BODY), BODY)
UNTIL_CLOSE = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + BODY
CHUNKED = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nVER=1\r\n0\r\n\r\n"


def read(pieces: list[bytes], limit: int = 1024) -> bytes | None:
    """What the reader returns, fed ``pieces`` in turn (b"" is the end of the connection)."""
    reader = ReplyReader(limit)
    for piece in pieces:
        if (body := reader.feed(piece)) is not None:
            return body
    return None


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({0, len(data), *(cut % (len(data) + 1) for cut in cuts)})
    return [data[a:b] for a, b in itertools.pairwise(points) if data[a:b]]


def test_the_request_is_a_form_post_that_closes_its_connection() -> None:
    sent = request("/", "tqq.tencent.com:8000", b"VER=1.1&CMD=Login")
    head, _, body = sent.partition(b"\r\n\r\n")
    assert head.split(b"\r\n") == [
        b"POST / HTTP/1.1",
        b"Host: tqq.tencent.com:8000",
        b"Content-Type: application/x-www-form-urlencoded",
        b"Connection: close",
        b"Content-Length: 17",
    ]
    assert body == b"VER=1.1&CMD=Login"


@given(st.lists(st.integers(min_value=0), max_size=8))
def test_a_reply_is_read_however_the_connection_cuts_it(cuts: list[int]) -> None:
    assert read(split(WITH_LENGTH, cuts)) == BODY
    assert read([*split(UNTIL_CLOSE, cuts), b""]) == BODY  # ends when the server closes
    assert read(split(CHUNKED, cuts)) == b"VER=1"


def test_only_the_first_of_two_replies_on_one_connection_is_read() -> None:
    # The old server answers Query_Stat with TN=0 twice (seed 000).
    second = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nOTHER"
    assert read([WITH_LENGTH + second]) == BODY


def test_a_connection_closed_without_a_byte_is_nothing_heard() -> None:
    with pytest.raises(NothingHeard):
        read([b""])


@pytest.mark.parametrize(
    ("pieces", "words"),
    [
        ([WITH_LENGTH[:20], b""], "inside the reply's headers"),
        ([WITH_LENGTH[:-5], b""], "after 42 bytes of the body"),
        ([CHUNKED[:-7], b""], "after 5 bytes of the body"),
        ([b"HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n"], "HTTP 500"),
        ([b"garbage\r\n\r\n"], "bad HTTP"),
    ],
)
def test_a_reply_cut_short_failed_or_garbled_is_broken(pieces: list[bytes], words: str) -> None:
    with pytest.raises(BrokenReply, match=words):
        read(pieces)


def test_a_body_announced_longer_than_the_cap_is_refused_from_its_headers() -> None:
    reader = ReplyReader(limit=10)
    with pytest.raises(ReplyTooLarge):
        reader.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n")
    assert reader.size == 0


def test_a_body_without_a_length_is_given_up_one_byte_past_the_cap() -> None:
    reader = ReplyReader(limit=len(BODY))
    assert reader.feed(UNTIL_CLOSE) is None
    with pytest.raises(ReplyTooLarge):
        reader.feed(b"&")
    assert read([UNTIL_CLOSE, b""], limit=len(BODY)) == BODY  # exactly the cap is fine


@pytest.mark.parametrize(
    "head",
    [
        b"HTTP/1.1 200 OK\r\nConnection: close\r\n",
        b"HTTP/1.0 200 OK\r\n",
        b"HTTP/1.0 200 OK\r\nConnection: close\r\n",
    ],
)
def test_the_first_of_two_replies_is_read_even_where_the_first_says_it_is_the_last(
    head: bytes,
) -> None:
    reply = head + b"Content-Length: %d\r\n\r\n%s" % (len(BODY), BODY)
    assert read([reply + reply]) == BODY


@pytest.mark.parametrize(
    "reply",
    [
        b"HTTP/1.1 200 OK\nContent-Length: %d\n\n%s" % (len(BODY), BODY),  # bare LF
        b"HTTP/1.1 200 OK\r\nContent-Length : %d\r\n\r\n%s" % (len(BODY), BODY),
        b"HTTP/1.1 200 OK\r\nServer: a\x01b\r\nContent-Length: %d\r\n\r\n%s" % (len(BODY), BODY),
    ],
)
def test_a_sloppy_but_readable_reply_is_read_as_aiohttps_client_read_it(reply: bytes) -> None:
    assert read([reply]) == BODY


def test_an_endless_head_is_broken_after_max_head_bytes() -> None:
    reader = ReplyReader(limit=1024)
    reader.feed(b"HTTP/1.1 200 OK\r\nX-Endless: ")
    with pytest.raises(BrokenReply, match="headers"):
        for _ in range(MAX_HEAD // 1024 + 1):
            reader.feed(b"a" * 1024)
