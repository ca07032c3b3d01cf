"""Checking a config: every setting the bridge needs is there and usable.

Each check raises ConfigError naming the first missing or unusable setting; ``Config.validate``
delegates here.
"""

from __future__ import annotations

import re
import string
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from .errors import ConfigError

if TYPE_CHECKING:
    from .config import Config

TOKEN_PLACEHOLDER = "This value is generated when generating the registration"
PERMISSION_LEVELS = ("user", "admin")  # in rising order: each level includes those before it
QQ_PACING_FLOATS = (
    "poll_interval",
    "max_poll_interval",
    "send_interval",
    "penalty_wait",
    "connect_timeout",
    "read_timeout",
    "request_timeout",
)
# Below this a real reply (a GetInfo, a list of 160 friends: a few KB) could be refused.
MIN_REPLY_BYTES = 64 * 1024
# provisioning.shared_secret values that turn the API off: not made yet, or not wanted.
PROVISIONING_OFF = ("generate", "disable")
MIN_PROVISIONING_SECRET = 16  # characters: a guessable secret would open every user's login
ASYNC_DATABASE_DRIVERS = {"sqlite": "aiosqlite", "postgresql": "asyncpg"}

_LOCALPART = re.compile(r"[a-z0-9._=\-/+]+")
_SERVER_NAME = re.compile(r"(?:[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")
_MXID = re.compile(r"@[^:\s]+:\S+")


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


def validate(config: Config, *, need_tokens: bool = True) -> None:
    """Raise ConfigError naming the first missing or unusable setting."""
    for key in ("homeserver.address", "appservice.address", "qq.server"):
        if not _is_http_url(_required(config, key)):
            raise ConfigError(f"{key} must be an http:// or https:// URL", key)
    domain = _required(config, "homeserver.domain")
    if not isinstance(domain, str) or not _SERVER_NAME.fullmatch(domain):
        raise ConfigError(
            "homeserver.domain must be a server name like example.com, without http:// or a path",
            "homeserver.domain",
        )
    _check_appservice(config, need_tokens)
    _check_security(config)
    _check_qq_pacing(config)
    _check_templates(config)
    _check_permissions(config)
    _check_encryption(config)
    _check_metrics(config)
    endpoint = config.get("homeserver.status_endpoint") or ""
    if endpoint and not _is_http_url(endpoint):
        raise ConfigError(
            "homeserver.status_endpoint must be empty or an http(s) URL",
            "homeserver.status_endpoint",
        )
    logging_config = _required(config, "logging")
    if not isinstance(logging_config, dict) or logging_config.get("version") != 1:
        raise ConfigError(
            "logging must be a logging.config.dictConfig mapping with version: 1", "logging"
        )


def _required(config: Config, key: str) -> Any:
    value = config.get(key)
    if value is None:
        raise ConfigError(f"{key} is missing", key)
    return value


