"""A QQ contact as a Matrix user (bridge/puppet.py): the profile pushed once, and again when it
changes (presence is bridge/presence.py's, tested in tests/bridge)."""

from __future__ import annotations

from typing import Any

import pytest
from mautrix.types import UserID

from bridge.core import PUPPET_INTENTS

from .conftest import Core

PUPPET = "@qq_10002:example.com"


async def test_a_profile_is_pushed_once_and_again_only_when_it_changes(core: Core) -> None:
    puppet = await core.bridge.puppet(10002)
    await puppet.update_profile("小红", 5)
    assert core.homeserver.displaynames[PUPPET].startswith("小红")
    first_avatar = core.homeserver.avatars[PUPPET]
    pushes = core.homeserver.calls.count("set_displayname")

    await puppet.update_profile("小红", 5)  # nothing new
    assert core.homeserver.calls.count("set_displayname") == pushes

    await puppet.update_profile("小红 2", 5)  # a new nickname, the same face
    assert core.homeserver.displaynames[PUPPET].startswith("小红 2")
    assert core.homeserver.avatars[PUPPET] == first_avatar
    stored = await core.bridge.db.get_puppet(10002)
    assert stored is not None and (stored.nick, stored.face, stored.name_set) == ("小红 2", 5, True)


async def test_a_face_is_uploaded_once_for_every_puppet_that_wears_it(core: Core) -> None:
    for uin in (10002, 10003):
        await (await core.bridge.puppet(uin)).update_profile(f"n{uin}", 7)
    assert core.homeserver.calls.count("upload_media") == 1
    assert core.homeserver.avatars[PUPPET] == core.homeserver.avatars["@qq_10003:example.com"]


async def test_a_failed_push_is_tried_again_next_time(core: Core) -> None:
    puppet = await core.bridge.puppet(10002)
    core.homeserver.fail("set_displayname", RuntimeError("homeserver away"))
    with pytest.raises(RuntimeError):
        await puppet.update_profile("小红", None)
    assert not puppet.row.name_set
    await puppet.sync_to_matrix()
    assert core.homeserver.displaynames[PUPPET].startswith("小红")


async def test_a_puppets_intent_is_made_once_and_kept_while_it_is_among_the_recent(
    core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Making an IntentAPI costs more than delivering a message; keeping one for every puppet
    ever seen would cost ~13 KiB each, so only the last PUPPET_INTENTS used are kept."""
    made: list[str] = []
    make = core.az.intent.user

    def counted(mxid: UserID) -> Any:
        made.append(mxid)
        return make(mxid)

    monkeypatch.setattr(core.az.intent, "user", counted)
    puppet = await core.bridge.puppet(10002)
    assert puppet.intent is puppet.intent
    assert made == [PUPPET]
    for uin in range(20_000, 20_000 + PUPPET_INTENTS):  # as many others, used since
        core.bridge.puppet_intent(uin)
    assert puppet.intent.mxid == PUPPET
    assert made.count(PUPPET) == 2  # made again: it was the one used longest ago
