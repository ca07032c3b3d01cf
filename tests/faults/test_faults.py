"""Faults while messages flow both ways: what is lost, what is duplicated, how fast it resumes.

Each scenario logs a new Matrix user in to its own QQ account (stack.FAULT_ACCOUNTS), opens
portals with two QQ friends, sends tagged rounds both ways (traffic.py) before, during and
after the fault, then counts per direction: lost, duplicated, out of order per chat, and the
time from the end of the fault to the first message delivered each way.

The Synapse restart (d) runs last: with SQLite, Synapse's appservice transaction ids start at
1 again after a restart, which a bridge that remembers transaction ids takes for replays.
Set FAULTS_SEED to replay the bridge kills of (e) at the same moments.
"""

from __future__ import annotations

import asyncio
import os
import random
import time

import pytest

from .conftest import ChatsFactory
from .stack import FaultStack
from .traffic import M2Q, Direction, Traffic

pytestmark = [pytest.mark.faults, pytest.mark.asyncio(loop_scope="module")]

RESUME_WITHIN = 5.0  # seconds from the end of a fault to the first delivery each way
DRAIN_TIMEOUT = 25.0  # after the last round, how long everything may take to arrive
WARM_UP_TIMEOUT = 30.0


async def _warm_up(traffic: Traffic) -> None:
    """One round both ways, delivered, before the fault: the path works."""
    await traffic.round()
    await traffic.wait_delivered(WARM_UP_TIMEOUT)
    counts = await traffic.count()
    assert all(not d.lost for d in counts.values()), "warm-up round not delivered:\n" + (
        "\n".join(d.summary() for d in counts.values())
    )


def _fmt(seconds: float | None) -> str:
    return "never" if seconds is None else f"{seconds:.2f} s"


def _problems(
    counts: dict[str, Direction], resumes: dict[str, float | None], limit: float | None
) -> list[str]:
    problems = []
    for direction in counts.values():
        if direction.lost:
            problems.append(f"{direction.direction}: {len(direction.lost)} lost {direction.lost}")
        if direction.duplicated:
            problems.append(
                f"{direction.direction}: {len(direction.duplicated)} duplicated "
                f"{direction.duplicated}"
            )
        if direction.out_of_order:
            problems.append(f"{direction.direction}: out of order {direction.out_of_order}")
    if limit is not None:
        for name, seconds in resumes.items():
            if seconds is None or seconds > limit:
                problems.append(f"{name}: resumed after {_fmt(seconds)} (limit {limit:.0f} s)")
    return problems


def _report(
    title: str,
    traffic: Traffic,
    counts: dict[str, Direction],
    resumes: dict[str, float | None],
    notes: list[str],
) -> str:
    proxy = traffic.chats.stack.proxy
    lines = [
        f"== {title} ==",
        *(d.summary() for d in counts.values()),
        "resumed: " + ", ".join(f"{name} {_fmt(s)}" for name, s in resumes.items()),
        f"proxy connections per mode so far: {dict(proxy.counts)}",
        *notes,
    ]
    if traffic.not_sent_notices:
        lines.append(
            f"the bridge posted {len(traffic.not_sent_notices)} 'Not sent to QQ' notices: "
            f"{sorted(set(traffic.not_sent_notices))}"
        )
    if traffic.failed_sends:
        lines.append(f"Matrix sends that failed (not counted as sent): {traffic.failed_sends}")
    return "\n".join(lines)


def _verdict(
    title: str,
    traffic: Traffic,
    counts: dict[str, Direction],
    resumes: dict[str, float | None],
    limit: float | None = RESUME_WITHIN,
    notes: list[str] | None = None,
    extra_problems: list[str] | None = None,
) -> None:
    report = _report(title, traffic, counts, resumes, notes or [])
    print(report)
    problems = _problems(counts, resumes, limit) + (extra_problems or [])
    assert not problems, (
        "\n".join(problems) + f"\n{report}\nbridge log: {traffic.chats.stack.bridge.log_path}"
    )


