"""The bridge's configuration: one YAML file, checked, and upgraded in place as settings are added.

mautrix.util.config's ConfigUpdateHelper would do the upgrade, but it rebuilds the document from
the example and copies the user's values into it, so every comment the user wrote is lost (it
clears them on purpose). Here the user's document is the one kept, and the settings it lacks are
grafted in from the example together with the example's comments.
"""

from __future__ import annotations

import contextlib
import copy
import io
import logging
import os
import re
import string
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark, MarkedYAMLError, YAMLError
from ruamel.yaml.tokens import CommentToken
from ruamel.yaml.util import load_yaml_guess_indent
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

log = logging.getLogger(__name__)

EXAMPLE_NAME = "example-config.yaml"
TOKEN_PLACEHOLDER = "This value is generated when generating the registration"
PERMISSION_LEVELS = ("user", "admin")  # in rising order: each level includes those before it
QQ_PACING_FLOATS = (
    "poll_interval",
    "max_poll_interval",
    "send_interval",
    "penalty_wait",
    "request_timeout",
)
# Sections the user owns whole: an entry the user removed from them must stay removed.
OPAQUE_SECTIONS = frozenset({"bridge.permissions", "logging"})
ASYNC_DATABASE_DRIVERS = {"sqlite": "aiosqlite", "postgresql": "asyncpg"}

_LOCALPART = re.compile(r"[a-z0-9._=\-/+]+")
_SERVER_NAME = re.compile(r"(?:[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")
_MXID = re.compile(r"@[^:\s]+:\S+")
_MISSING = object()


class ConfigError(Exception):
    """A config that cannot be used; the message names the key and says what is wrong."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


def example_text() -> str:
    """The example config shipped inside the package, verbatim (comments and all)."""
    return resources.files("bridge").joinpath(EXAMPLE_NAME).read_text(encoding="utf-8")


@dataclass(frozen=True)
class _Indent:
    """The file's indentation, so that saving an upgraded file keeps the user's layout."""

    mapping: int = 4
    sequence: int = 6
    offset: int = 4

    @classmethod
    def guess(cls, text: str) -> _Indent:
        # ruamel's guess reports the sequence indent in place of the mapping indent when the file
        # has block sequences, so the mapping indent is read off the first nested key instead.
        _, sequence, offset = load_yaml_guess_indent(text)
        mapping = next(
            (
                len(line) - len(line.lstrip(" "))
                for line in text.splitlines()
                if line.startswith(" ") and line.strip()[:1] not in ("", "#", "-")
            ),
            cls.mapping,
        )
        if offset is None:
            return cls(mapping, mapping + 2, mapping)
        return cls(mapping, sequence, offset)

    def yaml(self) -> YAML:
        yaml = YAML()
        yaml.preserve_quotes = True
        yaml.width = 4096  # never re-wrap a user's long lines
        yaml.indent(mapping=self.mapping, sequence=self.sequence, offset=self.offset)
        return yaml


def _parse(text: str, source: str) -> tuple[CommentedMap, _Indent]:
    try:
        indent = _Indent.guess(text)
        document = indent.yaml().load(text)
    except MarkedYAMLError as e:
        line = f" at line {e.problem_mark.line + 1}" if e.problem_mark else ""
        raise ConfigError(f"{source} is not valid YAML{line}: {e.problem}") from None
    except YAMLError as e:
        raise ConfigError(f"{source} is not valid YAML: {e}") from None
    if not isinstance(document, CommentedMap):
        raise ConfigError(f"{source} must hold a YAML mapping of settings")
    return document, indent


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` in one step, keeping its permission bits; a new file is private (0600)
    since the config and the registration hold secrets."""
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = 0o600
    try:
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:
        # Name the file the caller asked for, not the temporary one.
        raise OSError(e.errno, e.strerror, str(path)) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


