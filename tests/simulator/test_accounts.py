"""The accounts file: the samples, and a clear error for each kind of bad entry."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.qq.simulator import AccountsError, load_accounts, sample_accounts
from bridge.qq.simulator.settings import SimulatorSettings
from bridge.qq.simulator.world import World


def test_the_samples_are_what_the_demo_and_tests_rely_on() -> None:
    accounts = {account.uin: account for account in sample_accounts()}
    summary = {uin: (a.nick, a.password, a.auth) for uin, a in accounts.items()}
    assert summary == {
        10001: ("小明", "password1", 1),
        10002: ("小红", "password2", 0),
        10003: ("Bob", "password3", 1),
        10004: ("Carol & co, ltd", "password4", 0),
        10005: ("Refuser", "password5", 2),
    }
    world = World(accounts.values(), SimulatorSettings())
    assert world.friend_list(10001) == [10002, 10003]
    assert world.friend_list(10002) == [10001]
    for uin in (10001, 10002):
        profile = accounts[uin].profile
        assert "," in profile["PR"] and "\r\n" in profile["PR"]


def test_passwords_stay_out_of_reprs() -> None:
    assert all("password" not in repr(account) for account in sample_accounts())


def test_load_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "accounts.yaml"
    path.write_text(
        "accounts:\n"
        "  - {uin: 20001, password: s3cret, nick: 甲, friends: [20002]}\n"
        "  - {uin: 20002, password: 1234, nick: 乙, face: 3, auth: 2, profile: {AG: 30, PR: hi}}\n",
        encoding="utf-8",
    )
    first, second = load_accounts(path)
    assert (first.uin, first.nick, first.face, first.auth, first.friends) == (
        20001,
        "甲",
        0,
        0,
        (20002,),
    )
    assert (second.password, second.auth, dict(second.profile)) == (
        "1234",
        2,
        {"AG": "30", "PR": "hi"},
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("accounts: 3", "top-level 'accounts:' list"),
        ("nothing: []", "top-level 'accounts:' list"),
        ("accounts: [{uin: 12, password: a, nick: b}]", "accounts[0]: uin must be"),
        ("accounts: [{uin: abc, password: a, nick: b}]", "accounts[0]: uin must be"),
        ("accounts: [{uin: 20001, nick: b}]", "accounts[0] (uin 20001): password"),
        ("accounts: [{uin: 20001, password: '', nick: b}]", "(uin 20001): password"),
        ("accounts: [{uin: 20001, password: a}]", "(uin 20001): nick"),
        ("accounts: [{uin: 20001, password: a, nick: b, auth: 3}]", "auth must be 0, 1 or 2"),
        ("accounts: [{uin: 20001, password: a, nick: b, face: -1}]", "face must be"),
        ("accounts: [{uin: 20001, password: a, nick: b, profile: {XX: 1}}]", "profile key 'XX'"),
        ("accounts: [{uin: 20001, password: a, nick: b, profile: {NK: x}}]", "profile key 'NK'"),
        ("accounts: [{uin: 20001, password: a, nick: b, friends: [x]}]", "friends must be"),
        ("accounts: [{uin: 20001, password: a, nick: b, friends: [20009]}]", "friend 20009"),
        ("accounts: [{uin: 20001, password: a, nick: b, friends: [20001]}]", "itself"),
        ("accounts: [{uin: 20001, password: a, nick: b, colour: red}]", "unknown keys"),
        (
            "accounts: [{uin: 20001, password: a, nick: b}, {uin: 20001, password: c, nick: d}]",
            "listed twice",
        ),
        ("accounts: [", "not valid YAML"),
        ("accounts:\n  - !!python/object:os.system {}", "not valid YAML"),
    ],
)
def test_bad_entries_are_named(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(AccountsError) as error:
        load_accounts(path)
    assert message in str(error.value)
    assert str(path) in str(error.value)


def test_a_missing_file_is_an_accounts_error(tmp_path: Path) -> None:
    with pytest.raises(AccountsError, match="cannot read"):
        load_accounts(tmp_path / "missing.yaml")
