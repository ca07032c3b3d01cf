"""The async QQ HTTP v1.1 client: one QQClient per logged-in account, one shared transport.

``transport`` is the only module that touches the network; the rest is protocol logic on an
injected Clock, so pacing, penalties, back-off and keep-alive are testable without waiting.
"""

from .account import QQClient
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
from .transport import QQTransport, Transport, new_session

__all__ = [
    "QQ_FAILURES",
    "ClientSettings",
    "ConnectionState",
    "PollBudget",
    "QQClient",
    "QQTransport",
    "ReplyTooLarge",
    "SendFailed",
    "ServerUnreachable",
    "SessionDropped",
    "Transport",
    "TransportError",
    "new_session",
]
