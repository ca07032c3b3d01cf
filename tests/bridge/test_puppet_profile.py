"""Puppet.update_profile without a homeserver: the homeserver is called only for what changed,
and the stored row leads (a failed write changes nothing in memory)."""

from __future__ import annotations

from typing import Any, cast

import pytest

from bridge.db import PuppetRow
from bridge.puppet import Puppet


class FakeIntent:
    def __init__(self, calls: list[tuple[str, object]]) -> None:
        self.calls = calls

    async def ensure_registered(self) -> None:  # mautrix answers from its state store
        pass

    async def set_displayname(self, name: str) -> None:
        self.calls.append(("displayname", name))

    async def set_avatar_url(self, mxc: str) -> None:
        self.calls.append(("avatar", mxc))


class FakeStore:
    def __init__(self) -> None:
        self.saved: list[PuppetRow] = []
        self.faces: dict[int, str] = {}
        self.broken = False

    async def save_puppet(self, row: PuppetRow) -> None:
        if self.broken:
            raise ConnectionError("database away")
        self.saved.append(row)

    async def get_face_mxc(self, face: int) -> str | None:
        return self.faces.get(face)

    async def save_face_mxc(self, face: int, mxc: str) -> None:
        self.faces[face] = mxc


class FakeBridge:
    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []
        self.db = FakeStore()
        self.config = self
        self.bot = self
        self.encryption = None  # no encrypted portals to rename (portal_names.py)

    def displayname(self, nick: str, uin: int) -> str:
        return f"{nick} (QQ)"

    def puppet_intent(self, uin: int) -> FakeIntent:
        return FakeIntent(self.calls)

    async def upload_media(self, data: bytes, mime_type: str, filename: str) -> str:
        self.calls.append(("upload", filename))
        return f"mxc://test/{filename}"


def make_puppet() -> tuple[Puppet, FakeBridge]:
    bridge = FakeBridge()
    return Puppet(cast(Any, bridge), PuppetRow(uin=10002)), bridge


async def test_a_new_profile_is_set_once_and_the_same_again_sets_nothing() -> None:
    puppet, bridge = make_puppet()
    await puppet.update_profile("小红", 3)
    assert bridge.calls == [
        ("displayname", "小红 (QQ)"),
        ("upload", "qq-face-3.png"),
        ("avatar", "mxc://test/qq-face-3.png"),
    ]
    assert bridge.db.saved[-1] == PuppetRow(
        10002, "小红", 3, True, True, "mxc://test/qq-face-3.png"
    )
    bridge.calls.clear()
    await puppet.update_profile("小红", 3)
    await puppet.update_profile("小红", None)  # GetInfo brief: no face in it
    await puppet.update_profile("", 3)  # an empty NK is no name
    assert bridge.calls == []


async def test_only_what_changed_is_set() -> None:
    puppet, bridge = make_puppet()
    await puppet.update_profile("小红", 3)
    bridge.calls.clear()
    await puppet.update_profile("小红红", 3)
    assert bridge.calls == [("displayname", "小红红 (QQ)")]
    bridge.calls.clear()
    await puppet.update_profile("小红红", 4)
    assert bridge.calls == [("upload", "qq-face-4.png"), ("avatar", "mxc://test/qq-face-4.png")]


async def test_a_failed_write_leaves_the_puppet_as_it_was() -> None:
    puppet, bridge = make_puppet()
    await puppet.update_profile("小红", 3)
    before = puppet.row
    bridge.db.broken = True
    bridge.calls.clear()
    with pytest.raises(ConnectionError):
        await puppet.update_profile("someone else", 5)
    assert puppet.row == before and bridge.calls == []