class _Grafter:
    """Adds to the user's document the keys it lacks, with the example's comments above them.

    ruamel keeps a comment line with the key *before* it (as that key's trailing comment), so a
    key inserted after an existing one takes over that key's trailing comment lines: they were
    written about whatever followed, which still follows the inserted key.
    """

    def __init__(self, example: CommentedMap, example_source: str, indent: _Indent) -> None:
        self.example = example
        self.example_lines = example_source.splitlines()
        self.indent = indent
        self.added: list[str] = []

    def graft(self, user: CommentedMap) -> list[str]:
        self._merge(user, self.example, prefix="", depth=0)
        return self.added

    def _merge(self, user: CommentedMap, example: CommentedMap, prefix: str, depth: int) -> None:
        example_keys = list(example)
        for index, key in enumerate(example_keys):
            dotted = f"{prefix}{key}"
            if key in user:
                nested = isinstance(user[key], CommentedMap) and isinstance(
                    example[key], CommentedMap
                )
                if nested and dotted not in OPAQUE_SECTIONS:
                    self._merge(user[key], example[key], f"{dotted}.", depth + 1)
                continue
            present_before = [k for k in example_keys[:index] if k in user]
            position = list(user).index(present_before[-1]) + 1 if present_before else 0
            carried = self._take_trailing(user, present_before[-1]) if present_before else None
            user.insert(position, key, self._copy(example[key], depth + 1))
            self._set_comment_above(user, key, self._comment_above(example, key, depth))
            if carried:
                owner, owner_key = self._trailing_owner(user, key)
                self._entry(owner, owner_key)[2] = CommentToken("\n" + carried, CommentMark(0))
            self.added.append(dotted)

    def _copy(self, node: Any, depth: int) -> Any:
        """A copy of an example node whose comments are rebuilt for the user's indentation."""
        if not isinstance(node, CommentedMap):
            return copy.deepcopy(node)
        fresh = CommentedMap()
        for key, value in node.items():
            fresh[key] = self._copy(value, depth + 1)
            self._set_comment_above(fresh, key, self._comment_above(node, key, depth))
        return fresh

    def _comment_above(self, example: CommentedMap, key: Any, depth: int) -> list[CommentToken]:
        """The comment paragraph right above ``key`` in the example's text, and one blank line
        before it if there is one (the text, since ruamel files comments under other keys)."""
        line, _ = example.lc.key(key)
        start = line
        while start > 0 and self.example_lines[start - 1].lstrip().startswith("#"):
            start -= 1
        if start > 0 and not self.example_lines[start - 1].strip():
            start -= 1
        mark = CommentMark(depth * self.indent.mapping)
        return [
            CommentToken(f"{text.strip()}\n" if text.strip() else "\n", mark)
            for text in self.example_lines[start:line]
        ]

    def _set_comment_above(self, mapping: CommentedMap, key: Any, tokens: list[Any]) -> None:
        if tokens:
            self._entry(mapping, key)[1] = tokens

    @staticmethod
    def _entry(mapping: CommentedMap, key: Any) -> list[Any]:
        entry: list[Any] = mapping.ca.items.setdefault(key, [None, None, None, None])
        return entry

    @staticmethod
    def _trailing_owner(mapping: CommentedMap, key: Any) -> tuple[CommentedMap, Any]:
        """The map and key whose trailing comment ends the text of ``mapping[key]``."""
        while isinstance(mapping[key], CommentedMap) and mapping[key]:
            mapping = mapping[key]
            key = list(mapping)[-1]
        return mapping, key

    def _take_trailing(self, mapping: CommentedMap, key: Any) -> str | None:
        """Detach the full comment lines after ``mapping[key]``, leaving its inline comment."""
        owner, owner_key = self._trailing_owner(mapping, key)
        entry = owner.ca.items.get(owner_key)
        if not entry or entry[2] is None:
            return None
        inline, _, following = entry[2].value.partition("\n")
        if not following:
            return None
        if inline.strip():
            entry[2].value = inline + "\n"
        else:
            entry[2] = None
        return str(following)


def _plain(node: Any) -> Any:
    """ruamel's commented containers and scalar subclasses as plain Python values."""
    if isinstance(node, dict):
        return {str(key): _plain(value) for key, value in node.items()}
    if isinstance(node, CommentedSeq | list):
        return [_plain(item) for item in node]
    if isinstance(node, bool) or node is None:
        return node
    for kind in (str, int, float):
        if isinstance(node, kind):
            return kind(node)
    return node


