"""The check that spots a QQ login in any message, however it was typed."""

from __future__ import annotations

import pytest

from bridge.security import looks_like_login

LOGINS = [
    "login 10001 pw",
    "!qq login 10001 pw",
    "!login 10001 pw",
    "/login 10001 pw",
    "qqbot: login 10001 pw",
    "@qqbot:example.com login 10001 pw",
    "log in 10001 pw",
    "Log-In 10001 pw",
    "LOGIN 10001 pw",
    "login10001 pw",
    "login 10001pw",
    "login:10001:pw",
    "login  10001   correct horse battery",
    "  login 10001 pw  ",
    "logn 10001 pw",
    "lgoin 10001 pw",
    "loginn 10001 pw",
    "logon 10001 pw",
    "sign in 123456 hunter2",
    "signin 123456 hunter2",
    "* login 30039 pw",  # an edit's fallback body
    "please login 10001 pw",
    "hello\nlogin 10001 pw",
    "登录 10001 密码",
    "login １０００１ pw",  # full-width digits
]
FORMATTED = [
    "<p>login <b>10001</b> pw</p>",
    "<code>login 10001 pw</code>",
    "hi<br>login 10001 p&amp;w",
    "<mx-reply><blockquote>quoted</blockquote></mx-reply>login 10001 pw",
]
HARMLESS = [
    "login",
    "login 10001",
    "login 10001 ",
    "login pw",
    "hello 10001 pw",
    "the login page",
    "logout",
    "logout 10001 x",
    "friends",
    "pm 10001",
    "info 10001",
    "add 10001 hello there",
    "status online",
    "I will call you at 5pm",
    "",
]


@pytest.mark.parametrize("text", LOGINS + FORMATTED)
def test_a_login_however_typed_is_seen(text: str) -> None:
    assert looks_like_login([text])


@pytest.mark.parametrize("text", HARMLESS)
def test_commands_and_chat_without_a_password_are_not(text: str) -> None:
    assert not looks_like_login([text])


def test_any_of_the_texts_is_enough() -> None:
    assert looks_like_login(["a harmless body", "<p>login 10001 pw</p>"])
    assert not looks_like_login([])
