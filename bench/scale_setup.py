"""What bench/scale.py sets up before it measures: QQ accounts, Matrix users, the bridge's store.

- **QQ accounts**: ``n`` bridged accounts for the simulator's accounts file (uins from
  ``BRIDGED``, password ``pw<uin>``, no friends) and one peer (``PEER``), the friend of the one
  account the closing message goes through.
- **Matrix users, in bulk**: through a second appservice registration, ``scale-seeder``, whose
  exclusive namespace is ``@scale_.*``: an appservice registers users in its namespace with
  ``m.login.application_service`` (no password, so no bcrypt, no rate limit). This is the
  route bridges themselves use for their puppets; Synapse creates a real account for each.
- **The bridge's store, seeded directly**: the users (each logged in, with its QQ md5 sealed by
  the bridge's own key, exactly as a login would have stored it) and a portal per user whose
  room exists only in the store (``!scale<i>:...``): enough for "10,000 portals in the database"
  at start-up, which the bridge must not load until a message needs one. The account the
  closing message goes through has no portal: its first message makes a real room.
"""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path
from typing import Any

import aiohttp

from bridge.db import Database, LoginState, PortalRow, UserRow
from bridge.qq.wire.requests import password_md5
from bridge.security import CredentialVault

BRIDGED, PEER = 500_000, 900_000
SEEDER_PREFIX = "scale_"


def bridged_uin(index: int) -> int:
    return BRIDGED + index


def write_accounts(path: Path, n: int, chosen: int) -> None:
    """The simulator's accounts file, written without a YAML library (10,000 lines)."""
    lines = ["accounts:"]
    for index in range(n):
        uin = bridged_uin(index)
        friends = f", friends: [{PEER}]" if index == chosen else ""
        lines.append(f"  - {{uin: {uin}, password: pw{uin}, nick: s{index}{friends}}}")
    lines.append(f"  - {{uin: {PEER}, password: pw{PEER}, nick: peer}}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def seeder_registration(server_name: str) -> dict[str, Any]:
    """An appservice registration whose only use is creating Matrix users in bulk."""
    return {
        "id": "scale-seeder",
        "url": None,
        "as_token": secrets.token_urlsafe(32),
        "hs_token": secrets.token_urlsafe(32),
        "sender_localpart": "scaleseeder",
        "rate_limited": False,
        "namespaces": {
            "users": [{"exclusive": True, "regex": f"@{SEEDER_PREFIX}.*:{server_name}"}],
            "rooms": [],
            "aliases": [],
        },
    }


async def create_matrix_users(
    homeserver: str, as_token: str, localparts: list[str], concurrency: int = 8
) -> float:
    """Register every localpart through the seeder appservice; the seconds it took."""
    loop = asyncio.get_running_loop()
    began = loop.time()
    queue = iter(localparts)
    headers = {"Authorization": f"Bearer {as_token}"}
    url = f"{homeserver}/_matrix/client/v3/register"

    async def worker(session: aiohttp.ClientSession) -> None:
        for localpart in queue:
            body = {
                "type": "m.login.application_service",
                "username": localpart,
                "inhibit_login": True,
            }
            async with session.post(url, json=body, headers=headers) as response:
                if response.status != 200:
                    raise RuntimeError(
                        f"registering {localpart}: {response.status} {await response.text()}"
                    )

    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    return loop.time() - began


async def seed_store(
    database_url: str, key_file: Path, owners: list[str], chosen: int, server_name: str
) -> float:
    """Every owner logged in to its bridged account, with a portal but for ``chosen``."""
    loop = asyncio.get_running_loop()
    began = loop.time()
    db = await Database.open(database_url, vault=CredentialVault.from_file(key_file))
    try:
        for index, mxid in enumerate(owners):
            uin = bridged_uin(index)
            await db.save_user(
                UserRow(
                    mxid=mxid,
                    uin=uin,
                    password_md5=password_md5(f"pw{uin}"),
                    login_state=LoginState.LOGGED_IN,
                )
            )
            if index != chosen:
                room = f"!scale{index}:{server_name}"
                await db.save_portal(PortalRow(owner=mxid, uin=PEER + 1 + index, room_id=room))
    finally:
        await db.close()
    return loop.time() - began
