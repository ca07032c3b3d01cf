"""List, Query_Stat and GetInfo, byte for byte against seed 000/004."""

from __future__ import annotations

from bridge.qq.clock import FakeClock
from bridge.qq.simulator import Simulator

from .helpers import ask, head, login, post

LIST = head(10001, "LIST")
QUERY = head(10001, "QUERY_STAT")
INFO = head(10001, "GETINFO")


async def test_list_counts_only_with_tn_0_or_none(sim: Simulator) -> None:
    await login(sim, 10001)
    for extra in ("", "&TN=0", "&UN=0", "&TN=0&UN=106814"):
        assert await ask(sim, head(10001, "List") + extra) == f"{LIST}&RES=0&FN=2"


async def test_list_with_tn_gives_the_numbers(sim: Simulator) -> None:
    await login(sim, 10001)
    for extra in ("&TN=160&UN=0", "&TN=7", "&TN=-3"):
        reply = await ask(sim, head(10001, "List") + extra)
        assert reply == f"{LIST}&RES=0&FN=1&SN=2&UN=10002,10003,"


async def test_empty_list(sim: Simulator) -> None:
    await login(sim, 10004)
    reply = await ask(sim, head(10004, "List") + "&TN=160")
    assert reply == f"{head(10004, 'LIST')}&RES=0&FN=1&SN=0&UN="


async def test_query_stat_lists_visible_online_friends(sim: Simulator, clock: FakeClock) -> None:
    await login(sim, 10001)
    reply = await ask(sim, head(10001, "Query_Stat") + "&TN=50&UN=0")
    assert reply == f"{QUERY}&RES=0&FC=&FN=1&SN=0&ST=&UN=&NK="
    await login(sim, 10002)
    await login(sim, 10003)
    await ask(sim, head(10003, "Change_Stat") + "&ST=30")
    reply = await ask(sim, head(10001, "Query_Stat") + "&TN=50&UN=0")
    assert reply == f"{QUERY}&RES=0&FC=141,3,&FN=1&SN=2&ST=10,30,&UN=10002,10003,&NK=小红,Bob,"
    await clock.advance(1)
    await ask(sim, head(10002, "Change_Stat") + "&ST=40")  # invisible: listed as offline
    await ask(sim, head(10003, "Change_Stat") + "&ST=20")
    reply = await ask(sim, head(10001, "Query_Stat") + "&TN=50")
    assert reply == f"{QUERY}&RES=0&FC=&FN=1&SN=0&ST=&UN=&NK="


async def test_query_stat_escapes_commas_and_ampersands_in_nicks(sim: Simulator) -> None:
    await login(sim, 10004)
    await ask(sim, head(10004, "AddToList") + "&UN=10002")  # auth 0: friends at once
    await login(sim, 10002)
    reply = await ask(sim, head(10002, "Query_Stat") + "&TN=50")
    assert reply == (
        f"{head(10002, 'QUERY_STAT')}&RES=0&FC=6,&FN=1&SN=1&ST=10,&UN=10004,"
        "&NK=Carol %26 co%252c ltd,"
    )


async def test_query_stat_without_tn_answers_twice_on_one_connection(sim: Simulator) -> None:
    await login(sim, 10001)
    await login(sim, 10002)
    for extra in ("", "&TN=0", "&TN=0&UN=106814"):
        replies = await post(sim, head(10001, "Query_Stat") + extra)
        assert [reply.decode() for reply in replies] == [
            f"{QUERY}&RES=0&FN=1",
            f"{QUERY}&RES=0&FC=&FN=1&SN=0&ST=&UN=&NK=",
        ]


async def test_get_info_brief(sim: Simulator) -> None:
    await login(sim, 10001)
    for level in (0, 1):
        reply = await ask(sim, head(10001, "GetInfo") + f"&LV={level}&UN=10004")
        assert reply == f"{INFO}&RES=0&LV={level}&UN=10004&NK=Carol %26 co%252c ltd"


async def test_get_info_normal(sim: Simulator) -> None:
    await login(sim, 10001)
    reply = await ask(sim, head(10001, "GetInfo") + "&LV=2&UN=10002")
    assert reply == (
        f"{INFO}&RES=0&AD=上海市浦东新区&AG=22&EM=xiaohong@example.com&FC=141"
        "&HP=http://xiaohong.example.com&JB=设计师&LV=2&PC=200120&PH=021-87654321"
        "&PR=喜欢画画%252c也喜欢音乐.%0d%0a欢迎加我!&PV=上海&RN=李小红&SC=复旦大学&SX=1"
        "&UN=10002&NK=小红"
    )


async def test_get_info_detailed_with_missing_keys_sent_empty(sim: Simulator) -> None:
    await login(sim, 10001)
    for level in (3, 4, 5):
        reply = await ask(sim, head(10001, "GetInfo") + f"&LV={level}&UN=10002")
        assert reply == (
            f"{INFO}&RES=0&AD=上海市浦东新区&AG=22&BT=1&CO=2&CT=上海&CV=&CY=中华人民共和国"
            "&EM=xiaohong@example.com&FC=141&HP=http://xiaohong.example.com&ID=&JB=设计师"
            f"&LV={level}&MO=13900000000&MT=&MV=&PC=200120&PH=021-87654321"
            "&PR=喜欢画画%252c也喜欢音乐.%0d%0a欢迎加我!&PV=上海&RN=李小红&SC=复旦大学&SH=5"
            "&SX=1&UN=10002&NK=小红"
        )


async def test_get_info_of_an_account_without_profile(sim: Simulator) -> None:
    await login(sim, 10001)
    reply = await ask(sim, head(10001, "GetInfo") + "&LV=2&UN=10003")
    assert reply == (
        f"{INFO}&RES=0&AD=&AG=&EM=&FC=3&HP=&JB=&LV=2&PC=&PH=&PR=&PV=&RN=&SC=&SX=&UN=10003&NK=Bob"
    )


async def test_get_info_of_an_unknown_number_is_all_empty(sim: Simulator) -> None:
    await login(sim, 10001)
    reply = await ask(sim, head(10001, "GetInfo") + "&LV=0&UN=77777")
    assert reply == f"{INFO}&RES=0&LV=0&UN=77777&NK="
