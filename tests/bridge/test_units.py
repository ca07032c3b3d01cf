"""The bridge core's pure pieces: command arguments, avatars, and the worker that drains SQL
queues."""

from __future__ import annotations

import asyncio
import io

import pytest
from PIL import Image

from bridge.avatar import SIZE, face_image_number, face_png
from bridge.commands.registry import COMMANDS, CommandContext, UsageError
from bridge.qq.clock import FakeClock, settle
from bridge.worker import FIRST_RETRY, JITTER, Worker


def _context(rest: str) -> CommandContext:
    return CommandContext(None, None, "!r:x", "$e", rest.split(), rest)  # type: ignore[arg-type]


def test_text_after_keeps_inner_spaces() -> None:
    ctx = _context("10001  my pass  word ")
    assert ctx.uin_arg(0) == 10001
    assert ctx.text_after(1) == "my pass  word"


@pytest.mark.parametrize("rest", ["", "abc", "-5", "0"])
def test_uin_arg_rejects_what_is_not_a_qq_number(rest: str) -> None:
    with pytest.raises(UsageError):
        _context(rest).uin_arg(0)


def test_every_command_is_registered_with_help() -> None:
    import bridge.commands  # noqa: F401  (registers)

    expected = {"login", "logout", "ping", "status", "friends", "online", "info", "add"}
    expected |= {"accept", "reject", "remove", "pm", "help"}
    assert expected <= set(COMMANDS)
    assert all(command.summary for command in COMMANDS.values())


def test_face_pictures_are_stable_and_distinct() -> None:
    assert face_image_number(270) == 91  # seed 000's example
    first, again, other = face_png(270), face_png(270), face_png(3)
    assert first == again and first != other
    image = Image.open(io.BytesIO(first))
    assert image.size == (SIZE, SIZE) and image.format == "PNG"


async def test_worker_retries_failed_work_with_backoff_and_keeps_going() -> None:
    clock = FakeClock()
    calls: list[float] = []

    async def drain() -> None:
        calls.append(clock.now())
        if len(calls) < 3:
            raise RuntimeError("database away")

    worker = Worker("test", drain, clock)
    worker.wake()
    await settle()
    assert len(calls) == 1
    assert worker.backing_off
    await clock.advance(FIRST_RETRY * (1 - JITTER) - 0.01)
    assert len(calls) == 1  # the first retry waits about FIRST_RETRY, jittered
    await clock.advance(FIRST_RETRY * 2 * JITTER + 0.02)
    assert len(calls) == 2
    # The second wait counts from the second try, which came somewhere in the first's jitter.
    await clock.advance(calls[1] + 2 * FIRST_RETRY * (1 - JITTER) - 0.01 - clock.now())
    assert len(calls) == 2  # the second waits about twice as long
    await clock.advance(calls[1] + 2 * FIRST_RETRY * (1 + JITTER) + 0.01 - clock.now())
    assert len(calls) == 3
    await asyncio.wait_for(worker.idle.wait(), 1)
    assert not worker.backing_off
    await worker.stop()


async def test_retry_now_ends_a_back_off_but_new_work_does_not() -> None:
    clock = FakeClock()
    calls = 0

    async def drain() -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("homeserver away")

    worker = Worker("test", drain, clock)
    worker.wake()
    await settle()
    worker.wake()  # new work while backing off: no retry storm
    await settle()
    assert calls == 1
    worker.retry_now()  # the homeserver is back
    await settle()
    assert calls == 2
    await asyncio.wait_for(worker.idle.wait(), 1)
    await worker.stop()


async def test_worker_drains_again_when_woken_during_a_drain() -> None:
    clock = FakeClock()
    started, release = asyncio.Event(), asyncio.Event()
    drains = 0

    async def drain() -> None:
        nonlocal drains
        drains += 1
        started.set()
        await release.wait()

    worker = Worker("test", drain, clock)
    worker.wake()
    await started.wait()
    worker.wake()  # new work arrived while the first drain was running
    release.set()
    await asyncio.wait_for(worker.idle.wait(), 1)
    assert drains == 2
    await worker.stop()


def test_storable_text_replaces_only_what_no_database_can_hold() -> None:
    from bridge.db.text import storable

    assert storable("a\x00b\ud800c 中文 😀 \r\n") == "a\ufffdb\ufffdc 中文 😀 \r\n"
