"""split_text keeps grapheme clusters whole: a flag, a ZWJ family, a letter with its accents or
CR LF never arrive in QQ cut over two messages (issue 10, item 6)."""

from __future__ import annotations

import itertools

import regex
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bridge.qq.wire import requests

FLAG = "🇨🇳"  # two regional indicators
FAMILY = "👨‍👩‍👧"  # three emoji joined by ZWJ (18 bytes)
THUMB = "👍🏽"  # an emoji and a skin tone
ACCENTED = "e\u0301\u0323"  # a letter with two combining marks
KEYCAP = "1\ufe0f\u20e3"

CLUSTERS = regex.compile(r"\X")


def sizes(pieces: list[str]) -> list[int]:
    return [len(piece.encode()) for piece in pieces]


def boundaries(text: str) -> set[int]:
    """Code-point offsets where a grapheme cluster of ``text`` ends."""
    ends, offset = {0}, 0
    for cluster in CLUSTERS.findall(text):
        offset += len(cluster)
        ends.add(offset)
    return ends


def cuts(pieces: list[str]) -> list[int]:
    """Code-point offsets where one piece ends and the next begins."""
    offsets, offset = [], 0
    for piece in pieces[:-1]:
        offset += len(piece)
        offsets.append(offset)
    return offsets


def test_a_flag_is_never_cut_between_its_indicators() -> None:
    text = "a" + FLAG * 100  # odd offset: a code-point cut would land between two indicators
    pieces = requests.split_text(text, limit=40)
    assert "".join(pieces) == text
    assert all(size <= 40 for size in sizes(pieces))
    assert all(piece.removeprefix("a").replace(FLAG, "") == "" for piece in pieces)


def test_a_family_is_never_cut_at_its_joiner() -> None:
    text = "ab" + FAMILY * 60
    pieces = requests.split_text(text)
    assert "".join(pieces) == text
    assert all(piece.removeprefix("ab").replace(FAMILY, "") == "" for piece in pieces)
    assert sizes(pieces) == [2 + 18 * 38, 18 * 22]  # each piece as full as whole families allow


def test_skin_tones_accents_and_keycaps_stay_on_their_character() -> None:
    for cluster in (THUMB, ACCENTED, KEYCAP):
        text = "x" + cluster * 200
        pieces = requests.split_text(text, limit=50)
        assert set(cuts(pieces)) <= boundaries(text)
        assert "".join(pieces) == text


def test_crlf_is_one_cluster_and_a_place_to_cut() -> None:
    line = "y" * 28 + "\r\n"
    pieces = requests.split_text(line * 4, limit=64)
    assert pieces == [line * 2, line * 2]


def test_a_space_carrying_a_combining_mark_is_not_a_place_to_cut() -> None:
    # " \u0301" is one cluster: cutting after its space would strip the mark from it.
    text = "z" * 30 + " \u0301" + "z" * 30
    pieces = requests.split_text(text, limit=40)
    assert set(cuts(pieces)) <= boundaries(text)
    assert "".join(pieces) == text


def test_a_cluster_longer_than_the_limit_is_cut_between_code_points() -> None:
    monster = "e" + "\u0301" * 400  # one cluster of 801 bytes
    text = "hi " + monster + " bye"
    pieces = requests.split_text(text)
    assert "".join(pieces) == text
    assert all(size <= 700 for size in sizes(pieces))
    # Only the monster is cut inside: the text around it keeps its own boundaries.
    assert pieces[0] == "hi " and pieces[-1].endswith(" bye")
    assert sizes(pieces) == [3, 1 + 2 * 349, 2 * 51 + 4]


def test_the_old_behaviour_stays_for_plain_text() -> None:
    assert sizes(requests.split_text("a" * 1500)) == [700, 700, 100]
    assert requests.split_text("ab cd ef", limit=4) == ["ab ", "cd ", "ef"]
    assert requests.split_text("") == [""]


# --- properties -------------------------------------------------------------------------------

# Text made of what grapheme rules are about, so that a cut has many chances to go wrong.
parts = st.sampled_from(
    [FLAG, FAMILY, THUMB, ACCENTED, KEYCAP, "\r\n", "\n", " ", " \u0301", "中", "a", "é", "\u200d"]
)
grapheme_text = st.lists(parts, max_size=80).map("".join)
mixed_text = st.one_of(grapheme_text, st.text(max_size=200))
SETTINGS = settings(max_examples=400, deadline=None)


@SETTINGS
@given(text=mixed_text, limit=st.integers(min_value=4, max_value=60))
def test_every_piece_fits_nothing_is_lost_and_no_cluster_is_cut(text: str, limit: int) -> None:
    pieces = requests.split_text(text, limit)
    assert "".join(pieces) == text
    assert all(len(piece.encode()) <= limit for piece in pieces)
    assert all(pieces) or pieces == [""]
    offset, cut_at = 0, set(cuts(pieces))
    for cluster in CLUSTERS.findall(text):
        # Only a cluster longer than the limit may be cut inside (between its code points).
        if len(cluster.encode()) <= limit:
            assert not set(range(offset + 1, offset + len(cluster))) & cut_at, cluster
        offset += len(cluster)


@SETTINGS
@given(text=grapheme_text, limit=st.integers(min_value=18, max_value=60))
def test_no_piece_could_have_taken_the_next_cluster_unless_it_ends_at_a_space(
    text: str, limit: int
) -> None:
    """Pieces are full: one is cut short only to end at a space or newline (the soft cut)."""
    assume(all(len(cluster.encode()) <= limit for cluster in CLUSTERS.findall(text)))
    pieces = requests.split_text(text, limit)
    for piece, following in itertools.pairwise(pieces):
        next_cluster = CLUSTERS.match(following)
        assert next_cluster is not None
        room = limit - len(piece.encode())
        assert room < len(next_cluster[0].encode()) or piece[-1] in " \n"