async def _outage(
    stack: FaultStack, chats: ChatsFactory, scenario: str, uin: int, mode: str, seconds: float
) -> None:
    """Traffic both ways; ``mode`` for ``seconds``; traffic on for 6 s after ``pass``."""
    traffic = Traffic(await chats(scenario, uin))
    await _warm_up(traffic)
    traffic.start()
    await asyncio.sleep(2.0)
    await stack.proxy.set_mode(mode)
    await asyncio.sleep(seconds)
    restored = time.time()
    await stack.proxy.set_mode("pass")
    await asyncio.sleep(6.0)
    await traffic.stop()
    destroyed = traffic.destroyed_batches()
    waited = await traffic.wait_delivered(DRAIN_TIMEOUT, excused=destroyed)
    counts = await traffic.count(destroyed=destroyed, ambiguous=traffic.ambiguous_sends())
    resumes = {
        "QQ→Matrix": await traffic.first_matrix_delivery_after(restored),
        "Matrix→QQ": traffic.first_qq_delivery_after(restored),
    }
    _verdict(
        f"{scenario}: QQ {mode} for {seconds:.0f} s",
        traffic,
        counts,
        resumes,
        notes=[
            f"first attempts after restore: GetMsgEx "
            f"{_fmt(traffic.first_attempt_after('GETMSGEX', restored))}, CLTMSG "
            f"{_fmt(traffic.first_attempt_after('CLTMSG', restored))}",
            f"waited {waited:.1f} s for the last round (bound {DRAIN_TIMEOUT:.0f} s)",
        ],
    )


async def test_a_qq_refused(stack: FaultStack, chats: ChatsFactory) -> None:
    await _outage(stack, chats, "a", 40001, "refuse", 10.0)


async def test_b_qq_blackholed(stack: FaultStack, chats: ChatsFactory) -> None:
    await _outage(stack, chats, "b", 40004, "blackhole", 15.0)


GARBLED_RESUME_WITHIN = 12.0


async def test_c_garbled_and_truncated_replies(stack: FaultStack, chats: ChatsFactory) -> None:
    """Garbled replies of a server that acted on each request (3 s), unreadable answers to
    requests the server never saw ("bogus", 3 s), truncated replies (2 s)."""
    traffic = Traffic(await chats("c", 40007))
    await _warm_up(traffic)
    traffic.start()
    await asyncio.sleep(1.0)
    await stack.proxy.set_mode("garble")
    await asyncio.sleep(3.0)
    await stack.proxy.set_mode("bogus")
    await asyncio.sleep(3.0)
    await stack.proxy.set_mode("truncate")
    await asyncio.sleep(2.0)
    restored = time.time()
    await stack.proxy.set_mode("pass")
    await asyncio.sleep(5.0)
    await traffic.stop()
    destroyed, ambiguous = traffic.destroyed_batches(), traffic.ambiguous_sends()
    waited = await traffic.wait_delivered(DRAIN_TIMEOUT, excused=destroyed)
    counts = await traffic.count(destroyed=destroyed, ambiguous=ambiguous)
    resumes = {
        "QQ→Matrix": await traffic.first_matrix_delivery_after(restored),
        "Matrix→QQ": traffic.first_qq_delivery_after(restored),
    }
    per_mode = {
        mode: (
            sum(1 for e in traffic.cltmsgs() if e.mode == mode),
            sum(1 for e in traffic.polls() if e.mode == mode and traffic.tags_in(e.reply_body())),
        )
        for mode in ("garble", "truncate", "bogus")
    }
    _verdict(
        "c: garbled (3 s), bogus (3 s), truncated (2 s) QQ replies",
        traffic,
        counts,
        resumes,
        notes=[
            f"waited {waited:.1f} s for the last round (bound {DRAIN_TIMEOUT:.0f} s)",
            "faulty exchanges of this account per mode (CLTMSG with a tag, GetMsgEx "
            f"carrying tags): {per_mode}",
        ],
        # The server never went away here: a send is retried on the client's back-off, one
        # for all of a step's failures (unreadable replies and cut connections alike: 1, 2, 4,
        # 8 s, jittered by 20 %), so one that failed just before the fault ended may wait out
        # the 8 s step (9.6 s) plus its pace.
        limit=GARBLED_RESUME_WITHIN,
    )


