"""The appservice registration: its contents, and generating it together with the tokens."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from bridge.config import TOKEN_PLACEHOLDER, Config, ConfigError, example_text
from bridge.registration import build_registration, generate

REPOSITORY = Path(__file__).resolve().parent.parent


def user_regexes(registration: dict[str, object]) -> list[str]:
    namespaces = registration["namespaces"]
    assert isinstance(namespaces, dict)
    return [entry["regex"] for entry in namespaces["users"] if entry["exclusive"] is True]


def test_registration_of_the_example() -> None:
    config = Config.from_example()
    registration = build_registration(config)
    assert registration["id"] == "qq"
    assert registration["url"] == "http://localhost:29340"
    assert registration["sender_localpart"] == "qqbot"
    assert registration["as_token"] == registration["hs_token"] == TOKEN_PLACEHOLDER
    assert registration["rate_limited"] is False
    assert registration["de.sorunome.msc2409.push_ephemeral"] is True
    assert registration["org.matrix.msc3202"] is True
    assert registration["receive_ephemeral"] is True
    assert user_regexes(registration) == [r"@qq_.*:example\.com", r"@qqbot:example\.com"]


@pytest.mark.parametrize(
    ("mxid", "owned"),
    [
        ("@qq_10001:example.com", True),
        ("@qqbot:example.com", True),
        ("@alice:example.com", False),
        ("@qq_10001:exampleXcom", False),
        ("@qq_10001:other.org", False),
        ("@qqbot2:example.com", False),
    ],
)
def test_namespace_owns_the_puppets_and_the_bot_only(mxid: str, owned: bool) -> None:
    regexes = user_regexes(build_registration(Config.from_example()))
    # Synapse matches a namespace regex against the whole user ID.
    assert any(re.fullmatch(regex, mxid) for regex in regexes) is owned


def test_namespace_follows_a_template_with_special_characters() -> None:
    config = Config.from_example()
    config["bridge.username_template"] = "qq.{uin}+x"
    config["homeserver.domain"] = "my.org"
    (puppets, _) = user_regexes(build_registration(config))
    assert re.fullmatch(puppets, config.puppet_mxid(10001))
    assert not re.fullmatch(puppets, "@qqX10001+x:my.org")
    assert not re.fullmatch(puppets, "@qq.10001xx:my.org")


def test_generate_writes_fresh_tokens_into_both_files(tmp_path: Path) -> None:
    config_path = tmp_path / "config.yaml"
    registration_path = tmp_path / "registration.yaml"
    Config.from_example().save(config_path)

    generate(config_path, registration_path)

    registration = YAML(typ="safe").load(registration_path.read_text())
    config = Config.load(config_path)  # now valid for running: the tokens are set
    assert registration == build_registration(config)
    assert registration["as_token"] != registration["hs_token"]
    assert len(registration["as_token"]) >= 43 and len(registration["hs_token"]) >= 43
    assert TOKEN_PLACEHOLDER not in config_path.read_text()
    # The config's comments survive the round trip.
    assert "# The secrets shared with the homeserver." in config_path.read_text()
    assert registration_path.stat().st_mode & 0o777 == 0o600

    first = registration["as_token"]
    generate(config_path, registration_path)
    assert YAML(typ="safe").load(registration_path.read_text())["as_token"] != first


def test_generate_refuses_an_invalid_config(tmp_path: Path) -> None:
    config_path = tmp_path / "config.yaml"
    config = Config.from_example()
    config["homeserver.domain"] = "https://example.com"
    config.save(config_path)
    with pytest.raises(ConfigError, match=r"homeserver\.domain must be a server name"):
        generate(config_path, tmp_path / "registration.yaml")
    assert not (tmp_path / "registration.yaml").exists()


def test_the_shipped_example_registration_matches_what_is_generated() -> None:
    shipped = YAML(typ="safe").load((REPOSITORY / "registration.example.yaml").read_text())
    generated = build_registration(Config.from_example())
    assert shipped.keys() == generated.keys()
    for key in shipped.keys() - {"as_token", "hs_token"}:
        assert shipped[key] == generated[key], key


def test_generate_makes_a_private_key_once_and_a_provisioning_secret(tmp_path: Path) -> None:
    config_path, registration_path = tmp_path / "config.yaml", tmp_path / "registration.yaml"
    config_path.write_text(example_text())
    generate(config_path, registration_path)
    key = tmp_path / "qq-bridge.key"  # beside the config, as the example's relative path says
    assert key.stat().st_mode & 0o777 == 0o600
    first_key = key.read_bytes()
    secret = Config.load(config_path)["provisioning.shared_secret"]
    assert secret not in ("generate", "disable") and len(secret) >= 32
    generate(config_path, registration_path)
    assert key.read_bytes() == first_key  # a new key would make every stored login unreadable
    assert Config.load(config_path)["provisioning.shared_secret"] == secret
