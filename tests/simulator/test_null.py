"""Every "NULL" of the seeds: the connection closes without a reply."""

from __future__ import annotations

import pytest

from bridge.qq.codes import LOGIN_CONSTANT
from bridge.qq.simulator import Simulator
from bridge.qq.wire.requests import password_md5

from .helpers import login, post

MD5 = password_md5("password1")
LOGIN = f"&PS={MD5}&M5=1&LC={LOGIN_CONSTANT}"

NULL_REQUESTS = {
    "wrong VER": f"VER=1.2&CMD=Login&SEQ=1&UIN=10001{LOGIN}",
    "no VER": f"CMD=Login&SEQ=1&UIN=10001{LOGIN}",
    "unknown CMD": "VER=1.1&CMD=Hello&SEQ=1&UIN=10001",
    "no CMD": "VER=1.1&SEQ=1&UIN=10001",
    "UIN letters": f"VER=1.1&CMD=Login&SEQ=1&UIN=abc{LOGIN}",
    "UIN missing": "VER=1.1&CMD=Logout&SEQ=1",
    "wrong LC": f"VER=1.1&CMD=Login&SEQ=1&UIN=10001&PS={MD5}&M5=1&LC=1223423545756679",
    "empty PS": f"VER=1.1&CMD=Login&SEQ=1&UIN=10001&PS=&M5=1&LC={LOGIN_CONSTANT}",
    "List TN letters": "VER=1.1&CMD=List&SEQ=1&UIN=10001&TN=abc",
    "List UN letters": "VER=1.1&CMD=List&SEQ=1&UIN=10001&TN=160&UN=x",
    "Query_Stat TN letters": "VER=1.1&CMD=Query_Stat&SEQ=1&UIN=10001&TN=x",
    "Query_Stat UN letters": "VER=1.1&CMD=Query_Stat&SEQ=1&UIN=10001&TN=50&UN=x",
    "GetInfo LV letters": "VER=1.1&CMD=GetInfo&SEQ=1&UIN=10001&LV=x&UN=10002",
    "GetInfo UN letters": "VER=1.1&CMD=GetInfo&SEQ=1&UIN=10001&LV=2&UN=x",
    "AddToList UN letters": "VER=1.1&CMD=AddToList&SEQ=1&UIN=10001&UN=x",
    "Ack_AddToList CD letters": "VER=1.1&CMD=Ack_AddToList&SEQ=1&UIN=10001&UN=10003&CD=x&RS=a",
    "Ack_AddToList UN letters": "VER=1.1&CMD=Ack_AddToList&SEQ=1&UIN=10001&UN=x&CD=2&RS=a",
    "Ack_AddToList RS not UTF-8": "VER=1.1&CMD=Ack_AddToList&SEQ=1&UIN=10001&UN=10003&CD=2&RS=%C3",
    "DelFromList UN letters": "VER=1.1&CMD=DelFromList&SEQ=1&UIN=10001&UN=x",
    "Change_Stat ST 15": "VER=1.1&CMD=Change_Stat&SEQ=1&UIN=10001&ST=15",
    "Change_Stat ST 0": "VER=1.1&CMD=Change_Stat&SEQ=1&UIN=10001&ST=0",
    "Change_Stat ST missing": "VER=1.1&CMD=Change_Stat&SEQ=1&UIN=10001",
    "CLTMSG UN letters": "VER=1.1&CMD=CLTMSG&SEQ=1&UIN=10001&UN=x&MG=hi",
    "CLTMSG MG not UTF-8": "VER=1.1&CMD=CLTMSG&SEQ=1&UIN=10001&UN=10002&MG=%FF%FE",
    "CLTMSG MG too long": "VER=1.1&CMD=CLTMSG&SEQ=1&UIN=10001&UN=10002&MG=" + "a" * 701,
}


@pytest.mark.parametrize("body", NULL_REQUESTS.values(), ids=NULL_REQUESTS.keys())
async def test_no_reply_even_when_logged_in(sim: Simulator, body: str) -> None:
    await login(sim, 10001)
    assert await post(sim, body) == []


@pytest.mark.parametrize("body", NULL_REQUESTS.values(), ids=NULL_REQUESTS.keys())
async def test_no_reply_before_login_either(sim: Simulator, body: str) -> None:
    assert await post(sim, body) == []


async def test_raw_body_that_is_not_utf8_gets_no_reply(sim: Simulator) -> None:
    await login(sim, 10001)
    assert await post(sim, b"VER=1.1&CMD=CLTMSG&SEQ=1&UIN=10001&UN=10002&MG=\xff\xfe") == []


async def test_a_message_of_exactly_the_limit_is_accepted(sim: Simulator) -> None:
    await login(sim, 10001)
    text = "好" * 233 + "a"  # 700 bytes of UTF-8
    replies = await post(sim, f"VER=1.1&CMD=CLTMSG&SEQ=1&UIN=10001&UN=10002&MG={text}")
    assert replies == [b"VER=1.1&CMD=CLTMSG&SEQ=1&UIN=10001&RES=0&"]
