"""Load test of the QQ simulator: requests/s on one core with 10,000 accounts, and its RSS.

    .venv/bin/python bench/simulator_load.py [--accounts 10000] [--requests 40000] [--seconds 30]

Starts ``python -m bridge.qq.simulator`` in a subprocess pinned to one core, logs every
account in, then drives a mix of GetMsgEx and CLTMSG (half each) from this process (pinned
to another core when there is one) over raw asyncio sockets, one request per connection as
the protocol does. Stops after ``--requests`` requests or ``--seconds`` seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import random
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bridge.qq.wire import requests as build  # noqa: E402
from tests.raw_http import split_responses  # noqa: E402

FIRST_UIN = 100000


def write_accounts(path: Path, count: int) -> None:
    """Accounts in pairs of friends (100000 with 100001, …), written without a YAML library."""
    lines = ["accounts:"]
    for index in range(count):
        uin = FIRST_UIN + index
        friend = uin + 1 if index % 2 == 0 else uin - 1
        friends = f", friends: [{friend}]" if index % 2 == 0 and index + 1 < count else ""
        lines.append(f"  - {{uin: {uin}, password: pw{uin}, nick: user{uin}{friends}}}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return -1


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class _OneRequest(asyncio.Protocol):
    """The cheapest client asyncio offers: write the request, collect bytes until EOF."""

    def __init__(self, raw: bytes, done: asyncio.Future[bytes]) -> None:
        self.raw = raw
        self.done = done
        self.chunks: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.write(self.raw)

    def data_received(self, data: bytes) -> None:
        self.chunks.append(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(b"".join(self.chunks))


async def request(port: int, body: bytes) -> bytes:
    loop = asyncio.get_running_loop()
    done: asyncio.Future[bytes] = loop.create_future()
    raw = b"POST HTTP/1.1\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    await loop.create_connection(lambda: _OneRequest(raw, done), "127.0.0.1", port)
    replies = split_responses(await done)
    return replies[0] if replies else b""


def res_of(reply: bytes) -> str:
    for part in reply.split(b"&"):
        if part.startswith(b"RES="):
            return part[4:].decode()
    return "NULL"


async def run_phase(
    port: int, bodies: collections.abc.Iterator[bytes], concurrency: int, deadline: float
) -> tuple[int, collections.Counter[str], float]:
    outcomes: collections.Counter[str] = collections.Counter()
    started = time.perf_counter()

    async def worker() -> None:
        for body in bodies:  # a shared iterator: each body is sent once
            if time.perf_counter() > deadline:
                return
            try:
                outcomes[res_of(await request(port, body))] += 1
            except OSError as error:
                outcomes[type(error).__name__] += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return sum(outcomes.values()), outcomes, elapsed


def load_bodies(count: int, total: int) -> collections.abc.Iterator[bytes]:
    rng = random.Random(7)
    for seq in range(total):
        uin = FIRST_UIN + rng.randrange(count)
        if seq % 2:
            yield build.get_msg_ex(uin, seq)
        else:
            friend = uin + 1 if (uin - FIRST_UIN) % 2 == 0 else uin - 1
            yield build.cltmsg(uin, seq, friend, f"message {seq}, 你好")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=40_000)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []

    with tempfile.TemporaryDirectory() as directory:
        accounts = Path(directory) / "accounts.yaml"
        write_accounts(accounts, args.accounts)
        server = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bridge.qq.simulator",
            "--listen",
            "127.0.0.1:0",
            "--accounts",
            str(accounts),
            "--log-level",
            "WARNING",
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
        )
        try:
            if cores:
                os.sched_setaffinity(server.pid, {cores[0]})
                if len(cores) > 1:
                    os.sched_setaffinity(0, set(cores[1:]))
            assert server.stdout is not None
            line = (await asyncio.wait_for(server.stdout.readline(), 120)).decode()
            port = int(line.rsplit(":", 1)[1])
            print(
                f"server pid {server.pid} on port {port}, pinned to core "
                f"{cores[0] if cores else '?'}; RSS at start {rss_kib(server.pid) / 1024:.1f} MiB"
            )

            logins = (
                build.login(FIRST_UIN + i, i, build.password_md5(f"pw{FIRST_UIN + i}"))
                for i in range(args.accounts)
            )
            done, outcomes, elapsed = await run_phase(
                port, logins, args.concurrency, time.perf_counter() + 600
            )
            print(
                f"login phase: {done} requests in {elapsed:.2f} s = {done / elapsed:,.0f} req/s;"
                f" outcomes {dict(outcomes)}"
            )
            print(
                f"RSS with {args.accounts:,} accounts logged in: "
                f"{rss_kib(server.pid) / 1024:.1f} MiB"
            )

            deadline = time.perf_counter() + args.seconds
            bodies = load_bodies(args.accounts, args.requests)
            cpu_before = cpu_seconds(server.pid)
            done, outcomes, elapsed = await run_phase(port, bodies, args.concurrency, deadline)
            cpu = cpu_seconds(server.pid) - cpu_before
            print(
                f"GetMsgEx/CLTMSG mix: {done} requests in {elapsed:.2f} s = "
                f"{done / elapsed:,.0f} req/s; RES counts {dict(outcomes)}"
            )
            print(
                f"server CPU: {cpu:.2f} s for those requests ({cpu / elapsed:.0%} of its core)"
                f" = {done / cpu:,.0f} requests per CPU-second"
            )
            print(f"RSS after the load: {rss_kib(server.pid) / 1024:.1f} MiB")
        finally:
            server.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(server.wait(), 30)
            print(f"server stopped on SIGTERM with exit code {code}")


if __name__ == "__main__":
    asyncio.run(main())
