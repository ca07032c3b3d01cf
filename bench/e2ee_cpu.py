"""Benchmark: the bridge's extra CPU for an encrypted message over a plain one.

    .venv/bin/python bench/e2ee_cpu.py [--messages 500] [--database URL]

What end-to-bridge encryption adds to each message is the bridge bot's crypto work; the rest
of the path (formatting, journals, QQ) is the same for both. So this runs exactly that work, the
bridge's own code on its own store, with no homeserver in the way:

- Matrix -> QQ: ``Encryption.decrypt`` of a Megolm event from a user's device (the key already
  shared, the device known), as the appservice handler calls it for every encrypted event;
- QQ -> Matrix: ``room_is_encrypted`` plus ``Encryption.encrypt`` of a text message into a room
  whose Megolm session is already shared, as ``send_message`` does for every puppet message.

A plain message costs none of this (with encryption off the bridge does not even look up
whether a room is encrypted), so the figures are the difference. CPU is ``time.process_time()``
of this process; wall time is printed beside it. The database is a fresh SQLite file unless
``--database`` names another (e.g. the PostgreSQL test URL). Bounded: a few seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from mautrix.crypto import InboundGroupSession, OlmAccount, OutboundGroupSession
from mautrix.types import (
    DeviceID,
    DeviceIdentity,
    EncryptedEvent,
    EncryptedMegolmEventContent,
    EventType,
    IdentityKey,
    MessageType,
    RoomID,
    SessionID,
    TextMessageEventContent,
    TrustState,
    UserID,
)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bridge.db import Database
from bridge.e2ee import Encryption

BOT = "@qqbot:bench"
ALICE = UserID("@alice:bench")
ROOM = RoomID("!portal:bench")
TEXT = "你好 — a message of ordinary length, as people send them over QQ."


class FakeBridge:
    """What send_message's encryption check reads: the store and the encryption device."""

    def __init__(self, db: Database, encryption: Encryption) -> None:
        self.db, self.encryption = db, encryption


async def measure(count: int, action: Callable[[int], Awaitable[Any]]) -> tuple[list[float], float]:
    """CPU milliseconds of each call, and the wall seconds of them all."""
    cpu: list[float] = []
    began = time.perf_counter()
    for index in range(count):
        start = time.process_time()
        await action(index)
        cpu.append((time.process_time() - start) * 1000)
    return cpu, time.perf_counter() - began


def report(name: str, cpu: list[float], wall: float) -> None:
    cpu_sorted = sorted(cpu)
    p95 = cpu_sorted[int(len(cpu_sorted) * 0.95) - 1]
    print(
        f"{name:<34} CPU per message: median {statistics.median(cpu):.2f} ms, "
        f"mean {statistics.fmean(cpu):.2f} ms, p95 {p95:.2f} ms; "
        f"wall {wall / len(cpu) * 1000:.2f} ms/message"
    )


async def run(messages: int, url: str) -> None:
    from bridge.e2ee.sending import room_is_encrypted

    db = await Database.open(url)
    try:
        encryption = Encryption(
            db, "http://127.0.0.1:9", BOT, "bench-as-token", "bench pickle key", lambda _: False
        )
        encryption.client.device_id = DeviceID("BOTDEVICE")
        await encryption.store.put_account(OlmAccount())
        await encryption.store.put_device_id(DeviceID("BOTDEVICE"))
        await encryption.machine.load()
        await db.state_store.set_encryption_info(ROOM, {"algorithm": "m.megolm.v1.aes-sha2"})

        # A user's device with its Megolm session already shared with the bot.
        alice = OlmAccount()
        alice_session = OutboundGroupSession(ROOM)
        alice_session.shared = True
        alice_session.max_messages = messages + 1  # no rotation inside the measurement
        await encryption.store.put_devices(
            ALICE,
            {
                DeviceID("PHONE"): DeviceIdentity(
                    user_id=ALICE,
                    device_id=DeviceID("PHONE"),
                    identity_key=alice.identity_key,
                    signing_key=alice.signing_key,
                    trust=TrustState.UNVERIFIED,
                    deleted=False,
                    name="phone",
                )
            },
        )
        inbound = InboundGroupSession(
            alice_session.session_key, alice.signing_key, alice.identity_key, ROOM
        )
        await encryption.store.put_group_session(
            ROOM, alice.identity_key, SessionID(inbound.id), inbound
        )
        events = [
            EncryptedEvent(
                type=EventType.ROOM_ENCRYPTED,
                room_id=ROOM,
                event_id=f"$bench{index}",  # type: ignore[arg-type]
                sender=ALICE,
                timestamp=index,
                content=EncryptedMegolmEventContent(  # type: ignore[arg-type]
                    ciphertext=alice_session.encrypt(  # type: ignore[no-untyped-call]
                        f'{{"room_id": "{ROOM}", "type": "m.room.message", "content": '
                        f'{{"msgtype": "m.text", "body": "{TEXT} {index}"}}}}'
                    ),
                    sender_key=IdentityKey(alice.identity_key),
                    device_id=DeviceID("PHONE"),
                    session_id=SessionID(alice_session.id),
                ),
            )
            for index in range(messages)
        ]

        # The bot's own outbound session for the room, shared (the sharing itself happens once
        # per room and per membership change, not per message).
        outbound = OutboundGroupSession(ROOM)
        outbound.shared = True
        outbound.max_messages = messages + 1
        await encryption.store.add_outbound_group_session(outbound)
        bridge: Any = FakeBridge(db, encryption)

        async def decrypt(index: int) -> None:
            await encryption.decrypt(events[index])

        async def encrypt(index: int) -> None:
            content = TextMessageEventContent(msgtype=MessageType.TEXT, body=f"{TEXT} {index}")
            assert await room_is_encrypted(bridge, None, ROOM)  # type: ignore[arg-type]
            await encryption.encrypt(ROOM, EventType.ROOM_MESSAGE, content)

        await decrypt(0)  # warm-up: imports, caches, the first query plans
        await encrypt(0)
        print(f"{messages} messages; database {url.split('://')[0]}")
        report("Matrix -> QQ (decrypt)", *await measure(messages - 1, lambda i: decrypt(i + 1)))
        report("QQ -> Matrix (check + encrypt)", *await measure(messages - 1, encrypt))
        await encryption.stop()
    finally:
        await db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--database", help="a SQLAlchemy URL; default: a fresh SQLite file")
    args = parser.parse_args()
    # mautrix logs a warning per message from a device that is not cross-signed (as in real
    # use); the records are made, as in the bridge, but not printed over the figures.
    logging.basicConfig(handlers=[logging.NullHandler()])
    with tempfile.TemporaryDirectory(prefix="qq-bench-e2ee-") as directory:
        url = args.database or f"sqlite+aiosqlite:///{Path(directory) / 'bridge.db'}"
        asyncio.run(run(max(args.messages, 2), url))


if __name__ == "__main__":
    main()
