"""One call from a reply body to its typed result, the way the client decodes each command:
``parse_envelope`` and then the command's decoder."""

from __future__ import annotations

from collections.abc import Callable

from bridge.qq.codes import Command
from bridge.qq.wire import replies

# The decoder of each command with a result; the others only say RES=0 (None).
_DECODERS: dict[Command, Callable[[replies.Reply], object]] = {
    Command.LOGIN: replies.decode_login,
    Command.LIST: replies.decode_list,
    Command.QUERY_STAT: replies.decode_query_stat,
    Command.GET_INFO: replies.decode_get_info,
    Command.ADD_TO_LIST: replies.decode_add_to_list,
    Command.GET_MSG_EX: replies.decode_get_msg_ex,
}


def decode(command: Command, body: bytes) -> object:
    """The typed result of ``command``'s reply, as the client's decoder makes it."""
    reply = replies.parse_envelope(command, body)
    decoder = _DECODERS.get(command)
    return decoder(reply) if decoder else None
