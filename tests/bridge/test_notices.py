"""Markdown notices and where a command starts."""

from __future__ import annotations

import pytest
from mautrix.types import MessageType

from bridge.commands import command_line
from bridge.notices import BRIDGE_MARKER, bridge_notice_content, escape, notice_content, render


def test_markdown_becomes_html_and_the_body_stays_the_source() -> None:
    content = notice_content("Send `login`\n- **one**\n- two")
    assert content.body == "Send `login`\n- **one**\n- two"
    assert content.formatted_body is not None
    assert "<code>login</code>" in content.formatted_body
    assert "<li><strong>one</strong></li>" in content.formatted_body


def test_raw_html_is_text_and_single_line_breaks_stay() -> None:
    assert render("<b>x</b>") == "<p>&lt;b&gt;x&lt;/b&gt;</p>"
    assert render("one\ntwo") == "<p>one<br />\ntwo</p>"


def test_escaped_names_show_as_typed() -> None:
    assert render(escape("*star* `tick` [x](y) a_b")) == ("<p>*star* `tick` [x](y) a_b</p>")


def test_a_puppets_notice_for_the_bridge_is_a_marked_m_notice() -> None:
    content = bridge_notice_content("Reactions are not sent to **QQ**.")
    assert content.msgtype is MessageType.NOTICE
    assert content.body == "QQ bridge: Reactions are not sent to **QQ**."
    assert (
        content.formatted_body
        == f"<p>{BRIDGE_MARKER} Reactions are not sent to <strong>QQ</strong>.</p>"
    )


@pytest.mark.parametrize(
    ("body", "management", "expected"),
    [
        ("!qq ping", False, "ping"),
        ("  !QQ   login 1 pw ", False, "login 1 pw"),
        ("!qq", False, "help"),
        ("ping", False, None),
        ("!qqping", False, None),
        ("hello !qq ping", False, None),
        ("ping", True, "ping"),
        ("!qq ping", True, "ping"),
    ],
)
def test_command_line(body: str, management: bool, expected: str | None) -> None:
    assert command_line(body, "!qq", management) == expected
