"""The 11 commands, each a function from a request Context to the reply bodies."""

from __future__ import annotations

from collections.abc import Callable

from ...codes import Command
from ..request import Context
from .contacts import get_info, list_friends, query_stat
from .friending import ack_add_to_list, add_to_list, del_from_list
from .messages import cltmsg, get_msg_ex
from .session import change_stat, login, logout

Handler = Callable[[Context], list[bytes]]

HANDLERS: dict[Command, Handler] = {
    Command.LOGIN: login,
    Command.LIST: list_friends,
    Command.QUERY_STAT: query_stat,
    Command.GET_INFO: get_info,
    Command.ADD_TO_LIST: add_to_list,
    Command.ACK_ADD_TO_LIST: ack_add_to_list,
    Command.DEL_FROM_LIST: del_from_list,
    Command.CHANGE_STAT: change_stat,
    Command.GET_MSG_EX: get_msg_ex,
    Command.CLTMSG: cltmsg,
    Command.LOGOUT: logout,
}
