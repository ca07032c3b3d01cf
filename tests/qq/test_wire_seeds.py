"""Every reply example of the seeds (tests/qq/data/seed_replies.yaml) through the codec.

Each entry states the body the old server sent and what its command's decoder must make of it;
the file's header explains the format and how the examples were cleaned.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from bridge.qq.codes import AddResult, Command, Status
from bridge.qq.wire import WireError, replies
from bridge.qq.wire.fields import parse_reply_pairs
from tests.raw_http import split_responses

from .decoding import decode

DATA = Path(__file__).parent / "data" / "seed_replies.yaml"
_DOCUMENT: dict[str, list[dict[str, Any]]] = YAML(typ="safe").load(DATA.read_text("utf-8"))
REPLIES = _DOCUMENT["replies"]
HTTP = _DOCUMENT["http"]

_RESULT_CLASSES: dict[str, type] = {
    cls.__name__: cls
    for cls in (
        replies.LoginOk,
        replies.FriendList,
        replies.OnlineFriend,
        replies.OnlineFriends,
        replies.Profile,
        replies.Added,
        replies.TextMessage,
        replies.StatusChange,
        replies.FriendRequest,
        replies.RequestAccepted,
        replies.RequestRejected,
        replies.UnknownEvent,
    )
}
_ENUMS: dict[str, Any] = {"Status": Status, "AddResult": AddResult}
_ENUM_MEMBER = re.compile(r"(Status|AddResult)\.([A-Z_]+)")


def build(spec: Any) -> Any:
    """The object a YAML ``result`` describes."""
    if isinstance(spec, list):
        return [build(item) for item in spec]
    if isinstance(spec, dict):
        if "type" in spec:
            cls = _RESULT_CLASSES[spec["type"]]
            return cls(**{key: build(value) for key, value in spec.items() if key != "type"})
        return {key: build(value) for key, value in spec.items()}
    if isinstance(spec, str) and (match := _ENUM_MEMBER.fullmatch(spec)):
        return _ENUMS[match[1]][match[2]]
    return spec


def shape(value: Any) -> Any:
    """The types inside ``value``, so that a plain int does not pass for a Status."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = dataclasses.fields(value)
        return (type(value), tuple(shape(getattr(value, field.name)) for field in fields))
    if isinstance(value, list):
        return (list, tuple(shape(item) for item in value))
    if isinstance(value, dict):
        return (dict, tuple((key, shape(item)) for key, item in value.items()))
    return type(value)


def assert_result(actual: Any, spec: Any) -> None:
    expected = build(spec)
    assert actual == expected
    assert shape(actual) == shape(expected)


def check_decodes(command: Command, body: bytes, entry: dict[str, Any]) -> None:
    if "error" in entry:
        error = entry["error"]
        with pytest.raises(WireError) as raised:
            decode(command, body)
        assert type(raised.value).__name__ == error["type"]
        for attribute, value in error.items():
            if attribute != "type":
                assert getattr(raised.value, attribute) == value
        return
    assert_result(decode(command, body), entry["result"])
    envelope = replies.parse_envelope(command, body)
    assert (envelope.seq, envelope.uin) == (entry["envelope"]["seq"], entry["envelope"]["uin"])
    if "readable" in entry:
        profile = decode(command, body)
        assert isinstance(profile, replies.Profile)
        assert profile.readable() == [tuple(row) for row in entry["readable"]]


@pytest.mark.parametrize("entry", REPLIES, ids=[entry["id"] for entry in REPLIES])
def test_seed_reply_decodes(entry: dict[str, Any]) -> None:
    check_decodes(Command(entry["command"]), entry["body"].encode(), entry)


@pytest.mark.parametrize("entry", HTTP, ids=[entry["id"] for entry in HTTP])
def test_seed_double_response(entry: dict[str, Any]) -> None:
    bodies = split_responses(entry["raw"].encode())
    assert bodies == [response["body"].encode() for response in entry["responses"]]
    for body, response in zip(bodies, entry["responses"], strict=True):
        check_decodes(Command(entry["command"]), body, response)


# --- the data file itself ------------------------------------------------------------------


def test_entries_are_documented_and_unique() -> None:
    entries = REPLIES + HTTP
    ids = [entry["id"] for entry in entries]
    assert len(ids) == len(set(ids))
    for entry in entries:
        assert entry["seed"] in {"000", "002", "003", "004"}, entry["id"]
        assert entry["section"] and entry["printed"] and entry["cleaned"], entry["id"]
        assert ("error" in entry) != ("result" in entry or "responses" in entry), entry["id"]
        assert Command(entry["command"])


def test_every_seed_command_and_outcome_is_covered() -> None:
    assert {entry["seed"] for entry in REPLIES} == {"000", "002", "003", "004"}
    assert {Command(entry["command"]) for entry in REPLIES} == set(Command)
    errors = {entry["error"]["type"] for entry in REPLIES if "error" in entry}
    assert errors == {"NoReply", "LoginRefused", "InvalidUin", "Penalty", "NotLoggedIn"}
    for seed in ("000", "002", "004"):
        nulls = [e for e in REPLIES if e["seed"] == seed and e.get("error") == {"type": "NoReply"}]
        assert all(entry["body"] == "" for entry in nulls)
        assert nulls, seed


@pytest.mark.parametrize(
    "entry",
    [e for e in REPLIES if e["seed"] in {"000", "004"} and e["body"]],
    ids=lambda entry: entry["id"],
)
def test_seeds_000_and_004_echo_the_documented_spelling(entry: dict[str, Any]) -> None:
    """codes.Command.reply_spelling is what seeds 000 and 004 print in CMD=."""
    echoed = parse_reply_pairs(entry["body"].encode())["CMD"]
    assert echoed == Command(entry["command"]).reply_spelling