async def test_e_bridge_sigkilled(stack: FaultStack, chats: ChatsFactory) -> None:
    seed = int(os.environ.get("FAULTS_SEED", str(time.time_ns() % 1_000_000)))
    rng = random.Random(seed)
    kills = rng.choice((2, 3))
    plan = [(rng.uniform(1.0, 4.0), rng.uniform(0.0, 1.0)) for _ in range(kills)]
    print(f"e: FAULTS_SEED={seed}: {kills} kills, (run before, down for) = {plan}")
    traffic = Traffic(await chats("e", 40010))
    await _warm_up(traffic)
    traffic.start()
    kill_times: list[float] = []
    restarts: list[str] = []
    for run_for, down_for in plan:
        await asyncio.sleep(run_for)
        kill_times.append(time.time())
        await stack.bridge.kill()
        await asyncio.sleep(down_for)
        took = await stack.bridge.start()
        restarts.append(f"restarted in {took:.1f} s")
    last_ready = stack.bridge.ready_at or time.time()
    await asyncio.sleep(4.0)
    await traffic.stop()
    polls_in_flight, sends_in_flight = traffic.in_flight_at(kill_times)
    destroyed = traffic.destroyed_batches() | polls_in_flight
    ambiguous = traffic.ambiguous_sends() | sends_in_flight
    waited = await traffic.wait_delivered(DRAIN_TIMEOUT, excused=destroyed)
    counts = await traffic.count(destroyed=destroyed, ambiguous=ambiguous)
    resumes = {
        "QQ→Matrix after the last restart": await traffic.first_matrix_delivery_after(last_ready),
        "Matrix→QQ after the last restart": traffic.first_qq_delivery_after(last_ready),
    }
    _verdict(
        f"e: bridge SIGKILLed {kills} times (FAULTS_SEED={seed})",
        traffic,
        counts,
        resumes,
        limit=None,
        notes=[
            f"plan (run before, down for): {[(round(a, 2), round(b, 2)) for a, b in plan]}",
            "; ".join(restarts),
            f"in flight at a kill: GetMsgEx tags {sorted(polls_in_flight)}, "
            f"CLTMSG tags {sorted(sends_in_flight)}",
            f"waited {waited:.1f} s for the last round (bound {DRAIN_TIMEOUT:.0f} s)",
        ],
    )


async def test_d_synapse_restarted_on_its_sqlite_database(
    stack: FaultStack, chats: ChatsFactory
) -> None:
    # Synapse, then the bridge, (re)started as in a deployment: the running bridge sees the
    # transaction ids Synapse hands out from its start, from 1 (whatever ran before).
    await stack.bridge.stop()
    await stack.restart_synapse()
    await stack.bridge.start()
    chats_d = await chats("d", 40013)
    traffic = Traffic(chats_d)
    await _warm_up(traffic)
    traffic.start()
    await asyncio.sleep(2.0)
    # The user cannot send while Synapse is down; QQ→Matrix goes on and waits in the bridge.
    traffic.paused.add(M2Q)
    stopped, back = await stack.restart_synapse(down_for=5.0)
    traffic.paused.discard(M2Q)
    user, room = chats_d.user, chats_d.session.room
    mark = user.mark()
    asked = time.time()
    await user.send(room, "ping")
    answer = asyncio.ensure_future(
        user.wait_for_text(room, "online", sender=stack.bot, after=mark, timeout=15)
    )
    await asyncio.sleep(6.0)
    await traffic.stop()
    waited = await traffic.wait_delivered(DRAIN_TIMEOUT)
    counts = await traffic.count()
    after_restart = [s.tag for s in traffic.sent if s.direction == M2Q and s.at >= back]
    lost_after = [tag for tag in counts[M2Q].lost if tag in after_restart]
    extra: list[str] = []
    if lost_after:
        extra.append(
            f"Matrix→QQ sent after the restart and lost: {len(lost_after)} of "
            f"{len(after_restart)} {lost_after}"
        )
    try:
        seen = await answer
        command = f"`ping` answered {seen.raw.get('origin_server_ts', 0) / 1000 - asked:.2f} s"
        command += " after it was sent"
    except TimeoutError:
        command = "`ping` sent to the bot right after the restart: no answer within 15 s"
        extra.append(command)
    resumes = {"QQ→Matrix after Synapse was back": await traffic.first_matrix_delivery_after(back)}
    m2q_resumed = traffic.first_qq_delivery_after(back)
    _verdict(
        "d: Synapse restarted on its SQLite database",
        traffic,
        counts,
        resumes,
        notes=[
            f"Synapse down for {back - stopped:.1f} s (stop to answering again)",
            f"Matrix→QQ sent after the restart: {len(after_restart)}; the first reached QQ"
            f" {_fmt(m2q_resumed)} after Synapse was back",
            command,
            f"waited {waited:.1f} s for the last round (bound {DRAIN_TIMEOUT:.0f} s)",
        ],
        extra_problems=extra,
    )