def _is_http_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _template_fields(template: str) -> list[str] | None:
    """The ``{field}`` names in a str.format template, or None if it is malformed."""
    try:
        return [field for _, field, _, _ in string.Formatter().parse(template) if field is not None]
    except ValueError:
        return None


class Config:
    """The bridge's settings, read with dotted keys (``config["qq.server"]``) or typed accessors."""

    def __init__(self, data: CommentedMap, *, indent: _Indent | None = None) -> None:
        self._data = data
        self._indent = indent or _Indent()
        # Dotted keys that the last upgrade added, for the caller to report once logging is up.
        self.added_keys: list[str] = []

    # ---- files ----------------------------------------------------------------------------

    @classmethod
    def load(cls, path: str | Path, *, update: bool = True, need_tokens: bool = True) -> Config:
        """Read ``path``, add settings it lacks from the example (writing the file back), check it.

        ``need_tokens=False`` accepts the token placeholders, for generating the registration.
        """
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(f"{path} does not exist") from None
        except OSError as e:
            raise ConfigError(f"cannot read {path}: {e.strerror}") from None
        data, indent = _parse(text, str(path))
        config = cls(data, indent=indent)
        if update:
            config._upgrade(path)
        config.validate(need_tokens=need_tokens)
        return config

    @classmethod
    def from_example(cls) -> Config:
        """The shipped example, tokens still the placeholder: a base for tests and the demo."""
        data, indent = _parse(example_text(), EXAMPLE_NAME)
        return cls(data, indent=indent)

    def save(self, path: str | Path) -> None:
        buffer = io.StringIO()
        self._indent.yaml().dump(self._data, buffer)
        write_atomically(Path(path), buffer.getvalue())

    def _upgrade(self, path: Path) -> None:
        source = example_text()
        example, _ = _parse(source, EXAMPLE_NAME)
        self.added_keys = _Grafter(example, source, self._indent).graft(self._data)
        if not self.added_keys:
            return
        try:
            self.save(path)
        except OSError as e:
            # A read-only config (a container mount, say) still runs with the defaults in memory.
            log.warning("Could not write the upgraded config back to %s: %s", path, e.strerror)

    # ---- dotted access --------------------------------------------------------------------

    def get(self, dotted_key: str, default: Any = None) -> Any:
        node: Any = self._data
        for part in dotted_key.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node

    def __getitem__(self, dotted_key: str) -> Any:
        value = self.get(dotted_key, _MISSING)
        if value is _MISSING:
            raise KeyError(dotted_key)
        return value

    def __setitem__(self, dotted_key: str, value: Any) -> None:
        *parents, last = dotted_key.split(".")
        node = self._data
        for part in parents:
            if not isinstance(node.get(part), dict):
                node[part] = CommentedMap()
            node = node[part]
        node[last] = value

    def __contains__(self, dotted_key: str) -> bool:
        return self.get(dotted_key, _MISSING) is not _MISSING

    # ---- validation -----------------------------------------------------------------------

    def validate(self, *, need_tokens: bool = True) -> None:
        """Raise ConfigError naming the first missing or unusable setting."""
        for key in ("homeserver.address", "appservice.address", "qq.server"):
            if not _is_http_url(self._required(key)):
                raise ConfigError(f"{key} must be an http:// or https:// URL", key)
        domain = self._required("homeserver.domain")
        if not isinstance(domain, str) or not _SERVER_NAME.fullmatch(domain):
            raise ConfigError(
                "homeserver.domain must be a server name like example.com, "
                "without http:// or a path",
                "homeserver.domain",
            )
        self._check_appservice(need_tokens)
        self._check_qq_pacing()
        self._check_templates()
        self._check_permissions()
        logging_config = self._required("logging")
        if not isinstance(logging_config, dict) or logging_config.get("version") != 1:
            raise ConfigError(
                "logging must be a logging.config.dictConfig mapping with version: 1", "logging"
            )

    def _required(self, key: str) -> Any:
        value = self.get(key)
        if value is None:
            raise ConfigError(f"{key} is missing", key)
        return value

    def _required_text(self, key: str) -> str:
        value = self._required(key)
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{key} must be a non-empty string", key)
        return value

    def _check_appservice(self, need_tokens: bool) -> None:
        self._required_text("appservice.hostname")
        port = self._required("appservice.port")
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            raise ConfigError("appservice.port must be an integer 1-65535", "appservice.port")
        self._check_database()
        if not re.fullmatch(r"\S+", self._required_text("appservice.id")):
            raise ConfigError("appservice.id must not contain spaces", "appservice.id")
        if not _LOCALPART.fullmatch(self._required_text("appservice.bot_username")):
            raise ConfigError(
                "appservice.bot_username must be a Matrix localpart: a-z, 0-9 and ._=-/+",
                "appservice.bot_username",
            )
        if not isinstance(self._required("appservice.bot_displayname"), str):
            raise ConfigError(
                "appservice.bot_displayname must be a string", "appservice.bot_displayname"
            )
        for key in ("appservice.as_token", "appservice.hs_token"):
            token = self._required(key)
            if not isinstance(token, str):
                raise ConfigError(f"{key} must be a string", key)
            if need_tokens and (not token.strip() or token == TOKEN_PLACEHOLDER):
                raise ConfigError(
                    f"{key} is not set: generate the registration with `python -m bridge -g`", key
                )

    def _check_database(self) -> None:
        # The URL may carry a password, so no message here repeats it.
        key = "appservice.database"
        url = self._required_text(key)
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise ConfigError(
                f"{key} must be a SQLAlchemy URL like sqlite+aiosqlite:///bridge.db", key
            ) from None
        backend, driver = parsed.get_backend_name(), parsed.get_driver_name()
        if ASYNC_DATABASE_DRIVERS.get(backend) != driver:
            raise ConfigError(
                f"{key} must use sqlite+aiosqlite or postgresql+asyncpg, not {backend}+{driver}",
                key,
            )

    def _check_qq_pacing(self) -> None:
        for name in QQ_PACING_FLOATS:
            key = f"qq.{name}"
            value = self._required(key)
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise ConfigError(f"{key} must be a positive number of seconds", key)
        penalties = self._required("qq.max_penalties")
        if isinstance(penalties, bool) or not isinstance(penalties, int) or penalties < 1:
            raise ConfigError("qq.max_penalties must be a positive integer", "qq.max_penalties")
        if self["qq.max_poll_interval"] < self["qq.poll_interval"]:
            raise ConfigError(
                "qq.max_poll_interval must be at least qq.poll_interval", "qq.max_poll_interval"
            )

    def _check_templates(self) -> None:
        key = "bridge.username_template"
        template = self._required_text(key)
        if _template_fields(template) != ["uin"] or not _LOCALPART.fullmatch(
            template.format(uin=10001)
        ):
            raise ConfigError(
                f"{key} must contain {{uin}} once, no other {{field}}, and otherwise only "
                "a-z, 0-9 and ._=-/+",
                key,
            )
        if self.uin_from_mxid(self.bot_mxid) is not None:
            raise ConfigError(
                "appservice.bot_username looks like a QQ user under bridge.username_template",
                "appservice.bot_username",
            )
        key = "bridge.displayname_template"
        fields = _template_fields(self._required_text(key))
        if fields is None or "nick" not in fields or not set(fields) <= {"nick", "uin"}:
            raise ConfigError(f"{key} must contain {{nick}} and no field but {{uin}}", key)

    def _check_permissions(self) -> None:
        key = "bridge.permissions"
        permissions = self._required(key)
        if not isinstance(permissions, dict):
            raise ConfigError(f"{key} must be a mapping of who to a level", key)
        for who, level in permissions.items():
            if not isinstance(who, str) or not (
                who == "*" or _MXID.fullmatch(who) or _SERVER_NAME.fullmatch(who)
            ):
                raise ConfigError(
                    f'{key}: {who!r} is not "*", a server name or a Matrix ID', f"{key}.{who}"
                )
            if level not in PERMISSION_LEVELS:
                raise ConfigError(
                    f'{key}: the level of {who!r} must be "user" or "admin", not {level!r}',
                    f"{key}.{who}",
                )

    # ---- typed accessors ------------------------------------------------------------------

    @property
    def homeserver_address(self) -> str:
        return str(self["homeserver.address"])

    @property
    def homeserver_domain(self) -> str:
        return str(self["homeserver.domain"])

    @property
    def appservice_address(self) -> str:
        return str(self["appservice.address"])

    @property
    def appservice_hostname(self) -> str:
        return str(self["appservice.hostname"])

    @property
    def appservice_port(self) -> int:
        return int(self["appservice.port"])

    @property
    def database_url(self) -> str:
        return str(self["appservice.database"])

    @property
    def appservice_id(self) -> str:
        return str(self["appservice.id"])

    @property
    def bot_username(self) -> str:
        return str(self["appservice.bot_username"])

    @property
    def bot_displayname(self) -> str:
        return str(self["appservice.bot_displayname"])

    @property
    def as_token(self) -> str:
        return str(self["appservice.as_token"])

    @property
    def hs_token(self) -> str:
        return str(self["appservice.hs_token"])

    @property
    def qq_server(self) -> str:
        return str(self["qq.server"])

    @property
    def qq_settings(self) -> dict[str, float | int]:
        """The client's pacing: the qq.* keys but ``server``, by their names in the file."""
        settings: dict[str, float | int] = {
            name: float(self[f"qq.{name}"]) for name in QQ_PACING_FLOATS
        }
        settings["max_penalties"] = int(self["qq.max_penalties"])
        return settings

    @property
    def username_template(self) -> str:
        return str(self["bridge.username_template"])

    @property
    def displayname_template(self) -> str:
        return str(self["bridge.displayname_template"])

    @property
    def logging(self) -> dict[str, Any]:
        """The logging section as plain dicts, ready for logging.config.dictConfig."""
        section: dict[str, Any] = _plain(self["logging"])
        return section

    # ---- Matrix IDs and permissions -------------------------------------------------------

    @property
    def bot_mxid(self) -> str:
        return f"@{self.bot_username}:{self.homeserver_domain}"

    def puppet_mxid(self, uin: int) -> str:
        return f"@{self.username_template.format(uin=uin)}:{self.homeserver_domain}"

    def uin_from_mxid(self, mxid: str) -> int | None:
        """The QQ number of a puppet's Matrix ID, or None for any other Matrix ID."""
        prefix, _, suffix = self.username_template.partition("{uin}")
        pattern = (
            f"@{re.escape(prefix)}([1-9][0-9]*){re.escape(suffix)}:"
            f"{re.escape(self.homeserver_domain)}"
        )
        match = re.fullmatch(pattern, mxid)
        return int(match.group(1)) if match else None

    def displayname(self, nick: str, uin: int) -> str:
        """A puppet's display name; a QQ user without a nickname is shown by number."""
        shown = nick.strip() or str(uin)
        return self.displayname_template.format(nick=shown, uin=uin)

    def permission(self, mxid: str) -> str | None:
        """``admin``, ``user`` or None: the entry for the Matrix ID, else its server, else "*"."""
        permissions: dict[str, str] = _plain(self.get("bridge.permissions") or {})
        if not _MXID.fullmatch(mxid):
            return None
        if mxid in permissions:
            return permissions[mxid]
        server = mxid.partition(":")[2]
        if server in permissions:
            return permissions[server]
        return permissions.get("*")

    def has_permission(self, mxid: str, level: str = "user") -> bool:
        """Whether ``mxid`` may act at ``level``; an admin may do everything a user may."""
        granted = self.permission(mxid)
        if granted not in PERMISSION_LEVELS:
            return False
        return PERMISSION_LEVELS.index(granted) >= PERMISSION_LEVELS.index(level)
