"""The one table of status words (bridge/qq/codes.py): every status has a word, and each word
reads back as its status, whoever types it (the bridge's `status`, the terminal's /status)."""

from __future__ import annotations

import pytest

from bridge.qq.codes import STATUS_WORDS, Status


def test_every_status_has_one_word_and_reads_back() -> None:
    assert set(STATUS_WORDS) == set(Status)
    assert len(set(STATUS_WORDS.values())) == len(Status)
    for status in Status:
        assert Status.from_word(status.word) is status


@pytest.mark.parametrize(
    ("typed", "status"),
    [("online", Status.ONLINE), (" BUSY ", Status.BUSY), ("Invisible", Status.INVISIBLE)],
)
def test_typed_words_ignore_case_and_spaces(typed: str, status: Status) -> None:
    assert Status.from_word(typed) is status


@pytest.mark.parametrize("typed", ["", "away", "10", "onl"])
def test_other_words_name_no_status(typed: str) -> None:
    assert Status.from_word(typed) is None
