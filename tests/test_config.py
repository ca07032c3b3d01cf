"""The config: the shipped example, validation messages, upgrading a file in place, helpers."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from bridge.config import TOKEN_PLACEHOLDER, Config, ConfigError, example_text


def example_with_tokens() -> Config:
    config = Config.from_example()
    config["appservice.as_token"] = "as-secret"
    config["appservice.hs_token"] = "hs-secret"
    return config


def test_example_has_the_documented_defaults() -> None:
    config = Config.from_example()
    config.validate(need_tokens=False)
    assert config.homeserver_address == "http://localhost:8008"
    assert config.homeserver_domain == "example.com"
    assert config.appservice_address == "http://localhost:29340"
    assert (config.appservice_hostname, config.appservice_port) == ("127.0.0.1", 29340)
    assert config.database_url == "sqlite+aiosqlite:///bridge.db"
    assert (config.appservice_id, config.bot_username) == ("qq", "qqbot")
    assert config.bot_displayname == "QQ bridge bot"
    assert config.as_token == config.hs_token == TOKEN_PLACEHOLDER
    assert config.qq_server == "http://127.0.0.1:8000"
    assert config.qq_settings == {
        "poll_interval": 1.0,
        "max_poll_interval": 2.0,
        "send_interval": 1.0,
        "penalty_wait": 20.0,
        "max_penalties": 5,
        "connect_timeout": 5.0,
        "read_timeout": 10.0,
        "request_timeout": 35.0,
        "max_reply_bytes": 1048576,
        "idle_poll_budget": 200.0,
        "login_rate": 50.0,
    }
    assert isinstance(config.qq_settings["max_penalties"], int)
    assert config.username_template == "qq_{uin}"
    assert config.displayname_template == "{nick} (QQ)"
    assert config["bridge.permissions"] == {"example.com": "user", "@admin:example.com": "admin"}
    assert config.logging["root"]["level"] == "INFO"
    # Not a line per transaction Synapse pushes (docs/performance.md).
    assert config.logging["loggers"]["aiohttp.access"]["level"] == "WARNING"
    assert type(config.logging) is dict and type(config.logging["handlers"]) is dict


def test_example_refuses_to_run_with_placeholder_tokens() -> None:
    with pytest.raises(ConfigError, match=r"appservice\.as_token is not set") as caught:
        Config.from_example().validate()
    assert caught.value.key == "appservice.as_token"
    example_with_tokens().validate()


def test_load_reads_and_validates_a_file(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    example_with_tokens().save(path)
    config = Config.load(path)
    assert config.as_token == "as-secret"
    assert config.added_keys == []


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("homeserver.domain", None, "homeserver.domain is missing"),
        ("homeserver.domain", "https://example.com", "homeserver.domain must be a server name"),
        ("homeserver.address", "ftp://localhost", "homeserver.address must be an http"),
        ("homeserver.address", "localhost:8008", "homeserver.address must be an http"),
        ("appservice.address", 29340, "appservice.address must be an http"),
        ("qq.server", "127.0.0.1:8000", "qq.server must be an http"),
        ("appservice.port", "29340", "appservice.port must be an integer 1-65535"),
        ("appservice.port", 0, "appservice.port must be an integer 1-65535"),
        ("appservice.port", 65536, "appservice.port must be an integer 1-65535"),
        ("appservice.port", True, "appservice.port must be an integer 1-65535"),
        ("bridge.command_prefix", "", "bridge.command_prefix must be a non-empty string"),
        ("bridge.command_prefix", "!q q", "bridge.command_prefix must be one word"),
        ("bridge.presence_refresh", 0, "bridge.presence_refresh must be a number of seconds"),
        ("bridge.presence_refresh", "20", "bridge.presence_refresh must be a number of seconds"),
        ("bridge.presence_refresh", None, "bridge.presence_refresh is missing"),
        ("metrics.enabled", "yes", "metrics.enabled must be true or false"),
        ("metrics.listen", "8001", "metrics.listen must be host:port"),
        ("metrics.listen", "localhost:http", "metrics.listen must be host:port"),
        ("homeserver.status_endpoint", "status.example", "homeserver.status_endpoint must be"),
        ("appservice.hostname", "", "appservice.hostname must be a non-empty string"),
        ("appservice.database", "not a url", "appservice.database must be a SQLAlchemy URL"),
        ("appservice.database", "sqlite:///bridge.db", "not sqlite+pysqlite"),
        ("appservice.id", "q q", "appservice.id must not contain spaces"),
        ("appservice.bot_username", "QQBot", "appservice.bot_username must be a Matrix localpart"),
        ("appservice.bot_username", "qq_42", "appservice.bot_username looks like a QQ user"),
        ("appservice.hs_token", TOKEN_PLACEHOLDER, "appservice.hs_token is not set"),
        ("appservice.as_token", "", "appservice.as_token is not set"),
        ("qq.poll_interval", 0, "qq.poll_interval must be a positive number"),
        ("qq.send_interval", "fast", "qq.send_interval must be a positive number"),
        ("qq.penalty_wait", None, "qq.penalty_wait is missing"),
        ("qq.max_penalties", 2.5, "qq.max_penalties must be a positive integer"),
        ("qq.idle_poll_budget", -1, "qq.idle_poll_budget must be a number of polls per second"),
        ("qq.login_rate", "fast", "qq.login_rate must be a number of logins per second"),
        ("qq.max_poll_interval", 0.5, "qq.max_poll_interval must be at least qq.poll_interval"),
        ("bridge.username_template", "qq_user", "bridge.username_template must contain {uin}"),
        ("bridge.username_template", "qq_{uin}_{nick}", "bridge.username_template must contain"),
        ("bridge.username_template", "QQ {uin}", "bridge.username_template must contain"),
        ("bridge.displayname_template", "QQ user", "bridge.displayname_template must contain"),
        ("bridge.displayname_template", "{nick} {x}", "bridge.displayname_template must contain"),
        ("bridge.displayname_template", "{nick", "bridge.displayname_template must contain"),
        ("bridge.permissions", ["example.com"], "bridge.permissions must be a mapping"),
        ("bridge.permissions", {"example.com": "owner"}, 'must be "user" or "admin"'),
        ("bridge.permissions", {"not a server": "user"}, 'is not "*", a server name'),
        ("bridge.encryption.allow", "yes", "bridge.encryption.allow must be true or false"),
        ("bridge.encryption.default", "on", "bridge.encryption.default must be true or false"),
        ("bridge.encryption.require", 1, "bridge.encryption.require must be true or false"),
        ("logging", {"handlers": {}}, "logging must be a logging.config.dictConfig mapping"),
    ],
)
def test_each_invalid_setting_is_named(key: str, value: Any, message: str) -> None:
    config = example_with_tokens()
    if value is None:
        section, _, name = key.rpartition(".")
        del config[section][name]
    else:
        config[key] = value
    with pytest.raises(ConfigError, match=re.escape(message)) as caught:
        config.validate()
    assert str(caught.value).startswith(key)
    assert caught.value.key is not None and caught.value.key.startswith(key)


@pytest.mark.parametrize("key", ["bridge.encryption.default", "bridge.encryption.require"])
def test_encryption_settings_need_allow(key: str) -> None:
    config = example_with_tokens()
    config["bridge.encryption.allow"] = False
    config["bridge.encryption.default"] = False
    config[key] = True
    with pytest.raises(ConfigError, match=re.escape(f"{key} needs bridge.encryption.allow")):
        config.validate()


def test_the_example_config_suits_a_new_element_x_or_cinny_user() -> None:
    """Element X and Cinny make every new direct chat encrypted: the bridge reads them, and
    makes its own portals encrypted too, without editing anything; `require` stays off so a
    chat in clear still works."""
    config = example_with_tokens()
    assert config.encryption_allowed and config.encryption_default
    assert not config.encryption_required
    config["bridge.encryption.default"] = False
    config["bridge.encryption.require"] = True
    assert config.encryption_default, "require implies encrypted portals"


def test_errors_never_repeat_a_database_password() -> None:
    config = example_with_tokens()
    config["appservice.database"] = "mysql+aiomysql://bridge:hunter2@db/qq"
    with pytest.raises(ConfigError) as caught:
        config.validate()
    assert "hunter2" not in str(caught.value)
    assert "mysql+aiomysql" in str(caught.value)


def test_postgres_urls_are_accepted() -> None:
    config = example_with_tokens()
    config["appservice.database"] = "postgresql+asyncpg://bridge:pw@db/qq"
    config.validate()


def test_a_missing_file_or_bad_yaml_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        Config.load(tmp_path / "absent.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("homeserver:\n    address: [unclosed\n")
    with pytest.raises(ConfigError, match=r"broken\.yaml is not valid YAML at line \d"):
        Config.load(broken)
    listing = tmp_path / "list.yaml"
    listing.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="must hold a YAML mapping"):
        Config.load(listing)


OLD_CONFIG = """\
# My bridge, set up in March.
homeserver:
  address: https://matrix.my.org  # behind nginx
  domain: my.org

