"""bridge/appservice.py: every event, every time; one event's failure is its own; only a failure
of the infrastructure answers 500.

Transactions are PUT over real HTTP to the appservice's own aiohttp app, as Synapse sends them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest_asyncio
import sqlalchemy.exc
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from mautrix.errors import MatrixConnectionError, MatrixUnknownRequestError
from mautrix.types import JSON, Event

from bridge.appservice import MAX_TRANSACTION_BYTES, BridgeAppService, is_infrastructure_failure
from bridge.db import Database
from bridge.homeserver import HomeserverWatch
from bridge.qq.clock import FakeClock

HS_TOKEN = "hs-secret"


class Recorder:
    def __init__(self, az: BridgeAppService) -> None:
        self.az = az
        self.handled: list[str] = []
        self.failed: list[tuple[str, str]] = []
        self.unreadable: list[JSON] = []
        self.seen = 0
        self.poison: dict[str, BaseException] = {}
        az.matrix_event_handler(self.handle)
        az.on_event_failure = self.on_failure
        az.on_unreadable_event = self.on_unreadable
        az.on_homeserver_seen = self.on_seen

    async def handle(self, event: Event) -> None:
        event_id = str(getattr(event, "event_id", ""))
        if event_id in self.poison:
            raise self.poison[event_id]
        self.handled.append(event_id)

    async def on_failure(self, event: Event, error: BaseException) -> None:
        self.failed.append((str(getattr(event, "event_id", "")), type(error).__name__))

    async def on_unreadable(self, raw: JSON, error: BaseException) -> None:
        self.unreadable.append(raw)

    def on_seen(self) -> None:
        self.seen += 1


@pytest_asyncio.fixture
async def appservice(tmp_path: Path) -> AsyncIterator[tuple[TestClient[Any, Any], Recorder]]:
    database = await Database.open(f"sqlite+aiosqlite:///{tmp_path / 'bridge.db'}")
    az = BridgeAppService(
        server="http://127.0.0.1:9",
        domain="hs",
        as_token="as-secret",
        hs_token=HS_TOKEN,
        bot_localpart="qqbot",
        id="qq",
        state_store=database.state_store,
    )
    recorder = Recorder(az)
    client = TestClient(TestServer(az.app, host="127.0.0.1"))
    await client.start_server()
    try:
        yield client, recorder
    finally:
        await client.close()
        await database.close()


def message(event_id: str, body: str = "hi") -> dict[str, Any]:
    return {
        "type": "m.room.message",
        "event_id": event_id,
        "room_id": "!room:hs",
        "sender": "@alice:hs",
        "origin_server_ts": 1,
        "content": {"msgtype": "m.text", "body": body},
    }


async def put(client: TestClient[Any, Any], txn_id: str, events: list[Any]) -> int:
    response = await client.put(
        f"/_matrix/app/v1/transactions/{txn_id}",
        json={"events": events},
        headers={"Authorization": f"Bearer {HS_TOKEN}"},
    )
    return response.status


async def test_a_reused_transaction_id_is_handled_again(
    appservice: tuple[TestClient[Any, Any], Recorder],
) -> None:
    client, recorder = appservice
    assert await put(client, "1", [message("$a")]) == 200
    assert await put(client, "1", [message("$b")]) == 200  # Synapse restarted on SQLite
    assert recorder.handled == ["$a", "$b"]
    assert recorder.seen == 2


async def test_the_bridge_s_own_echoes_are_skipped_and_the_rest_handled(
    appservice: tuple[TestClient[Any, Any], Recorder],
) -> None:
    client, recorder = appservice
    recorder.az.is_ours = lambda sender: sender.startswith("@qq_")
    echo = {**message("$echo"), "sender": "@qq_10001:hs"}
    # A puppet's join: the state store must learn it (who of ours may redact a password).
    join = {
        **echo,
        "event_id": "$join",
        "type": "m.room.member",
        "state_key": "@qq_10001:hs",
        "content": {"membership": "join"},
    }
    assert await put(client, "1", [echo, message("$a"), {**echo, "event_id": "$e2"}, join]) == 200
    assert recorder.handled == ["$a", "$join"]
    assert recorder.failed == [] and recorder.unreadable == []


async def test_a_poison_event_is_answered_and_the_rest_handled(
    appservice: tuple[TestClient[Any, Any], Recorder],
) -> None:
    client, recorder = appservice
    recorder.poison["$bad"] = RecursionError("maximum recursion depth exceeded")
    assert await put(client, "2", [message("$a"), message("$bad"), message("$c")]) == 200
    assert recorder.handled == ["$a", "$c"]
    assert recorder.failed == [("$bad", "RecursionError")]


async def test_an_infrastructure_failure_answers_500_so_synapse_retries(
    appservice: tuple[TestClient[Any, Any], Recorder],
) -> None:
    client, recorder = appservice
    recorder.poison["$a"] = sqlalchemy.exc.OperationalError("INSERT", {}, Exception("disk full"))
    assert await put(client, "3", [message("$a")]) == 500
    assert recorder.failed == []
    del recorder.poison["$a"]
    assert await put(client, "3", [message("$a")]) == 200  # the retry goes through
    assert recorder.handled == ["$a"]


async def test_a_malformed_event_is_reported_and_the_transaction_taken(
    appservice: tuple[TestClient[Any, Any], Recorder],
) -> None:
    client, recorder = appservice
    broken = message("$broken")
    broken["content"]["m.relates_to"] = "not an object"
    assert await put(client, "4", [broken, "not even an object", message("$fine")]) == 200
    assert recorder.handled == ["$fine"]
    assert [raw.get("event_id") for raw in recorder.unreadable] == ["$broken"]


async def test_keys_for_the_bot_device_come_first_and_fail_alone(
    appservice: tuple[TestClient[Any, Any], Recorder],
) -> None:
    """MSC2409/MSC3202 fields, under the unstable names Synapse uses, before the events."""
    client, recorder = appservice
    az = recorder.az
    order: list[str] = []

    async def to_device(event: Any) -> None:
        if event.sender == "@mallory:hs":
            raise ValueError("an undecryptable olm message")
        order.append(f"to-device {event.type.t}")

    async def device_lists(lists: Any) -> None:
        order.append(f"changed {lists.changed}")

    async def otk_counts(counts: Any) -> None:
        order.append(f"otk {counts['@qqbot:hs']['BOT'].signed_curve25519}")

    az.to_device_handler, az.device_list_handler, az.otk_handler = (
        to_device,
        device_lists,
        otk_counts,
    )
    recorder.handled = order  # events land in the same list, after the crypto fields

    def to_bot(sender: str) -> dict[str, Any]:
        return {
            "type": "m.room.encrypted",
            "sender": sender,
            "to_user_id": "@qqbot:hs",
            "to_device_id": "BOT",
            "content": {
                "algorithm": "m.olm.v1.curve25519-aes-sha2",
                "sender_key": "k",
                "ciphertext": {},
            },
        }

    body = {
        "events": [message("$after")],
        "de.sorunome.msc2409.to_device": [to_bot("@mallory:hs"), to_bot("@alice:hs")],
        "org.matrix.msc3202.device_lists": {"changed": ["@alice:hs"], "left": []},
        "org.matrix.msc3202.device_one_time_keys_count": {"@qqbot:hs": {"BOT": {
            "signed_curve25519": 7}}},
    }  # fmt: skip
    response = await client.put(
        "/_matrix/app/v1/transactions/keys",
        json=body,
        headers={"Authorization": f"Bearer {HS_TOKEN}"},
    )
    assert response.status == 200
    assert order == [
        "to-device m.room.encrypted",
        "changed ['@alice:hs']",
        "otk 7",
        "$after",
    ]


async def test_a_body_far_over_aiohttp_s_default_is_taken(
    appservice: tuple[TestClient[Any, Any], Recorder],
) -> None:
    client, recorder = appservice
    events = [message(f"$big{index}", "x" * 60_000) for index in range(100)]  # about 6 MB
    assert await put(client, "5", events) == 200
    assert len(recorder.handled) == 100
    assert MAX_TRANSACTION_BYTES > 100 * 64 * 1024 * 2


def request_error(status: int) -> MatrixUnknownRequestError:
    return MatrixUnknownRequestError(status, text="")


def test_infrastructure_failures_are_told_apart() -> None:
    assert is_infrastructure_failure(sqlalchemy.exc.OperationalError("x", {}, Exception()))
    assert is_infrastructure_failure(ConnectionResetError())
    assert not is_infrastructure_failure(RecursionError())
    assert not is_infrastructure_failure(ValueError())
    assert not is_infrastructure_failure(
        sqlalchemy.exc.IntegrityError("x", {}, Exception())
    )  # about the row, not the database
    # asyncpg's AdminShutdown, deadlocks and disk full arrive as a plain DBAPIError.
    assert is_infrastructure_failure(sqlalchemy.exc.DBAPIError("x", {}, Exception()))
    assert is_infrastructure_failure(MatrixConnectionError("homeserver away"))
    assert is_infrastructure_failure(request_error(503))
    assert is_infrastructure_failure(request_error(429))
    assert not is_infrastructure_failure(request_error(403))


async def sleeping(clock: FakeClock) -> None:
    while not clock.sleepers:
        await asyncio.sleep(0.01)


async def test_the_homeserver_watch_probes_until_synapse_answers() -> None:
    answers = [503, 503, 200]
    probed = asyncio.Queue[int]()

    async def versions(request: web.Request) -> web.Response:
        status = answers.pop(0)
        probed.put_nowait(status)
        return web.json_response({}, status=status)

    app = web.Application()
    app.router.add_get("/_matrix/client/versions", versions)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    clock, back = FakeClock(), asyncio.Event()

    async with aiohttp.ClientSession() as session:
        watch = HomeserverWatch(str(server.make_url("/")), lambda: session, clock, back.set)
        watch.unreachable()
        watch.unreachable()  # one probe, however many queues report
        for expected in (503, 503, 200):
            await asyncio.wait_for(sleeping(clock), 5)  # the probe waits for its next turn
            await clock.advance(1.0)
            assert await asyncio.wait_for(probed.get(), 5) == expected
        await asyncio.wait_for(back.wait(), 5)
        assert not watch.probing
        back.clear()
        watch.seen()  # a transaction while not probing changes nothing
        assert not back.is_set()
        watch.unreachable()
        watch.seen()  # a transaction while probing: back at once
        assert back.is_set() and not watch.probing
    await server.close()
