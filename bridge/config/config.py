"""The ``Config`` class: the settings read with dotted keys or typed accessors, loaded, upgraded
and saved through ``yamlfile``, and checked through ``validation``."""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap

from . import validation
from .errors import ConfigError
from .validation import _MXID, PERMISSION_LEVELS, PROVISIONING_OFF, QQ_PACING_FLOATS
from .yamlfile import (
    EXAMPLE_NAME,
    _Grafter,
    _Indent,
    _parse,
    _plain,
    example_text,
    write_atomically,
)

# The package's name, as before the module became a package, so log records keep their logger.
log = logging.getLogger("bridge.config")

_MISSING = object()


class Config:
    """The bridge's settings, read with dotted keys (``config["qq.server"]``) or typed accessors."""

    def __init__(self, data: CommentedMap, *, indent: _Indent | None = None) -> None:
        self._data = data
        self._indent = indent or _Indent()
        # Dotted keys that the last upgrade added, for the caller to report once logging is up.
        self.added_keys: list[str] = []
        # The file it was loaded from: relative paths in it (the key file) are beside it.
        self.path: Path | None = None

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
        config.path = path
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
        validation.validate(self, need_tokens=need_tokens)

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
    def secret_key_path(self) -> Path:
        """The key file of the stored logins; a relative path is beside the config file."""
        path = Path(str(self["appservice.secret_key_file"])).expanduser()
        if not path.is_absolute() and self.path is not None:
            path = self.path.parent / path
        return path

    @property
    def public_address(self) -> str | None:
        """The base URL of the login page as browsers reach it, without a trailing slash."""
        address = str(self.get("appservice.public_address") or "").strip()
        return address.rstrip("/") or None

    @property
    def provisioning_prefix(self) -> str:
        return "/" + str(self["provisioning.prefix"]).strip("/")

    @property
    def provisioning_secret(self) -> str | None:
        """The provisioning API's shared secret; None when it is off (or not generated yet)."""
        secret = str(self["provisioning.shared_secret"])
        return None if secret in PROVISIONING_OFF else secret

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
        settings["idle_poll_budget"] = float(self["qq.idle_poll_budget"])
        settings["login_rate"] = float(self["qq.login_rate"])
        settings["max_reply_bytes"] = int(self["qq.max_reply_bytes"])
        return settings

    @property
    def username_template(self) -> str:
        return str(self["bridge.username_template"])

    @property
    def displayname_template(self) -> str:
        return str(self["bridge.displayname_template"])

    @property
    def encryption_allowed(self) -> bool:
        return bool(self["bridge.encryption.allow"])

    @property
    def encryption_default(self) -> bool:
        """New portals are made encrypted (``default``, or ``require`` which implies it)."""
        return self.encryption_allowed and bool(
            self["bridge.encryption.default"] or self.encryption_required
        )

    @property
    def encryption_required(self) -> bool:
        """Only encrypted portals are bridged (validation makes sure ``allow`` is on)."""
        return self.encryption_allowed and bool(self.get("bridge.encryption.require", False))

    @property
    def presence_refresh(self) -> float:
        """Seconds between two settings of an online or busy puppet's presence."""
        return float(self["bridge.presence_refresh"])

    @property
    def command_prefix(self) -> str:
        """What starts a command outside the management room, e.g. ``!qq``."""
        return str(self["bridge.command_prefix"])

    @property
    def metrics_enabled(self) -> bool:
        return bool(self.get("metrics.enabled", False))

    @property
    def metrics_listen(self) -> tuple[str, int]:
        """``metrics.listen`` as (host, port); ValueError when it is not host:port."""
        host, _, port = str(self.get("metrics.listen", "127.0.0.1:8001")).rpartition(":")
        number = int(port)
        if not host or not 0 < number < 65536:
            raise ValueError(port)
        return host.strip("[]"), number

    @property
    def status_endpoint(self) -> str | None:
        """``homeserver.status_endpoint``: where bridge states are pushed; None when empty."""
        return str(self.get("homeserver.status_endpoint") or "").strip() or None

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
