"""The sans-I/O codec of QQ HTTP v1.1: request bodies out, typed replies in, no sockets.

``requests`` builds bodies, ``replies`` decodes them, ``fields`` holds the escaping both
share with the simulator.
"""

from .fields import MalformedReply, NoReply, WireError
from .replies import InvalidUin, LoginRefused, NotLoggedIn, Penalty, ServerRefused

__all__ = [
    "InvalidUin",
    "LoginRefused",
    "MalformedReply",
    "NoReply",
    "NotLoggedIn",
    "Penalty",
    "ServerRefused",
    "WireError",
]
