"""The async QQ HTTP v1.1 client: one QQClient per logged-in account, one shared transport.

``transport`` is the only module that touches the network; the rest is protocol logic on an
injected Clock, so pacing, penalties, back-off and keep-alive are testable without waiting.

This package is also the bridge core's one door to QQ: everything the core needs (the client,
the events it hands over, the answers of its commands, the errors it raises, the numbers the
protocol names) is exported here, and the core imports nothing from ``bridge.qq.wire``
(tests/core/test_facade.py checks it).
"""

from ..codes import AddResult, InfoLevel, Status
from ..wire import InvalidUin, LoginRefused, NoReply, Penalty, WireError
from ..wire.replies import (
    Added,
    BatchUnreadable,
    Event,
    EventsDropped,
    FriendList,
    FriendRequest,
    OnlineFriend,
    OnlineFriends,
    Profile,
    RequestAccepted,
    RequestRejected,
    StatusChange,
    TextMessage,
    UnknownEvent,
)
from .account import QQClient
from .backoff import Backoff
from .errors import (
    QQ_FAILURES,
    ReplyTooLarge,
    SendFailed,
    ServerUnreachable,
    SessionDropped,
    TransportError,
)
from .schedule import PollBudget
from .settings import ClientSettings
from .state import ConnectionState
from .transport import QQTransport, Transport

__all__ = [
    "QQ_FAILURES",
    "AddResult",
    "Added",
    "Backoff",
    "BatchUnreadable",
    "ClientSettings",
    "ConnectionState",
    "Event",
    "EventsDropped",
    "FriendList",
    "FriendRequest",
    "InfoLevel",
    "InvalidUin",
    "LoginRefused",
    "NoReply",
    "OnlineFriend",
    "OnlineFriends",
    "Penalty",
    "PollBudget",
    "Profile",
    "QQClient",
    "QQTransport",
    "ReplyTooLarge",
    "RequestAccepted",
    "RequestRejected",
    "SendFailed",
    "ServerUnreachable",
    "SessionDropped",
    "Status",
    "StatusChange",
    "TextMessage",
    "Transport",
    "TransportError",
    "UnknownEvent",
    "WireError",
]
