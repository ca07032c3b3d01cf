"""Does a message hold a QQ login, typed right or not?

Anything that would be a ``login <uin> <password>`` had it been typed right is treated as one,
wherever it was sent: a command prefix (``!qq login``), other spacing or case (``Log In``), a
missing space (``login10001 pw``), a typo of one letter (``logn``), words around it, HTML. A few
harmless messages are caught too (``logic 12345 x``); hiding them is the cheap side of the
trade, since one missed password is a leaked account.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

# What a user might mean by "log in": English spellings and the Chinese words QQ itself uses.
LOGIN_WORDS = ("login", "logon", "signin", "登录", "登陆", "登入", "登錄")
_UIN = re.compile(r"\d{5,12}")  # QQ numbers have 5 or more digits; md5s and dates are cut off
_AFTER_UIN = re.compile(r"[\s,:;=/|]*[^\s,:;=/|]")  # then something: the password
_WORD = re.compile(r"[^\W\d_]+")
_TAG = re.compile(r"<[^>]*>")


def looks_like_login(texts: Iterable[str]) -> bool:
    """True if any of ``texts`` (bodies, formatted bodies) holds a login with a password.

    ``texts`` are an event's strings as sent: ``body``, ``formatted_body`` (HTML is read as
    its text), and the same of an edit's ``m.new_content``. Non-strings are the caller's to
    leave out.
    """
    return any(_line_is_login(line) for text in texts for line in _lines(text))


def _lines(text: str) -> list[str]:
    if "<" in text:
        text = html.unescape(_TAG.sub(" ", text.replace("<br", "\n<br")))
    return text.casefold().splitlines()


def _line_is_login(line: str) -> bool:
    for uin in _UIN.finditer(line):
        if not _AFTER_UIN.match(line, uin.end()):
            continue  # a number alone is not a login: no password follows it
        words = _WORD.findall(line[: uin.start()])
        # "log in", "sign in": the word may be split by a space or a hyphen.
        candidates = [*words[-1:], "".join(words[-2:])] if words else []
        if any(_near(word, login) for word in candidates for login in LOGIN_WORDS):
            return True
    return False


def _near(word: str, target: str) -> bool:
    """At most one letter wrong: one added, dropped, replaced, or two neighbours swapped."""
    if word == target:
        return True
    if abs(len(word) - len(target)) > 1 or len(target) < 4:
        return False
    if len(word) == len(target):
        diffs = [i for i, (a, b) in enumerate(zip(word, target, strict=True)) if a != b]
        if len(diffs) == 1:
            return True
        i = diffs[0]
        return (
            len(diffs) == 2
            and diffs[1] == i + 1
            and word[i] == target[i + 1]
            and (word[i + 1] == target[i])
        )
    shorter, longer = sorted((word, target), key=len)
    return any(longer[:i] + longer[i + 1 :] == shorter for i in range(len(longer)))
