"""QQ accounts the simulator knows, and the YAML file they are loaded from.

The format (docs/simulator.md has a full example)::

    accounts:
      - uin: 10001
        password: password1      # plain text; the server compares md5(password) with PS=
        nick: 小明
        face: 0
        auth: 1                  # 0 anyone may add, 1 needs verification, 2 refuses everyone
        profile: {AG: 19, PR: "…"}   # GetInfo wire keys
        friends: [10002, 10003]  # friendship is mutual: listing it on one side is enough
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

# The GetInfo keys an account's profile may set. FC, NK, UN and LV come from the account
# itself or the request, so they are not profile keys.
PROFILE_KEYS = frozenset(
    "AD AG BT CO CT CV CY EM HP ID JB MO MT MV PC PH PR PV RN SC SH SX".split()  # noqa: SIM905
)
# Login answers RES=5 outside this range (seed 000: "QQ号非法,如100"), so an account
# outside it could never log in.
LOWEST_UIN = 10000
HIGHEST_UIN = 0xFFFFFFFF
AUTH_MODES = (0, 1, 2)

SAMPLE_ACCOUNTS_FILE = "sample_accounts.yaml"


class AccountsError(ValueError):
    """An accounts file that cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class Account:
    uin: int
    password: str = field(repr=False)  # never in a repr, so never in a log line
    nick: str
    face: int = 0
    auth: int = 0
    profile: Mapping[str, str] = field(default_factory=dict)
    friends: tuple[int, ...] = ()

    @property
    def password_md5(self) -> str:
        return hashlib.md5(self.password.encode()).hexdigest()


def load_accounts(path: str | Path) -> list[Account]:
    """Accounts from a YAML file; raises AccountsError naming the bad entry."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise AccountsError(f"{source}: cannot read: {error}") from None
    return parse_accounts(text, source)


def sample_accounts() -> list[Account]:
    """The five accounts shipped with the package (docs/simulator.md lists them)."""
    text = resources.files(__package__).joinpath(SAMPLE_ACCOUNTS_FILE).read_text("utf-8")
    return parse_accounts(text, SAMPLE_ACCOUNTS_FILE)


def parse_accounts(text: str, source: str = "<accounts>") -> list[Account]:
    try:
        document = YAML(typ="safe").load(text)
    except YAMLError as error:
        raise AccountsError(f"{source}: not valid YAML: {error}") from None
    if not isinstance(document, dict) or not isinstance(document.get("accounts"), list):
        raise AccountsError(f"{source}: expected a top-level 'accounts:' list")
    accounts = [
        _parse_entry(entry, f"{source}: accounts[{index}]")
        for index, entry in enumerate(document["accounts"])
    ]
    _check_references(accounts, source)
    return accounts


def _parse_entry(entry: Any, where: str) -> Account:
    if not isinstance(entry, dict):
        raise AccountsError(f"{where}: expected a mapping with uin, password and nick")
    unknown = set(entry) - {"uin", "password", "nick", "face", "auth", "profile", "friends"}
    uin: Any = entry.get("uin")
    if not _is_int(uin) or not LOWEST_UIN <= uin <= HIGHEST_UIN:
        raise AccountsError(f"{where}: uin must be a number from {LOWEST_UIN} to {HIGHEST_UIN}")
    where = f"{where} (uin {uin})"
    if unknown:
        raise AccountsError(f"{where}: unknown keys {sorted(map(str, unknown))}")
    password, nick = entry.get("password"), entry.get("nick")
    if not isinstance(password, str | int) or str(password) == "":
        raise AccountsError(f"{where}: password must be a non-empty string")
    if not isinstance(nick, str | int):
        raise AccountsError(f"{where}: nick must be a string")
    face, auth = entry.get("face", 0), entry.get("auth", 0)
    if not _is_int(face) or face < 0:
        raise AccountsError(f"{where}: face must be a number of 0 or more")
    if not _is_int(auth) or auth not in AUTH_MODES:
        raise AccountsError(f"{where}: auth must be 0, 1 or 2, not {auth!r}")
    return Account(
        uin=uin,
        password=str(password),
        nick=str(nick),
        face=face,
        auth=auth,
        profile=_parse_profile(entry.get("profile") or {}, where),
        friends=_parse_friends(entry.get("friends") or [], where),
    )


def _parse_profile(profile: Any, where: str) -> dict[str, str]:
    if not isinstance(profile, dict):
        raise AccountsError(f"{where}: profile must be a mapping of GetInfo keys")
    parsed: dict[str, str] = {}
    for key, value in profile.items():
        if key not in PROFILE_KEYS:
            raise AccountsError(
                f"{where}: profile key {key!r} is not one of {' '.join(sorted(PROFILE_KEYS))}"
            )
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise AccountsError(f"{where}: profile {key} must be text or a number")
        parsed[key] = str(value)
    return parsed


def _parse_friends(friends: Any, where: str) -> tuple[int, ...]:
    if not isinstance(friends, list) or not all(_is_int(uin) for uin in friends):
        raise AccountsError(f"{where}: friends must be a list of QQ numbers")
    return tuple(friends)


def _check_references(accounts: list[Account], source: str) -> None:
    seen: set[int] = set()
    for account in accounts:
        if account.uin in seen:
            raise AccountsError(f"{source}: uin {account.uin} is listed twice")
        seen.add(account.uin)
    for account in accounts:
        for friend in account.friends:
            if friend == account.uin:
                raise AccountsError(f"{source}: uin {account.uin} lists itself as a friend")
            if friend not in seen:
                raise AccountsError(
                    f"{source}: uin {account.uin} lists friend {friend}, which is not an account"
                )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
