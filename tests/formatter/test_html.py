"""HTML → plain text, through the public html_to_text and through whole messages."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from mautrix.types import MessageType, TextMessageEventContent

from bridge.formatter import html_to_text, matrix_to_qq

from .events import from_event, text

CASES = [
    pytest.param("<b>bold</b> and <strong>strong</strong>", "*bold* and *strong*", id="bold"),
    pytest.param("<i>it</i> <em>em</em> <del>gone</del>", "_it_ _em_ ~gone~", id="italic-strike"),
    pytest.param("<u>under</u> <font color='red'>red</font>", "under red", id="bare-formats"),
    pytest.param("<b>bold </b>text", "*bold* text", id="space-inside-bold-kept-outside"),
    pytest.param("<b>  </b>x", "x", id="no-markers-around-blank"),
    pytest.param("line one<br>line two<br/>line three", "line one\nline two\nline three", id="br"),
    pytest.param("<p>first</p>\n<p>second</p>", "first\n\nsecond", id="paragraphs"),
    pytest.param(
        "<a href='https://example.org/x'>the docs</a>",
        "the docs (https://example.org/x)",
        id="link",
    ),
    pytest.param(
        "<a href='https://example.org/x'>https://example.org/x</a>",
        "https://example.org/x",
        id="link-text-is-url",
    ),
    pytest.param(
        "see <a href='https://example.org/'>example.org</a>!",
        "see example.org!",
        id="linkified-without-scheme",
    ),
    pytest.param("<a href='https://e.org/'></a>", "https://e.org/", id="link-without-text"),
    pytest.param(
        "<a href='mailto:qq@example.org'>write me</a>",
        "write me (qq@example.org)",
        id="mailto",
    ),
    pytest.param(
        "<a href='https://matrix.to/#/@alice:example.org'>Alice</a>: look",
        "Alice: look",
        id="user-mention",
    ),
    pytest.param(
        "<a href='https://matrix.to/#/@alice:example.org'></a> hi",
        "@alice:example.org hi",
        id="user-mention-without-text",
    ),
    pytest.param(
        "join <a href='https://matrix.to/#/#qq:example.org'>#qq:example.org</a>",
        "join #qq:example.org",
        id="room-mention",
    ),
    pytest.param(
        "<ul><li>one</li><li>two</li></ul>",
        "- one\n- two",
        id="list",
    ),
    pytest.param(
        "<ol><li>one</li><li>two</li></ol>",
        "1. one\n2. two",
        id="ordered-list",
    ),
    pytest.param(
        "<ol start='9'><li>nine</li><li>ten</li></ol>",
        "9. nine\n10. ten",
        id="ordered-list-start",
    ),
    pytest.param(
        "<p>Plan:</p>\n<ul>\n<li>eat\n<ul>\n<li>rice</li>\n<li>noodles\n<ol>\n<li>hot</li>\n"
        "<li>cold</li>\n</ol>\n</li>\n</ul>\n</li>\n<li>sleep</li>\n</ul>\n<p>done</p>",
        "Plan:\n\n- eat\n  - rice\n  - noodles\n    1. hot\n    2. cold\n- sleep\ndone",
        id="nested-lists",
    ),
    pytest.param(
        "run <code>ls -la &amp;&amp; cd ~</code> now",
        "run `ls -la && cd ~` now",
        id="inline-code",
    ),
    pytest.param(
        "<pre><code class='language-python'>    def f(x):\n        return x &lt; 2\n</code></pre>",
        "    def f(x):\n        return x < 2",
        id="code-block-verbatim-indent",
    ),
    pytest.param(
        "look: <pre><code>a  =  1\n\n\tb = 2\n</code></pre>\nbye",
        "look:\na  =  1\n\n\tb = 2\nbye",
        id="code-block-between-text",
    ),
    pytest.param(
        "<blockquote>\n<p>to be\nor not</p>\n</blockquote>\n<p>that is it</p>",
        "> to be or not\n\nthat is it",
        id="blockquote",
    ),
    pytest.param(
        "<blockquote>one<br>two<br><br>four</blockquote>",
        "> one\n> two\n>\n> four",
        id="blockquote-lines",
    ),
    pytest.param(
        "a &amp; b &lt;c&gt; &quot;d&quot; &#39;e&#39; &#x1F600; &copy;",
        "a & b <c> \"d\" 'e' 😀 ©",
        id="entities",
    ),
    pytest.param("中文&nbsp;text\u3000全角", "中文\xa0text\u3000全角", id="nbsp-and-ideographic"),
    pytest.param("a   b\n  c", "a b c", id="html-whitespace-collapses"),
    pytest.param(
        "<p>\u3000\u3000第一段。</p><p>\u3000\u3000第二段。</p>",
        "\u3000\u3000第一段。\n\n\u3000\u3000第二段。",
        id="chinese-paragraph-indent-kept",
    ),
    pytest.param("<h2>Title</h2><p>body</p>", "Title\nbody", id="header"),
    pytest.param("x<hr>y", "x\n---\ny", id="hr"),
    pytest.param(
        "<table><thead><tr><th>name</th><th>qq</th></tr></thead>"
        "<tbody><tr><td>Ann</td><td>10001</td></tr></tbody></table>",
        "name | qq\nAnn | 10001",
        id="table",
    ),
    pytest.param(
        "<span data-mx-spoiler=''>the butler</span> did it",
        "||the butler|| did it",
        id="spoiler",
    ),
    pytest.param("<img src='mxc://e.org/a' alt=':cat:'> hi", ":cat: hi", id="inline-emote"),
    pytest.param("<script>alert(1)</script>safe", "safe", id="script-dropped"),
    pytest.param(
        "<mx-reply><blockquote>old</blockquote></mx-reply>new", "new", id="mx-reply-dropped"
    ),
]


@pytest.mark.parametrize(("html", "expected"), CASES)
async def test_html_to_text(html: str, expected: str) -> None:
    assert await html_to_text(html) == expected


async def test_formatted_body_wins_over_body() -> None:
    content = from_event(
        text("**hi** [x](https://e.org)", "<b>hi</b> <a href='https://e.org'>x</a>")
    )
    out = await matrix_to_qq(content, sender_name="Bob")
    assert out.text == "*hi* x (https://e.org)"
    assert out.notice is None


async def test_formatted_body_ignored_without_html_format() -> None:
    content = from_event(
        {
            "msgtype": "m.text",
            "body": "plain <b>",
            "format": "org.example.other",
            "formatted_body": "<i>nope</i>",
        }
    )
    assert (await matrix_to_qq(content, sender_name="Bob")).text == "plain <b>"


async def test_html_showing_nothing_falls_back_to_body() -> None:
    content = from_event(text("![](mxc://e.org/a)", "<img src='mxc://e.org/a'>"))
    assert (await matrix_to_qq(content, sender_name="Bob")).text == "![](mxc://e.org/a)"


async def test_outer_blank_lines_of_html_stripped() -> None:
    content = from_event(text("x", "<br><br><p>  middle  </p><br>"))
    assert (await matrix_to_qq(content, sender_name="Bob")).text == "middle"


words = st.text(st.characters(codec="utf-8").filter(lambda c: not c.isspace()), min_size=1)
lines = st.lists(words, min_size=1, max_size=4).map(" ".join)
bodies = st.lists(lines, min_size=1, max_size=4).map("\n".join)


@given(bodies)
async def test_escaped_plain_text_comes_back_exactly(body: str) -> None:
    # What a client does for a plain message it sends as HTML anyway: escape, "\n" → <br/>.
    content = TextMessageEventContent(msgtype=MessageType.TEXT, body=body)
    content.ensure_has_html()
    assert (await matrix_to_qq(content, sender_name="Bob")).text == body


@given(st.text())
async def test_any_html_renders_without_error(html: str) -> None:
    assert isinstance(await html_to_text(html), str)
