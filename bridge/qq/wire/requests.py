"""Request bodies for the 11 commands. Pure functions: text in, bytes out."""

from __future__ import annotations

import hashlib

import regex

from ..codes import LOGIN_CONSTANT, VERSION, AckCode, Command, InfoLevel, Status
from .fields import encode_pairs

# The longest MG= we send, in bytes of UTF-8. The seeds give no limit. QQ of the time took
# at most 700 bytes per message, counted in GBK (LumaQQ, a client of the binary protocol:
# QQ_MAX_SEND_IM = 700, "QQ是最大700字节"); no character is shorter in UTF-8 than in GBK,
# so 700 bytes of UTF-8 (about 233 CJK characters) always fit. Longer text is split
# (split_text); see docs/protocol.md.
MESSAGE_LIMIT = 700

# TN values the seeds' clients send to get the full lists rather than bare counts.
LIST_TN = 160
QUERY_STAT_TN = 50


def password_md5(password: str) -> str:
    """PS=: the lower-case hex md5 of the password's UTF-8 bytes (seed 003)."""
    return hashlib.md5(password.encode()).hexdigest()


def build(command: Command, uin: int, seq: int, **fields: str | int) -> bytes:
    """Any request: the four fields every request carries, then the command's own."""
    return encode_pairs({"VER": VERSION, "CMD": command.value, "SEQ": seq, "UIN": uin, **fields})


def login(uin: int, seq: int, md5: str) -> bytes:
    return build(Command.LOGIN, uin, seq, PS=md5, M5=1, LC=LOGIN_CONSTANT)


def list_friends(uin: int, seq: int, tn: int = LIST_TN) -> bytes:
    return build(Command.LIST, uin, seq, TN=tn, UN=0)


def query_stat(uin: int, seq: int, tn: int = QUERY_STAT_TN) -> bytes:
    return build(Command.QUERY_STAT, uin, seq, TN=tn, UN=0)


def get_info(uin: int, seq: int, target: int, level: int = InfoLevel.DETAILED) -> bytes:
    return build(Command.GET_INFO, uin, seq, LV=int(level), UN=target)


def add_to_list(uin: int, seq: int, target: int) -> bytes:
    return build(Command.ADD_TO_LIST, uin, seq, UN=target)


def ack_add_to_list(uin: int, seq: int, target: int, code: AckCode, reason: str = "") -> bytes:
    return build(Command.ACK_ADD_TO_LIST, uin, seq, UN=target, CD=int(code), RS=reason)


def del_from_list(uin: int, seq: int, target: int) -> bytes:
    return build(Command.DEL_FROM_LIST, uin, seq, UN=target)


def change_stat(uin: int, seq: int, status: Status) -> bytes:
    return build(Command.CHANGE_STAT, uin, seq, ST=int(status))


def get_msg_ex(uin: int, seq: int) -> bytes:
    return build(Command.GET_MSG_EX, uin, seq)


def cltmsg(uin: int, seq: int, target: int, text: str) -> bytes:
    return build(Command.CLTMSG, uin, seq, UN=target, MG=text)


def logout(uin: int, seq: int) -> bytes:
    return build(Command.LOGOUT, uin, seq)


def split_text(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Cut text into pieces of at most ``limit`` UTF-8 bytes, never inside a grapheme cluster.

    A cluster is what a reader sees as one character: a flag (two regional indicators), an
    emoji joined by ZWJ, a letter and its accents, CR LF. Clusters are Unicode's extended
    grapheme clusters (UAX #29), found by the ``regex`` library's ``\\X``. A cut prefers the end
    of the last newline or space in the second half of a piece, so words and lines stay whole
    where they can; the separator stays with the earlier piece, so joining the pieces gives back
    the text exactly. A single cluster longer than ``limit`` (only pathological text, such as
    hundreds of combining marks on one letter) cannot go whole: it is cut between code points,
    each piece as full as it can be (docs/protocol.md).

    Raises ValueError when ``limit`` is below 4, the longest UTF-8 character.
    """
    if limit < 4:
        raise ValueError("limit must hold at least one UTF-8 character")
    if len(text.encode()) <= limit:
        return [text]
    pieces: list[str] = []
    piece: list[str] = []  # the clusters of the piece being filled
    size = 0  # its size in bytes
    soft, soft_size = 0, 0  # clusters and bytes up to its last space or newline, if any
    for cluster in _GRAPHEME.findall(text):
        length = len(cluster.encode())
        if length > limit:
            pieces += ["".join(piece)] if piece else []
            *whole, last = _split_code_points(cluster, limit)
            pieces += whole
            piece, size, soft, soft_size = [last], len(last.encode()), 0, 0
            continue
        while size + length > limit:
            # Cut at the last separator if it is in the piece's second half, else here.
            cut, cut_size = (
                (soft, soft_size) if soft and soft_size * 2 >= size else (len(piece), size)
            )
            pieces.append("".join(piece[:cut]))
            piece, size = piece[cut:], size - cut_size
            soft, soft_size = 0, 0  # what is left holds no separator: soft was the last one
        piece.append(cluster)
        size += length
        if cluster[-1] in " \n":
            soft, soft_size = len(piece), size
    if piece:
        pieces.append("".join(piece))
    return pieces


# One extended grapheme cluster (UAX #29), as the regex library knows them.
_GRAPHEME = regex.compile(r"\X")


def _split_code_points(text: str, limit: int) -> list[str]:
    """``text`` in pieces of at most ``limit`` bytes of UTF-8, cut between code points."""
    pieces: list[str] = []
    start, size = 0, 0
    for index, char in enumerate(text):
        length = len(char.encode())
        if size + length > limit:
            pieces.append(text[start:index])
            start, size = index, 0
        size += length
    pieces.append(text[start:])
    return pieces
