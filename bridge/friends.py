"""One user's QQ friends: the set QQ reported, and the answers to friend requests.

``User.friends`` is the set of QQ numbers QQ says are friends (the List at every login and in
`friends`, a status change only friends hear, a request answered, `add`), and the one place a
friendship is made: ``befriend`` (a request room with them becomes the plain DM) and
``answer`` (the `accept` and `reject` commands, and joining or leaving a request room).
A set, so that what reads it (``uin in user.friends``) needs nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .user import User


class Friends(set[int]):
    def __init__(self, user: User) -> None:
        super().__init__()
        self._user = user

    def know(self, uins: Iterable[int]) -> None:
        """QQ's whole friend list, just read (at login, and by `friends`)."""
        self.clear()
        self.update(uins)

    async def befriend(self, uin: int) -> None:
        """``uin`` is a friend now (a request answered either way, or `add`): a request room
        with them becomes the plain DM."""
        self.add(uin)
        user = self._user
        if portal := await user.bridge.existing_portal(user, uin):
            await portal.became_friend()

    async def answer(self, uin: int, accept: bool, reason: str = "") -> None:
        """Accept or refuse ``uin``'s friend request. Raises NotLoggedInError (user.py) or one
        of QQ_FAILURES when QQ could not be told: then nothing changed, and the answer can be
        given again."""
        user = self._user
        await user.require_client().answer_request(uin, accept, reason)
        name = await user.name_of(uin)
        if accept:
            await self.befriend(uin)
            await user.notify(f"You and {name} are now QQ friends.")
            return
        portal = await user.bridge.existing_portal(user, uin)
        if portal and portal.is_request and portal.room_id:
            await portal.end(portal.room_id)
        await user.notify(f"You refused the friend request of {name}.")
