"""Benchmark: what an idle account costs the client.

    .venv/bin/python bench/client_poll.py [--accounts 1000] [--polls 1000]

Runs the simulator in a subprocess (so its memory is not counted) with ``--accounts``
generated accounts, then prints

1. the cost of one idle GetMsgEx through QQClient against a bare POST of the same body to the
   same server through its transport (goal: ratio <= 1.3): what the codec and the client's
   bookkeeping add to the connection and the HTTP;
2. the memory per logged-in, polling, idle account with ``--accounts`` clients, as RSS
   delta and as tracemalloc's count of Python allocations (goal: <= 100 KiB).

Bounded: a few tens of seconds on a laptop.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bridge.qq.client import (
    ClientSettings,
    ConnectionState,
    QQClient,
    QQTransport,
)
from bridge.qq.wire import requests

FIRST_UIN = 20000
PASSWORD = "bench-password"
KIB = 1024


def write_accounts(path: Path, count: int) -> None:
    lines = ["accounts:"]
    for uin in range(FIRST_UIN, FIRST_UIN + count):
        lines += [f"  - uin: {uin}", f"    password: {PASSWORD}", f"    nick: bench{uin}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def start_simulator(accounts_file: Path) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bridge.qq.simulator",
            "--listen",
            "127.0.0.1:0",
            "--accounts",
            str(accounts_file),
            "--log-level",
            "WARNING",
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert process.stdout is not None
    first = process.stdout.readline().strip()
    if not first.startswith("listening on "):
        process.kill()
        raise SystemExit(f"the simulator did not start: {first!r}")
    return process, first.removeprefix("listening on ")


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * KIB
    raise RuntimeError("no VmRSS in /proc/self/status")


async def poll_cost(url: str, polls: int, rounds: int = 5) -> tuple[float, float]:
    """Median seconds per idle GetMsgEx: (through QQClient, bare POST through its transport)."""
    md5 = requests.password_md5(PASSWORD)
    transport = QQTransport(url)
    client = QQClient(transport, FIRST_UIN, md5)
    await client.login()
    body = requests.get_msg_ex(FIRST_UIN, 1)
    client_times: list[float] = []
    bare_times: list[float] = []
    per_round = max(polls // rounds, 1)

    async def bare_post() -> bytes:
        return await transport.post(body)

    try:
        for _ in range(20):  # warm both paths up
            await client.fetch_events()
            await bare_post()
        # Interleaved rounds, so drift in the machine's load hits both sides alike.
        for _ in range(rounds):
            start = time.perf_counter()
            for _ in range(per_round):
                await client.fetch_events()
            client_times.append((time.perf_counter() - start) / per_round)
            start = time.perf_counter()
            for _ in range(per_round):
                await bare_post()
            bare_times.append((time.perf_counter() - start) / per_round)
    finally:
        await client.logout()
        await transport.close()
    return statistics.median(client_times), statistics.median(bare_times)


async def idle_accounts(url: str, count: int, settle: float) -> tuple[QQTransport, list[QQClient]]:
    """``count`` clients on one transport, logged in and polling (default settings), after
    ``settle`` seconds."""
    transport = QQTransport(url, max_connections=100)
    md5 = requests.password_md5(PASSWORD)
    clients = [
        QQClient(transport, uin, md5, settings=ClientSettings())
        for uin in range(FIRST_UIN, FIRST_UIN + count)
    ]
    gate = asyncio.Semaphore(50)

    async def start(client: QQClient) -> None:
        async with gate:
            await client.start()

    await asyncio.gather(*(start(client) for client in clients))
    await asyncio.sleep(settle)
    return transport, clients


async def stop_all(transport: QQTransport, clients: list[QQClient]) -> None:
    await asyncio.gather(*(client.stop() for client in clients))
    await transport.close()


async def memory_per_account(url: str, count: int, settle: float) -> tuple[float, float, int]:
    """Bytes per idle account: (RSS delta, tracemalloc delta); and accounts online."""
    # Warm up what every client shares (the session, imports, the loop's machinery), so
    # the deltas below are what each further account adds.
    await stop_all(*await idle_accounts(url, 5, 0.5))
    gc.collect()
    before = rss_bytes()
    transport, clients = await idle_accounts(url, count, settle)
    gc.collect()
    rss_delta = (rss_bytes() - before) / count
    online = sum(client.state is ConnectionState.ONLINE for client in clients)
    await stop_all(transport, clients)
    del transport, clients
    gc.collect()

    tracemalloc.start()
    gc.collect()
    traced_before = tracemalloc.get_traced_memory()[0]
    transport, clients = await idle_accounts(url, count, settle)
    gc.collect()
    traced_delta = (tracemalloc.get_traced_memory()[0] - traced_before) / count
    tracemalloc.stop()
    await stop_all(transport, clients)
    return rss_delta, traced_delta, online


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--polls", type=int, default=1000)
    parser.add_argument("--settle", type=float, default=5.0, help="idle seconds before measuring")
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory() as directory:
        accounts_file = Path(directory) / "accounts.yaml"
        write_accounts(accounts_file, max(arguments.accounts, 1))
        simulator, url = start_simulator(accounts_file)
        try:
            through_client, bare = await poll_cost(url, arguments.polls)
            rss, traced, online = await memory_per_account(
                url, arguments.accounts, arguments.settle
            )
        finally:
            simulator.terminate()
            simulator.wait(10)

    ratio = through_client / bare
    print(f"idle GetMsgEx through QQClient: {through_client * 1e6:8.0f} µs per poll")
    print(f"bare transport POST, same body: {bare * 1e6:8.0f} µs per poll")
    print(f"ratio client / bare:            {ratio:8.2f}   (goal <= 1.30)")
    print(f"accounts logged in and idle:    {online:8d} of {arguments.accounts}")
    print(f"memory per idle account, RSS:   {rss / KIB:8.1f} KiB (goal <= 100)")
    print(f"memory per idle account, traced:{traced / KIB:8.1f} KiB (goal <= 100)")
    ok = ratio <= 1.3 and rss <= 100 * KIB and traced <= 100 * KIB and online == arguments.accounts
    print("all goals met" if ok else "GOAL MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
