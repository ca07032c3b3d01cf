"""The appservice registration: the YAML file Synapse loads to know the bridge.

Generating it also generates the two shared secrets and stores them in the bridge's config, so
the two files always agree; the old registration stops working, and Synapse must be restarted.
"""

from __future__ import annotations

import io
import re
import secrets
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from .config import Config, write_atomically
from .security import ensure_key_file

TOKEN_BYTES = 32  # token_urlsafe(32): 43 characters, 256 random bits


def puppet_regex(config: Config) -> str:
    """A regex for every Matrix ID the username template can produce, on our server only."""
    prefix, _, suffix = config.username_template.partition("{uin}")
    return f"@{re.escape(prefix)}.*{re.escape(suffix)}:{re.escape(config.homeserver_domain)}"


def build_registration(config: Config) -> dict[str, Any]:
    """The registration for ``config`` as it stands, tokens included."""
    domain = re.escape(config.homeserver_domain)
    return {
        "id": config.appservice_id,
        "url": config.appservice_address,
        "as_token": config.as_token,
        "hs_token": config.hs_token,
        "sender_localpart": config.bot_username,
        "namespaces": {
            "users": [
                {"regex": puppet_regex(config), "exclusive": True},
                {"regex": f"@{re.escape(config.bot_username)}:{domain}", "exclusive": True},
            ],
        },
        "rate_limited": False,
        # Typing, receipts and presence from the rooms the bridge is in: the bridge may use the
        # user's presence for their QQ status, and in DM-only rooms they cost next to nothing.
        "de.sorunome.msc2409.push_ephemeral": True,
        "receive_ephemeral": True,
        # Device list changes and one-time key counts for the bot's encryption device (MSC3202);
        # its to-device events come with the ephemeral ones above (MSC2409).
        "org.matrix.msc3202": True,
    }


def generate(config_path: str | Path, registration_path: str | Path) -> None:
    """Give the config fresh tokens, save it, and write the registration that matches it."""
    config = Config.load(config_path, need_tokens=False)
    config["appservice.as_token"] = secrets.token_urlsafe(TOKEN_BYTES)
    config["appservice.hs_token"] = secrets.token_urlsafe(TOKEN_BYTES)
    if config["provisioning.shared_secret"] == "generate":
        config["provisioning.shared_secret"] = secrets.token_urlsafe(TOKEN_BYTES)
    registration = build_registration(config)
    yaml = YAML()
    yaml.indent(mapping=2, sequence=4, offset=2)
    buffer = io.StringIO()
    yaml.dump(registration, buffer)
    # The registration first: if its path is wrong, the config keeps the tokens that match the
    # registration already installed.
    write_atomically(Path(registration_path), buffer.getvalue())
    config.save(config_path)
    # Only if missing: a new key would make every stored login unreadable.
    ensure_key_file(config.secret_key_path)
