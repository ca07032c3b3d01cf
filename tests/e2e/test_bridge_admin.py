"""The admin commands: users, logout-user, stats; refused to users who are not admins."""

from __future__ import annotations

from typing import Any

import pytest

from .harness import LoggedIn

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_admin_commands(logged_in: LoggedIn, bridge_config: Any) -> None:
    admin = await logged_in("admin", 30067)
    other = await logged_in("adminee", 30068)
    await other.command("users", "for the bridge's admins only")
    await other.command("stats", "for the bridge's admins only")
    help_text = await other.command("help", "Commands:")
    assert "logout-user" not in help_text.body

    permissions = bridge_config["bridge.permissions"]
    bridge_config["bridge.permissions"] = {**permissions, str(admin.user.mxid): "admin"}
    try:
        assert "logout-user" in (await admin.command("help", "Commands:")).body
        listed = await admin.command("users", "Bridged users")
        assert f"{other.user.mxid}: QQ 30068, online, 0 / 0" in listed.body.replace("\\", "")
        stats = await admin.command("stats", "Users:")
        assert "online" in stats.body and "Waiting to QQ: " in stats.body

        await admin.command(f"logout-user {other.user.mxid}", "Logged")
        await other.user.wait_for_text(
            other.room, "A bridge admin logged you out", sender=other.bot
        )
        await other.command("ping", "not logged in")
        await admin.command(f"logout-user {other.user.mxid}", "is not logged in")
        await admin.command("logout-user @never:localhost", "has never used the bridge")
        await admin.command("logout-user someone", "Usage")
    finally:
        bridge_config["bridge.permissions"] = permissions
