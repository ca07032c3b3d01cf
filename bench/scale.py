"""Benchmark: N bridged QQ accounts in one bridge process, on a real Synapse and the simulator.

    .venv/bin/python bench/scale.py [--accounts 1000] [--login-rate 100] [--budget 200]
                                    [--idle 20] [--seed 1]

All on 127.0.0.1: Synapse (a subprocess), the QQ simulator (a subprocess, with the accounts
file of scale_setup.py) and the bridge (``python -m bridge``, a process of its own). Steps:

1. The bridge on an empty store: its RSS with no user (the baseline), then stopped.
2. Set-up (scale_setup.py): ``--accounts`` Matrix users made in bulk through an appservice of
   their own, and the bridge's store seeded with each user logged in to a QQ account and a
   portal each: the state of a bridge with that many users, about to restart.
3. The restart: the time until the bridge serves (its "running" line) with every user and
   portal in the store; then until every QQ login is resumed, with the logins' pace: the
   average, and the most in any one second (``qq.login_rate``, jittered: no storm).
4. Idle, once every login is in: bridge CPU and GetMsgEx per second, per 1,000 accounts,
   against ``qq.idle_poll_budget``; RSS per account over the baseline.
5. One message each way through a random account (whose portal does not exist yet): QQ ->
   Matrix within the worst case the budget implies (an idle account polls every
   max(qq.max_poll_interval, N / budget) s, at most the session's 54 s), and back.

Then a table of the goals (issue 12), each met or not, with the reason. Exits 1 if a message
is lost. N=1,000 takes a few minutes; N=10,000 about 10 (most of it creating the users).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import secrets
import shutil
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bridge_process import BridgeProcess
from scale_report import SESSION_LIMIT, Figures, print_report
from scale_setup import (
    PEER,
    SEEDER_PREFIX,
    bridged_uin,
    create_matrix_users,
    seed_store,
    seeder_registration,
    write_accounts,
)

from bridge.config import Config
from bridge.demo.bridgeconf import SERVER_NAME, configure_for_loopback
from bridge.demo.synapse import SynapseServer, free_port
from bridge.qq.client import ClientSettings
from bridge.qq.simulator import Account
from bridge.qq.wire.replies import TextMessage
from bridge.registration import build_registration
from tests.e2e.harness import QQPeer
from tests.e2e.matrix_user import MatrixUser

PEER_SETTINGS = ClientSettings(poll_interval=0.5, active_poll_interval=0.5, idle_poll_interval=0.5)


async def start_simulator(exits: AsyncExitStack, accounts: Path) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "bridge.qq.simulator", "--listen", "127.0.0.1:0"),
        *("--accounts", str(accounts), "--log-level", "WARNING"),
        stdout=asyncio.subprocess.PIPE,
    )

    async def stop() -> None:
        process.terminate()
        await asyncio.wait_for(process.wait(), 30)

    exits.push_async_callback(stop)
    assert process.stdout is not None
    line = (await asyncio.wait_for(process.stdout.readline(), 120)).decode()
    return f"http://127.0.0.1:{int(line.rsplit(':', 1)[1])}"


def bridge_config(work: Path, qq_url: str, args: argparse.Namespace) -> Any:
    config = Config.from_example()
    configure_for_loopback(
        config,
        appservice_port=free_port(),
        database_path=work / "bridge.db",
        qq_server=qq_url,
    )
    config["appservice.as_token"] = secrets.token_urlsafe(32)
    config["appservice.hs_token"] = secrets.token_urlsafe(32)
    config["qq.login_rate"] = args.login_rate
    config["qq.idle_poll_budget"] = args.budget
    config["metrics.enabled"] = True
    config["metrics.listen"] = f"127.0.0.1:{free_port()}"
    config.validate()
    return config


async def metric(bridge: BridgeProcess, name: str, labels: str = "") -> float:
    """One sample of the bridge's Prometheus metrics (summed over matching label sets)."""
    text = await bridge.metrics_text()
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{" if labels else name) and labels in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


async def wait_for_logins(bridge: BridgeProcess, n: int, f: Figures, timeout: float) -> None:
    """Sample every 0.25 s until every user is online: how long, and the logins' pace."""
    began = time.monotonic()
    samples: list[tuple[float, float]] = []
    while time.monotonic() - began < timeout:
        logins = await metric(bridge, "qq_bridge_qq_requests_total", 'command="Login"')
        samples.append((time.monotonic(), logins))
        if await metric(bridge, "qq_bridge_users", 'state="online"') >= n:
            break
        await asyncio.sleep(0.25)
    f.online = await metric(bridge, "qq_bridge_users", 'state="online"')
    f.logins_done = time.monotonic() - began
    first = next((t for t, count in samples if count > 0), began)
    f.login_average = samples[-1][1] / max(1e-9, samples[-1][0] - first)
    # The fastest second: each sample against the first one at least a second later.
    f.login_peak = 0.0
    for i, (t0, n0) in enumerate(samples):
        later = next(((t, count) for t, count in samples[i:] if t - t0 >= 1.0), None)
        if later is not None:
            f.login_peak = max(f.login_peak, (later[1] - n0) / (later[0] - t0))


async def idle(bridge: BridgeProcess, seconds: float, f: Figures) -> None:
    polls, cpu, began = await bridge.qq_requests("GetMsgEx"), bridge.cpu(), time.monotonic()
    await asyncio.sleep(seconds)
    wall = time.monotonic() - began
    f.idle_cpu = (bridge.cpu() - cpu) / wall
    f.idle_polls = (await bridge.qq_requests("GetMsgEx") - polls) / wall
    f.rss = bridge.rss()


async def one_message_each_way(
    exits: AsyncExitStack, synapse: SynapseServer, qq_url: str, user: MatrixUser, f: Figures
) -> None:
    peer = await QQPeer(qq_url, Account(PEER, f"pw{PEER}", "peer"), PEER_SETTINGS).start()
    exits.push_async_callback(peer.stop)
    uin = f.chosen_uin
    body = f"scale {secrets.token_hex(3)} to Matrix"
    began = time.monotonic()
    await peer.client.send_text(uin, body)
    room = await user.wait_for_invite(f"@qq_{PEER}:{SERVER_NAME}", timeout=f.worst_case + 60)
    await user.join(room)
    await user.wait_for(lambda e: e.room_id == room and e.body == body, timeout=60)
    f.to_matrix = time.monotonic() - began
    body = f"scale {secrets.token_hex(3)} to QQ"
    began = time.monotonic()
    await user.send(room, body)
    await peer.wait_for(
        lambda e: isinstance(e, TextMessage) and e.sender == uin and e.text == body, 60
    )
    f.to_qq = time.monotonic() - began


async def run(args: argparse.Namespace, work: Path) -> Figures:
    n = args.accounts
    chosen = random.Random(args.seed).randrange(n)
    f = Figures(n=n, budget=args.budget, login_rate=args.login_rate, chosen_uin=bridged_uin(chosen))
    write_accounts(work / "accounts.yaml", n, chosen)
    async with AsyncExitStack() as exits:
        qq_url = await start_simulator(exits, work / "accounts.yaml")
        config = bridge_config(work, qq_url, args)
        seeder = seeder_registration(SERVER_NAME)
        for name, registration in (
            ("registration.yaml", build_registration(config)),
            ("seeder.yaml", seeder),
        ):
            with (work / name).open("w", encoding="utf-8") as stream:
                YAML(typ="safe", pure=True).dump(registration, stream)
        synapse = SynapseServer(
            server_name=SERVER_NAME,
            data_dir=work / "synapse",
            appservice_config_files=[work / "registration.yaml", work / "seeder.yaml"],
        )
        await synapse.start()
        exits.push_async_callback(synapse.stop)
        config["homeserver.address"] = synapse.url

        empty = BridgeProcess(
            config, work, name="empty"
        )  # also creates the schema the seeding writes to
        f.serving_empty = await empty.start()
        await asyncio.sleep(2.0)
        f.rss_empty = empty.rss()
        await empty.stop()

        user = await MatrixUser(synapse, "scalechosen").start()
        exits.push_async_callback(user.stop)
        localparts = [f"{SEEDER_PREFIX}{i}" for i in range(n) if i != chosen]
        f.users_created = await create_matrix_users(synapse.url, seeder["as_token"], localparts)
        owners = [f"@{SEEDER_PREFIX}{i}:{SERVER_NAME}" for i in range(n)]
        owners[chosen] = str(user.mxid)
        f.seeded = await seed_store(
            config.database_url, config.secret_key_path, owners, chosen, SERVER_NAME
        )
        print(f"set up: {n} Matrix users in {f.users_created:.1f} s, store in {f.seeded:.1f} s")

        bridge = BridgeProcess(config, work)
        exits.push_async_callback(bridge.stop)
        f.serving = await bridge.start()
        print(f"serving after {f.serving:.2f} s; resuming {n} logins")
        await wait_for_logins(bridge, n, f, timeout=n / args.login_rate * 2 + 120)
        print(f"{f.online:.0f} of {n} online after {f.logins_done:.1f} s; idling")
        await asyncio.sleep(min(f.idle_interval * 2, SESSION_LIMIT) + 5)  # polls slow down
        await idle(bridge, args.idle, f)
        try:
            await one_message_each_way(exits, synapse, qq_url, user, f)
        except TimeoutError as error:
            f.problems.append(f"a message through {f.chosen_uin} did not arrive: {error!r}")
        f.warnings = bridge.warnings()
    return f


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=1000, help="N (default 1000)")
    parser.add_argument("--login-rate", type=float, default=100.0, help="qq.login_rate")
    parser.add_argument("--budget", type=float, default=200.0, help="qq.idle_poll_budget")
    parser.add_argument("--idle", type=float, default=20.0, help="seconds measured idle")
    parser.add_argument("--seed", type=int, default=1, help="picks the account at the end")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="qq-bridge-scale-"))
    try:
        figures = asyncio.run(run(args, work))
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(work)
    print_report(figures)
    return 1 if figures.problems else 0


if __name__ == "__main__":
    sys.exit(main())
