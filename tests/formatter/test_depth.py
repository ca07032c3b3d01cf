"""HTML of any depth and width Synapse accepts converts, and its text survives.

Synapse refuses events whose JSON is over 64 KiB, so each pathological input here is the
largest (or, for 10,000 deep, one) that fits in an event of that size, checked with
:func:`event_size`. Timings are measured in the report, not asserted here.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import Any

import pytest

from bridge.formatter import Outgoing, html_to_text, matrix_to_qq
from bridge.formatter.html import DEPTH_LIMIT

from .events import from_event, text

MAX_EVENT_SIZE = 65536  # Synapse's limit on an event's canonical JSON, in bytes


def event_size(content: dict[str, Any]) -> int:
    """The size of an m.room.message event with this content as a homeserver stores it
    (canonical JSON with the envelope of a current room version: ids, hashes, signatures)."""
    pdu = {
        "auth_events": ["$" + "a" * 43] * 4,
        "content": content,
        "depth": 123456,
        "hashes": {"sha256": "h" * 43},
        "origin_server_ts": 1_700_000_000_000,
        "prev_events": ["$" + "p" * 43],
        "room_id": "!abcdefghijklmnopqr:example.org",
        "sender": "@bob:example.org",
        "signatures": {"example.org": {"ed25519:a_abcd": "s" * 86}},
        "type": "m.room.message",
        "unsigned": {"age_ts": 1_700_000_000_000},
    }
    encoded = json.dumps(pdu, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return len(encoded.encode())


def fits(html: str) -> bool:
    return event_size(text("x", html)) <= MAX_EVENT_SIZE


def largest(make: Callable[[int], str], cap: int = 100_000) -> int:
    """The largest n (up to ``cap``) for which ``make(n)`` fits in an event."""
    low, high = 0, cap
    while low < high:
        middle = (low + high + 1) // 2
        if fits(make(middle)):
            low = middle
        else:
            high = middle - 1
    return low


def digits(n: int) -> str:
    return "".join(str(i % 10) for i in range(n))


def digits_in(rendered: str) -> str:
    """What is left of the text once the formatting (markers, bullets, quote marks) is gone."""
    return re.sub(r"[^0-9]", "", rendered)


@pytest.mark.parametrize("tag", ["b", "i", "q"])
async def test_10000_deep_unclosed_keeps_every_level_s_text(tag: str) -> None:
    # Never closed, the tags all nest: 10,000 deep in 40 KB.
    html = "".join(f"<{tag}>{d}" for d in digits(10_000))
    assert fits(html)
    assert digits_in(await html_to_text(html)) == digits(10_000)


async def test_deepest_closed_b_that_fits() -> None:
    n = largest(lambda n: "<b>" * n + "x" + "</b>" * n)
    assert n > 9000
    rendered = await html_to_text("<b>" * n + "x" + "</b>" * n)
    # Bold down to the limit, bare text below it.
    assert rendered == "*" * DEPTH_LIMIT + "x" + "*" * DEPTH_LIMIT


async def test_deepest_closed_q_with_text_at_every_level() -> None:
    def make(n: int) -> str:
        return "".join(f"<q>{d}" for d in digits(n)) + "</q>" * n

    # 10,000 closed single-letter tags are 70 KB: more than any event can hold.
    assert not fits("<q>" * 10_000 + "x" + "</q>" * 10_000)
    n = largest(make)
    assert n > 7000
    assert await html_to_text(make(n)) == digits(n)


# Every kind of nesting, those costing MatrixParser the most frames first; each level holds a
# digit, and as many levels as fit (at most 10,000).
NESTINGS = [
    pytest.param("<blockquote>{}", id="blockquote"),
    pytest.param("<a href='mailto:a@b.c'>{}", id="mailto-link"),
    pytest.param("<a href='https://e.org/'>{}", id="link"),
    pytest.param("<ul><li>{}", id="list"),
    pytest.param("<table><tr><td>{}", id="table"),
    pytest.param("<table><tbody><tr><td>{}", id="table-sections"),
    pytest.param("<p>{}", id="paragraph"),
    pytest.param("<div>{}<br>", id="div-br"),
    pytest.param("<span data-mx-spoiler>{}", id="spoiler"),
    pytest.param("<font color='red'>{}", id="font"),
    pytest.param("<h1>{}", id="header"),
    pytest.param("<i>{}", id="italic"),
    pytest.param("<code>{}", id="code"),
    pytest.param("<pre>{}\n", id="pre"),
    pytest.param("<pre><code>{}\n", id="code-block"),
]


@pytest.mark.parametrize("level", NESTINGS)
async def test_deep_nesting_of_every_kind_keeps_its_text(level: str) -> None:
    def make(n: int) -> str:
        return "".join(level.format(d) for d in digits(n))

    n = largest(make, cap=10_000)
    assert n > 2 * DEPTH_LIMIT
    assert digits_in(await html_to_text(make(n))) == digits(n)


async def test_formatting_is_kept_down_to_the_limit_and_only_there() -> None:
    at_limit = await html_to_text("<b>" * DEPTH_LIMIT + "x" + "</b>" * DEPTH_LIMIT)
    assert at_limit == "*" * DEPTH_LIMIT + "x" + "*" * DEPTH_LIMIT
    past_limit = "<b>" * (DEPTH_LIMIT + 50) + "x" + "</b>" * (DEPTH_LIMIT + 50)
    assert await html_to_text(past_limit) == at_limit


INNER = (
    "<p>one</p><p>two<br>three</p><ul><li>a</li><li>b</li></ul>"
    "<table><tr><td>c</td><td>d</td></tr></table><pre>x\n  y</pre>"
    "<img alt=':cat:'>z<script>bad()</script><mx-reply>old</mx-reply><b>end</b>"
)


async def test_past_the_limit_text_keeps_its_order_and_lines() -> None:
    # The limit element's children are flattened: blocks and <br> become line breaks, table
    # cells are separated by a space, images keep their alt text; scripts and reply fallbacks
    # are dropped as they are above the limit.
    html = "<div>" * DEPTH_LIMIT + INNER + "</div>" * DEPTH_LIMIT
    assert await html_to_text(html) == "one\ntwo\nthree\na\nb\nc d\nx\ny\n:cat:zend"


async def test_a_list_table_or_pre_at_the_limit_keeps_its_text() -> None:
    # One level up, the list, table and <pre> are the elements at the limit: the list keeps one
    # item and the table one cell for the text, and the <pre> its whitespace.
    html = "<div>" * (DEPTH_LIMIT - 1) + INNER + "</div>" * (DEPTH_LIMIT - 1)
    assert await html_to_text(html) == "one\n\ntwo\nthree\n\n- a\n  b\nc d\nx\n  y\n:cat:z*end*"


async def test_the_limit_leaves_room_for_the_caller_s_stack() -> None:
    # Blockquotes cost MatrixParser the most frames per level; as many as the limit lets through
    # must render even when the bridge calls from 500 frames deep (it is a few dozen).
    html = "<blockquote>" * 10_000 + "x"

    async def nested(frames: int) -> str:
        return await nested(frames - 1) if frames else await html_to_text(html)

    assert await nested(500) == "> " * DEPTH_LIMIT + "x"


# Siblings by the thousand, each filled to the size of the largest event: (container, sibling).
WIDE = [
    pytest.param("", "<b>x</b>", id="bold"),
    pytest.param("", "x<br>", id="lines"),
    pytest.param("", "<br>x", id="lines-first"),
    pytest.param("", "<p>x</p>", id="paragraphs"),
    pytest.param("ul", "<li>x</li>", id="list-items"),
    pytest.param("ol", "<li>x</li>", id="numbered-items"),
    pytest.param("table", "<tr><td>x</td><td>x</td></tr>", id="table-rows"),
    pytest.param("", "<blockquote>x</blockquote>", id="blockquotes"),
    pytest.param("", "<a href='https://e.org/'>x</a>", id="links"),
    pytest.param("", "<span data-mx-spoiler>x</span>", id="spoilers"),
    pytest.param("", "<code>x</code> ", id="inline-code"),
    pytest.param("pre", "x\n", id="code-lines"),
]


@pytest.mark.parametrize(("container", "sibling"), WIDE)
async def test_64_kib_of_siblings_keeps_every_one(container: str, sibling: str) -> None:
    def make(n: int) -> str:
        return f"<{container}>{sibling * n}</{container}>" if container else sibling * n

    n = largest(make)
    assert n > 1000
    rendered = await html_to_text(make(n))
    assert rendered.count("x") == re.sub("<[^>]*>", "", sibling).count("x") * n


async def test_deep_message_from_an_event_is_sent_with_its_text(
    caplog: pytest.LogCaptureFixture,
) -> None:
    html = "".join(f"<b>{d}" for d in digits(10_000))
    content = from_event(text("plain fallback", html))
    with caplog.at_level(logging.WARNING):
        out = await matrix_to_qq(content, sender_name="Bob")
    assert out.text is not None and digits_in(out.text) == digits(10_000)
    assert out.notice is None
    assert not caplog.records  # the HTML itself was rendered: no fallback to the body


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        pytest.param("</body></html>x", "x", id="root-closed"),
        pytest.param("<a href>x</a>", "x", id="href-without-value"),
        pytest.param("<ol start><li>a</li></ol>", "1. a", id="start-without-value"),
        pytest.param("<pre><code class>x</code></pre>", "x", id="class-without-value"),
    ],
)
async def test_html_mautrix_could_not_parse(html: str, expected: str) -> None:
    assert await html_to_text(html) == expected


@pytest.mark.parametrize("error", [RecursionError, ValueError, KeyError, MemoryError])
async def test_html_that_fails_falls_back_to_the_body(
    error: type[Exception], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(html: str) -> str:
        raise error("boom")

    monkeypatch.setattr("bridge.formatter.message.html_to_text", broken)
    content = from_event(text("**hi** there", "<b>hi</b> there"))
    with caplog.at_level(logging.WARNING):
        out = await matrix_to_qq(content, sender_name="Bob")
    assert out == Outgoing("**hi** there", None)
    assert [record.levelno for record in caplog.records] == [logging.WARNING]


async def test_html_that_fails_without_a_body_tells_the_sender(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def broken(html: str) -> str:
        raise RecursionError("deep")

    monkeypatch.setattr("bridge.formatter.message.html_to_text", broken)
    out = await matrix_to_qq(from_event(text(" ", "<b>hi</b>")), sender_name="Bob")
    assert out == Outgoing(None, "Not sent to QQ: the bridge could not read this message.")
