"""List, Query_Stat and GetInfo: what an account may learn about others."""

from __future__ import annotations

from ...codes import InfoLevel
from ...wire.fields import encode_list, encode_text
from ..request import Context

# Seed 000/004 list the keys of each GetInfo level in this order (alphabetical but NK last).
NORMAL_KEYS = "AD AG EM FC HP JB LV PC PH PR PV RN SC SX UN NK".split()  # noqa: SIM905
DETAILED_KEYS = (
    "AD AG BT CO CT CV CY EM FC HP ID JB LV MO MT MV PC PH PR PV RN SC SH SX UN NK".split()  # noqa: SIM905
)


def list_friends(ctx: Context) -> list[bytes]:
    """TN=0 or none: only the count (FN); any other TN: FN=1, SN the count, UN the list."""
    tn = ctx.optional_number("TN")
    ctx.optional_number("UN")  # seed 000: ignored, but a UN that is not a number gets NULL
    ctx.session()
    friends = ctx.world.friend_list(ctx.request.uin)
    if not tn:
        return [ctx.reply(fields=[("FN", str(len(friends)))])]
    fields = [("FN", "1"), ("SN", str(len(friends))), ("UN", encode_list(friends))]
    return [ctx.reply(fields=fields)]


def query_stat(ctx: Context) -> list[bytes]:
    """Friends others can see online. TN=0 or none: two replies on one connection (seed 000)."""
    tn = ctx.optional_number("TN")
    ctx.optional_number("UN")
    ctx.session()
    online = ctx.world.online_friends(ctx.request.uin)
    if not tn:
        empty_list = [("FC", ""), ("FN", "1"), ("SN", "0"), ("ST", ""), ("UN", ""), ("NK", "")]
        return [ctx.reply(fields=[("FN", str(len(online)))]), ctx.reply(fields=empty_list)]
    fields = [
        ("FC", encode_list(account.face for account, _ in online)),
        ("FN", "1"),
        ("SN", str(len(online))),
        ("ST", encode_list(int(status) for _, status in online)),
        ("UN", encode_list(account.uin for account, _ in online)),
        ("NK", encode_list(account.nick for account, _ in online)),
    ]
    return [ctx.reply(fields=fields)]


def get_info(ctx: Context) -> list[bytes]:
    """Any account may be looked up. An unknown number gets the reply shape with every
    value empty but LV and UN, since the seeds never show what the server said."""
    level = ctx.number("LV")
    target = ctx.number("UN")
    ctx.session()
    account = ctx.world.accounts.get(target)
    values = {
        "LV": encode_text(ctx.text("LV")),  # seed 004: "LV为查询代码(就是发送的LV)"
        "UN": encode_text(ctx.text("UN")),
    }
    if account is not None:
        values["NK"] = encode_text(account.nick)
        values["FC"] = str(account.face)
        values.update((key, encode_text(value)) for key, value in account.profile.items())
    if level < InfoLevel.NORMAL:
        keys = ["LV", "UN", "NK"]
    elif level < InfoLevel.DETAILED:
        keys = NORMAL_KEYS
    else:
        keys = DETAILED_KEYS
    return [ctx.reply(fields=[(key, values.get(key, "")) for key in keys])]