appservice:
  address: http://bridge:29340
  hostname: 0.0.0.0
  port: 29340
  # kept in postgres since April
  database: postgresql+asyncpg://qq:pw@db/qq
  id: qq
  bot_username: qqbot
  bot_displayname: QQ bot
  as_token: as-secret
  hs_token: hs-secret

qq:
  server: http://qq.example:8000
  # I like it slow
  send_interval: 3.0

bridge:
  username_template: qq_{uin}
  permissions:
    "@me:my.org": admin
"""


def test_upgrade_adds_new_keys_and_keeps_the_users_values_and_comments(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(OLD_CONFIG)
    path.chmod(0o640)

    config = Config.load(path)

    assert config.added_keys == [
        "homeserver.status_endpoint",
        "appservice.secret_key_file",
        "appservice.public_address",
        "provisioning",
        "qq.poll_interval",
        "qq.max_poll_interval",
        "qq.idle_poll_budget",
        "qq.login_rate",
        "qq.penalty_wait",
        "qq.max_penalties",
        "qq.connect_timeout",
        "qq.read_timeout",
        "qq.request_timeout",
        "qq.max_reply_bytes",
        "bridge.displayname_template",
        "bridge.command_prefix",
        "bridge.presence_refresh",
        "bridge.encryption",
        "metrics",
        "logging",
    ]
    assert config["qq.send_interval"] == 3.0
    # The example's default: Element X and Cinny make new chats encrypted.
    assert config.encryption_allowed is True
    assert config.qq_settings["max_penalties"] == 5
    assert config.displayname_template == "{nick} (QQ)"
    text = path.read_text()
    # The user's comments, values, quoting and two-space indentation survive...
    for kept in (
        "# My bridge, set up in March.\n",
        "  address: https://matrix.my.org  # behind nginx\n",
        "  # kept in postgres since April\n  database: postgresql+asyncpg://qq:pw@db/qq\n",
        "  # I like it slow\n  send_interval: 3.0\n",
        '    "@me:my.org": admin\n',
    ):
        assert kept in text
    # ...and the new keys come with the example's comments, in the example's order.
    assert (
        "  # Seconds before an unanswered request to the QQ server counts as failed. Over 30,"
        in text
    )
    assert text.index("poll_interval: 1.0") < text.index("# I like it slow")
    assert text.index("send_interval: 3.0") < text.index("penalty_wait: 20.0")
    # A section the user owns whole is not refilled with the example's entries.
    assert "example.com: user" not in text
    assert config["bridge.permissions"] == {"@me:my.org": "admin"}
    assert path.stat().st_mode & 0o777 == 0o640
    # The written file is the upgraded config, and upgrading it again changes nothing.
    reloaded = Config.load(path)
    assert reloaded.added_keys == []
    assert path.read_text() == text


def test_upgrade_from_nothing_but_the_required_values_gives_the_example(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("appservice:\n    as_token: a\n    hs_token: b\n")
    Config.load(path)
    yaml = YAML(typ="safe")
    upgraded = yaml.load(path.read_text())
    expected = yaml.load(example_text())
    expected["appservice"].update(as_token="a", hs_token="b")
    assert upgraded == expected


def test_load_without_update_leaves_the_file_alone(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(OLD_CONFIG)
    with pytest.raises(ConfigError, match=r"appservice\.secret_key_file is missing"):
        Config.load(path, update=False)
    assert path.read_text() == OLD_CONFIG


def test_save_round_trips_comments(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    config = Config.from_example()
    config["qq.server"] = "http://qq.test:9000"
    config.save(path)
    assert path.read_text() == example_text().replace("127.0.0.1:8000", "qq.test:9000")
    assert path.stat().st_mode & 0o777 == 0o600


def test_dotted_access() -> None:
    config = Config.from_example()
    assert config["appservice.port"] == 29340
    assert "qq.server" in config and "qq.nothing" not in config
    with pytest.raises(KeyError):
        config["qq.nothing"]
    config["new.nested.key"] = 1
    assert config["new.nested.key"] == 1
    assert config.get("qq.server.deeper", "default") == "default"


@pytest.mark.parametrize("uin", [1, 10001, 2**31 - 1])
def test_puppet_mxids_round_trip(uin: int) -> None:
    config = Config.from_example()
    mxid = config.puppet_mxid(uin)
    assert mxid == f"@qq_{uin}:example.com"
    assert config.uin_from_mxid(mxid) == uin


@pytest.mark.parametrize(
    "mxid",
    [
        "@qqbot:example.com",
        "@alice:example.com",
        "@qq_10001:other.org",
        "@qq_10001:example.com.evil",
        "@qq_abc:example.com",
        "@qq_010001:example.com",
        "@qq_:example.com",
        "qq_10001:example.com",
        "@xqq_10001:example.com",
    ],
)
def test_other_mxids_are_not_puppets(mxid: str) -> None:
    assert Config.from_example().uin_from_mxid(mxid) is None


def test_mxid_helpers_follow_the_template_and_domain() -> None:
    config = Config.from_example()
    config["bridge.username_template"] = "_qq.{uin}.puppet"
    config["homeserver.domain"] = "chat.my.org:8448"
    assert config.bot_mxid == "@qqbot:chat.my.org:8448"
    assert config.puppet_mxid(42) == "@_qq.42.puppet:chat.my.org:8448"
    assert config.uin_from_mxid("@_qq.42.puppet:chat.my.org:8448") == 42
    assert config.uin_from_mxid("@_qqX42Xpuppet:chat.my.org:8448") is None


def test_displayname() -> None:
    config = Config.from_example()
    assert config.displayname("小明", 10001) == "小明 (QQ)"
    assert config.displayname("{uin}", 10001) == "{uin} (QQ)"
    assert config.displayname("", 10001) == "10001 (QQ)"
    assert config.displayname("  ", 10001) == "10001 (QQ)"
    config["bridge.displayname_template"] = "{nick} [{uin}]"
    assert config.displayname("Bob", 7) == "Bob [7]"


def test_permissions_precedence() -> None:
    config = example_with_tokens()
    config["bridge.permissions"] = {
        "*": "user",
        "example.com": "admin",
        "@guest:example.com": "user",
        "@boss:other.org": "admin",
    }
    config.validate()
    assert config.permission("@guest:example.com") == "user"  # the MXID beats its domain
    assert config.permission("@anyone:example.com") == "admin"  # the domain beats "*"
    assert config.permission("@boss:other.org") == "admin"
    assert config.permission("@someone:other.org") == "user"  # "*"
    assert config.permission("example.com") is None  # not a Matrix ID, so not even "*"
    assert config.permission("@nobody") is None
    del config["bridge.permissions"]["*"]
    assert config.permission("@someone:other.org") is None


def test_admin_implies_user() -> None:
    config = Config.from_example()
    assert config.has_permission("@admin:example.com", "user")
    assert config.has_permission("@admin:example.com", "admin")
    assert config.has_permission("@bob:example.com")
    assert not config.has_permission("@bob:example.com", "admin")
    assert not config.has_permission("@eve:evil.org")


def test_a_rewritten_file_is_never_left_readable_by_others(tmp_path: Path) -> None:
    from bridge.config.yamlfile import write_atomically

    path = tmp_path / "config.yaml"
    path.write_text("as_token: old\n")
    path.chmod(0o644)  # as an editor or a copy may leave it
    write_atomically(path, "as_token: new-secret\n")
    assert path.stat().st_mode & 0o777 == 0o640
    assert path.read_text() == "as_token: new-secret\n"