def _required_text(config: Config, key: str) -> str:
    value = _required(config, key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{key} must be a non-empty string", key)
    return value


def _check_appservice(config: Config, need_tokens: bool) -> None:
    _required_text(config, "appservice.hostname")
    port = _required(config, "appservice.port")
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ConfigError("appservice.port must be an integer 1-65535", "appservice.port")
    _check_database(config)
    if not re.fullmatch(r"\S+", _required_text(config, "appservice.id")):
        raise ConfigError("appservice.id must not contain spaces", "appservice.id")
    if not _LOCALPART.fullmatch(_required_text(config, "appservice.bot_username")):
        raise ConfigError(
            "appservice.bot_username must be a Matrix localpart: a-z, 0-9 and ._=-/+",
            "appservice.bot_username",
        )
    if not isinstance(_required(config, "appservice.bot_displayname"), str):
        raise ConfigError(
            "appservice.bot_displayname must be a string", "appservice.bot_displayname"
        )
    for key in ("appservice.as_token", "appservice.hs_token"):
        token = _required(config, key)
        if not isinstance(token, str):
            raise ConfigError(f"{key} must be a string", key)
        if need_tokens and (not token.strip() or token == TOKEN_PLACEHOLDER):
            raise ConfigError(
                f"{key} is not set: generate the registration with `python -m bridge -g`", key
            )


def _check_security(config: Config) -> None:
    _required_text(config, "appservice.secret_key_file")
    public = config.get("appservice.public_address")
    if public not in (None, "") and not _is_http_url(public):
        raise ConfigError(
            "appservice.public_address must be empty or an http:// or https:// URL",
            "appservice.public_address",
        )
    prefix = _required_text(config, "provisioning.prefix")
    if not re.fullmatch(r"/[A-Za-z0-9._~\-/]*", prefix):
        raise ConfigError(
            "provisioning.prefix must be a URL path such as /_matrix/provision",
            "provisioning.prefix",
        )
    # Never repeat the secret in a message.
    secret = _required(config, "provisioning.shared_secret")
    if not isinstance(secret, str) or (
        secret not in PROVISIONING_OFF and len(secret.strip()) < MIN_PROVISIONING_SECRET
    ):
        raise ConfigError(
            f"provisioning.shared_secret must be generate, disable or at least "
            f"{MIN_PROVISIONING_SECRET} characters",
            "provisioning.shared_secret",
        )


def _check_database(config: Config) -> None:
    # The URL may carry a password, so no message here repeats it.
    key = "appservice.database"
    url = _required_text(config, key)
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


def _check_qq_pacing(config: Config) -> None:
    for name in QQ_PACING_FLOATS:
        key = f"qq.{name}"
        value = _required(config, key)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ConfigError(f"{key} must be a positive number of seconds", key)
    for key, unit in (("qq.idle_poll_budget", "polls"), ("qq.login_rate", "logins")):
        value = _required(config, key)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ConfigError(f"{key} must be a number of {unit} per second, or 0", key)
    penalties = _required(config, "qq.max_penalties")
    if isinstance(penalties, bool) or not isinstance(penalties, int) or penalties < 1:
        raise ConfigError("qq.max_penalties must be a positive integer", "qq.max_penalties")
    limit = _required(config, "qq.max_reply_bytes")
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < MIN_REPLY_BYTES:
        raise ConfigError(
            f"qq.max_reply_bytes must be a whole number of bytes, at least {MIN_REPLY_BYTES}",
            "qq.max_reply_bytes",
        )
    if config["qq.request_timeout"] < config["qq.read_timeout"]:
        raise ConfigError(
            "qq.request_timeout must be at least qq.read_timeout", "qq.request_timeout"
        )
    if config["qq.max_poll_interval"] < config["qq.poll_interval"]:
        raise ConfigError(
            "qq.max_poll_interval must be at least qq.poll_interval", "qq.max_poll_interval"
        )


def _check_templates(config: Config) -> None:
    key = "bridge.username_template"
    template = _required_text(config, key)
    if _template_fields(template) != ["uin"] or not _LOCALPART.fullmatch(
        template.format(uin=10001)
    ):
        raise ConfigError(
            f"{key} must contain {{uin}} once, no other {{field}}, and otherwise only "
            "a-z, 0-9 and ._=-/+",
            key,
        )
    if config.uin_from_mxid(config.bot_mxid) is not None:
        raise ConfigError(
            "appservice.bot_username looks like a QQ user under bridge.username_template",
            "appservice.bot_username",
        )
    key = "bridge.displayname_template"
    fields = _template_fields(_required_text(config, key))
    if fields is None or "nick" not in fields or not set(fields) <= {"nick", "uin"}:
        raise ConfigError(f"{key} must contain {{nick}} and no field but {{uin}}", key)
    key = "bridge.command_prefix"
    prefix = _required_text(config, key)
    if not prefix or prefix != prefix.strip() or any(c.isspace() for c in prefix):
        raise ConfigError(f"{key} must be one word, such as !qq", key)
    key = "bridge.presence_refresh"
    refresh = _required(config, key)
    if isinstance(refresh, bool) or not isinstance(refresh, int | float) or refresh <= 0:
        raise ConfigError(f"{key} must be a number of seconds above 0, such as 20", key)


def _check_permissions(config: Config) -> None:
    key = "bridge.permissions"
    permissions = _required(config, key)
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


def _check_encryption(config: Config) -> None:
    for key in ("bridge.encryption.allow", "bridge.encryption.default"):
        if not isinstance(_required(config, key), bool):
            raise ConfigError(f"{key} must be true or false", key)
    # `require` came later: a config written before it means false.
    if not isinstance(config.get("bridge.encryption.require", False), bool):
        raise ConfigError(
            "bridge.encryption.require must be true or false", "bridge.encryption.require"
        )
    for key in ("bridge.encryption.default", "bridge.encryption.require"):
        if config.get(key, False) and not config["bridge.encryption.allow"]:
            raise ConfigError(f"{key} needs bridge.encryption.allow", key)


def _check_metrics(config: Config) -> None:
    if not isinstance(config.get("metrics.enabled", False), bool):
        raise ConfigError("metrics.enabled must be true or false", "metrics.enabled")
    try:
        config.metrics_listen  # noqa: B018  (parsing it is the check)
    except ValueError:
        raise ConfigError(
            "metrics.listen must be host:port, such as 127.0.0.1:8001", "metrics.listen"
        ) from None
