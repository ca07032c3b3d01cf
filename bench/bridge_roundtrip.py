"""Benchmark: the bridge end to end, on a real Synapse and the QQ simulator.

    .venv/bin/python bench/bridge_roundtrip.py [--users 10] [--messages 20] [--samples 50]
                                               [--profile FILE] [--py-spy FILE]

Starts, all on 127.0.0.1, a throwaway Synapse (a subprocess), the QQ simulator (in this
process) and the bridge (``python -m bridge``, a process of its own, so that its CPU is its own),
then ``--users`` Matrix users, each logged in to its own QQ account through the bot with a
portal open to a QQ peer (a ``QQClient`` in this process). ``--profile FILE`` runs the bridge
under cProfile and writes its stats to FILE when it stops (read them with ``python -m pstats``);
``--py-spy FILE`` samples it with py-spy (its CPU only) into collapsed stacks.
The bridge's and the simulator's QQ pacing are set faster than the defaults (printed at the
start). It measures:

1. QQ -> Matrix latency: peer 0 sends a message to bridged account 0; the time until the
   Matrix user's /sync shows it in the portal. ``--samples`` messages, one at a time, each
   sent a random 0.1-0.5 s after the previous one arrived (so nothing queues and the sends
   fall at random points of the bridge's poll cycle).
2. Matrix -> QQ latency: Matrix user 0 sends in the portal; the time until peer 0's client
   has it. The peer polls GetMsgEx every 0.1 s, which adds 0-0.1 s. Same spacing.
3. QQ -> Matrix throughput: every peer sends ``--messages`` messages to its bridged account
   every 0.1 s (twice the simulator's minimum, so no penalty stalls a sender; all peers
   together offer far more than the bridge passes on); messages per second from the first send
   until every message is seen in Matrix. Then, after a short settle, each portal must hold
   exactly the bodies sent, once each and in order, both in /sync and in the room's history.
4. Where the CPU goes in each phase: the bridge's and Synapse's utime + stime from
   /proc/<pid>/stat, per message, and net of the idle phase's rate (the polling every account
   does anyway), and their ratio (goal: bridge <= 2 ms per message each way, ratio <= 0.1).

Bounded: about 1.5 minutes on 2 shared cores; every wait has a timeout and the whole run
stops after ``--timeout`` seconds. Exits 1 if any message is lost or duplicated.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import random
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mautrix.types import RoomID
from ruamel.yaml import YAML

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bridge_process import BridgeProcess, process_cpu

from bridge.config import Config
from bridge.demo.bridgeconf import SERVER_NAME, configure_for_loopback
from bridge.demo.synapse import SynapseServer, free_port
from bridge.qq.client import ClientSettings
from bridge.qq.simulator import Account, Simulator, SimulatorSettings
from bridge.qq.wire.replies import TextMessage
from bridge.registration import build_registration
from tests.e2e.harness import LoggedInSession, QQPeer
from tests.e2e.matrix_user import MatrixUser, SeenEvent

# Faster than the defaults (poll 1.0/2.0 s, send 1.0 s, simulator 0.5 s between messages).
BRIDGE_QQ = {
    "poll_interval": 0.2,
    "max_poll_interval": 0.5,
    "send_interval": 0.1,
    "penalty_wait": 2.5,
}
SIMULATOR = SimulatorSettings(message_interval=0.05, penalty=2.0, status_interval=0.1)
# Peer 0 receives the Matrix -> QQ messages: it polls every 0.1 s, active or not.
RECEIVER = ClientSettings(
    poll_interval=0.1,
    active_poll_interval=0.1,
    idle_poll_interval=0.1,
    send_interval=0.1,
    penalty_wait=2.5,
)
# The other peers only send. Every 0.1 s, twice the simulator's minimum, as the bridge does: at
# 0.06 s the jitter of the shared event loop made a few arrive closer than 0.05 s (RES=3).
SENDER = ClientSettings(
    poll_interval=1.0,
    active_poll_interval=1.0,
    idle_poll_interval=1.0,
    send_interval=0.1,
    penalty_wait=2.5,
)
GAP = (0.1, 0.5)  # seconds between one latency sample arriving and the next being sent
IDLE = 5.0  # seconds of the idle phase: the background CPU, and the CPU of one idle poll
SETTLE = 2.0  # seconds to wait for late duplicates before counting
WAIT = 30.0  # the longest any single message may take
BRIDGED_UIN, PEER_UIN = 41001, 42001


@dataclass
class Pair:
    """A Matrix user logged in to a bridged QQ account, and the QQ peer in its portal."""

    session: LoggedInSession
    peer: QQPeer
    room: RoomID

    @property
    def user(self) -> MatrixUser:
        return self.session.user

    @property
    def uin(self) -> int:
        return self.session.uin


@dataclass
class Cpu:
    """CPU seconds of the bridge's process and of Synapse's; the bridge's GetMsgEx polls."""

    bridge: float
    synapse: float
    polls: int

    def __sub__(self, other: Cpu) -> Cpu:
        return Cpu(
            self.bridge - other.bridge, self.synapse - other.synapse, self.polls - other.polls
        )


@dataclass
class Phase:
    name: str
    messages: int
    wall: float
    cpu: Cpu
    latencies: list[float] = field(default_factory=list)


class Notable(logging.Handler):
    """Keeps the warnings and errors logged, and the QQ clients' "too fast" penalties (INFO)."""

    SENDER = "bridge.qq.client.sender"

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.warnings: list[logging.LogRecord] = []
        self.penalties: list[logging.LogRecord] = []

    def install(self) -> None:
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
        root = logging.getLogger()
        for handler in root.handlers:
            handler.setLevel(logging.WARNING)  # the console gets warnings only
        root.addHandler(self)
        logging.getLogger(self.SENDER).setLevel(logging.INFO)

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.WARNING:
            self.warnings.append(record)
        elif record.name == self.SENDER and "penalty" in record.getMessage():
            self.penalties.append(record)

    def report(self) -> None:
        for title, records in (("penalties", self.penalties), ("warnings", self.warnings)):
            print(f"{title} logged: {len(records)}")
            for record in records[:10]:
                print(f"  {record.levelname} {record.name}: {record.getMessage()}")


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.rng = random.Random(args.seed)
        self.pairs: list[Pair] = []
        self.problems: list[str] = []
        self.synapse: SynapseServer | None = None
        self.synapse_pid: int | None = None
        self.config: Any = None
        self.bridge: BridgeProcess | None = None

    # --- setup ------------------------------------------------------------------------------

    async def start(self, exits: AsyncExitStack, work: Path) -> None:
        users = self.args.users
        accounts = [
            Account(uin=BRIDGED_UIN + i, password=f"pw-{i}", nick=f"bridged{i}", friends=(p,))
            for i, p in enumerate(range(PEER_UIN, PEER_UIN + users))
        ] + [Account(uin=PEER_UIN + i, password=f"peer-{i}", nick=f"peer{i}") for i in range(users)]
        simulator = Simulator(accounts=accounts, settings=SIMULATOR)
        await simulator.start(host="127.0.0.1", port=0)
        exits.push_async_callback(simulator.stop)

        config = Config.from_example()
        configure_for_loopback(
            config,
            appservice_port=free_port(),
            database_path=work / "bridge.db",
            qq_server=str(simulator.url),
        )
        config["appservice.as_token"] = secrets.token_urlsafe(32)
        config["appservice.hs_token"] = secrets.token_urlsafe(32)
        for key, value in BRIDGE_QQ.items():
            config[f"qq.{key}"] = value
        # The bridge's own count of its GetMsgEx polls, read between phases (bridge_process.py).
        config["metrics.enabled"] = True
        config["metrics.listen"] = f"127.0.0.1:{free_port()}"
        config.validate()
        registration = work / "registration.yaml"
        with registration.open("w", encoding="utf-8") as stream:
            YAML(typ="safe", pure=True).dump(build_registration(config), stream)

        began = time.monotonic()
        synapse = SynapseServer(
            server_name=SERVER_NAME,
            data_dir=work / "synapse",
            appservice_config_files=[registration],
        )
        await synapse.start()
        exits.push_async_callback(synapse.stop)
        self.synapse = synapse
        self.synapse_pid = _pid_running(str(synapse.config_path))
        config["homeserver.address"] = synapse.url
        self.config = config

        self.bridge = BridgeProcess(config, work, self.args.profile, self.args.py_spy)
        exits.push_async_callback(self.bridge.stop)
        await self.bridge.start()
        print(f"Synapse and the bridge up in {time.monotonic() - began:.1f} s")

        began = time.monotonic()
        bot = str(config.bot_mxid)
        self.pairs = await asyncio.gather(
            *(self._pair(exits, simulator.url, accounts, i, bot) for i in range(users))
        )
        elapsed = time.monotonic() - began
        print(f"{users} users logged in to QQ, each with a portal open, in {elapsed:.1f} s")

    async def _pair(
        self, exits: AsyncExitStack, qq_url: str, accounts: list[Account], i: int, bot: str
    ) -> Pair:
        assert self.synapse is not None
        user = await MatrixUser(self.synapse, f"bench{i}").start()
        exits.push_async_callback(user.stop)
        settings = RECEIVER if i == 0 else SENDER
        peer = await QQPeer(qq_url, accounts[self.args.users + i], settings).start()
        exits.push_async_callback(peer.stop)

        room = await user.dm(bot)
        await user.wait_for_text(room, "Send `login", sender=bot, timeout=WAIT)
        session = LoggedInSession(user, room, bot, BRIDGED_UIN + i, self.config.puppet_mxid)
        account = accounts[i]
        await session.command(f"login {account.uin} {account.password}", "Logged in to QQ")
        pair = Pair(session, peer, await session.open_portal(peer.account.uin))
        # One message each way, so that the puppet's profile and the first poll are done.
        await self._qq_to_matrix(pair, f"warm-up {i}")
        await self._matrix_to_qq(pair, f"warm-up {i}")
        return pair

    # --- one message ------------------------------------------------------------------------

    async def _qq_to_matrix(self, pair: Pair, body: str) -> float:
        mark = pair.user.mark()
        began = time.monotonic()
        await pair.peer.client.send_text(pair.uin, body)
        await pair.user.wait_for(lambda e: _is_text(e, pair.room, body), WAIT, mark)
        return time.monotonic() - began

    async def _matrix_to_qq(self, pair: Pair, body: str) -> float:
        began = time.monotonic()
        await pair.user.send(pair.room, body)
        await pair.peer.wait_for(
            lambda e: isinstance(e, TextMessage) and e.sender == pair.uin and e.text == body,
            WAIT,
        )
        return time.monotonic() - began

    # --- the phases -------------------------------------------------------------------------

    async def idle(self, seconds: float) -> Phase:
        """The background: every account logged in and polling, nothing sent."""
        cpu, began = await self.cpu(), time.monotonic()
        await asyncio.sleep(seconds)
        return Phase("idle, all logged in", 0, time.monotonic() - began, await self.cpu() - cpu)

    async def latency(self, to_matrix: bool) -> Phase:
        name = "QQ -> Matrix" if to_matrix else "Matrix -> QQ"
        send = self._qq_to_matrix if to_matrix else self._matrix_to_qq
        pair = self.pairs[0]
        prefix = f"{name} {secrets.token_hex(3)} "
        bodies = [f"{prefix}#{n}" for n in range(self.args.samples)]
        latencies = []
        cpu, began = await self.cpu(), time.monotonic()
        for body in bodies:
            try:
                latencies.append(await send(pair, body))
            except TimeoutError:
                self.problems.append(f"{name}: {body!r} not delivered within {WAIT:.0f} s")
            await asyncio.sleep(self.rng.uniform(*GAP))
        phase = Phase(
            name, len(bodies), time.monotonic() - began, await self.cpu() - cpu, latencies
        )
        await asyncio.sleep(SETTLE)
        if to_matrix:
            self.check_matrix(pair, bodies, prefix)
        else:
            self.check_qq(pair, bodies, prefix)
        return phase

    async def throughput(self) -> tuple[Phase, float]:
        """QQ -> Matrix: every peer sends its bridged account ``--messages`` messages."""
        tag = secrets.token_hex(3)
        sent = self._bodies(f"burst {tag}")
        marks = [pair.user.mark() for pair in self.pairs]
        cpu, began = await self.cpu(), time.monotonic()

        async def send_all(pair: Pair, bodies: list[str]) -> float:
            for body in bodies:
                await pair.peer.client.send_text(pair.uin, body)
            return time.monotonic() - began

        async def seen_all(pair: Pair, bodies: list[str], mark: int) -> None:
            # Messages arrive in order, so the last one means all (the checks below verify).
            last = bodies[-1]
            try:
                await pair.user.wait_for(lambda e: _is_text(e, pair.room, last), WAIT, mark)
            except TimeoutError:
                self.problems.append(f"burst: {last!r} not in Matrix within {WAIT:.0f} s")

        senders = asyncio.gather(*(send_all(p, sent[i]) for i, p in enumerate(self.pairs)))
        await asyncio.gather(*(seen_all(p, sent[i], marks[i]) for i, p in enumerate(self.pairs)))
        wall = time.monotonic() - began
        phase = Phase("QQ -> Matrix burst", self._total(sent), wall, await self.cpu() - cpu)
        sending = max(await senders)
        await asyncio.sleep(SETTLE)
        for i, pair in enumerate(self.pairs):
            self.check_matrix(pair, sent[i], f"burst {tag} ")
            await self.check_history(pair, sent[i], f"burst {tag} ")
        return phase, sending

    async def throughput_to_qq(self) -> Phase:
        """Matrix -> QQ: every Matrix user sends ``--messages`` messages in their portal."""
        tag = secrets.token_hex(3)
        sent = self._bodies(f"to-qq {tag}")
        cpu, began = await self.cpu(), time.monotonic()

        async def send_and_see(pair: Pair, bodies: list[str]) -> None:
            for body in bodies:
                await pair.user.send(pair.room, body)
            last = bodies[-1]
            try:
                await pair.peer.wait_for(
                    lambda e: (
                        isinstance(e, TextMessage) and e.sender == pair.uin and e.text == last
                    ),
                    WAIT,
                )
            except TimeoutError:
                self.problems.append(f"burst: {last!r} not in QQ within {WAIT:.0f} s")

        await asyncio.gather(*(send_and_see(p, sent[i]) for i, p in enumerate(self.pairs)))
        wall = time.monotonic() - began
        phase = Phase("Matrix -> QQ burst", self._total(sent), wall, await self.cpu() - cpu)
        await asyncio.sleep(SETTLE)
        for i, pair in enumerate(self.pairs):
            self.check_qq(pair, sent[i], f"to-qq {tag} ")
        return phase

    def _bodies(self, prefix: str) -> dict[int, list[str]]:
        return {
            i: [f"{prefix} u{i} #{n}" for n in range(self.args.messages)]
            for i in range(len(self.pairs))
        }

    @staticmethod
    def _total(sent: dict[int, list[str]]) -> int:
        return sum(len(bodies) for bodies in sent.values())

    # --- checks -----------------------------------------------------------------------------

    def check_matrix(self, pair: Pair, bodies: Sequence[str], prefix: str) -> None:
        """Every body seen by /sync in the portal exactly once, in order, and nothing else."""
        seen = [
            e.body for e in pair.user.events if _is_text(e, pair.room) and e.body.startswith(prefix)
        ]
        self._compare(f"user {pair.uin - BRIDGED_UIN}, /sync", list(bodies), seen)

    async def check_history(self, pair: Pair, bodies: Sequence[str], prefix: str) -> None:
        puppet = str(self.config.puppet_mxid(pair.peer.account.uin))
        history = await pair.user.texts(pair.room, sender=puppet)
        seen = [body for body in history if body.startswith(prefix)]
        self._compare(f"user {pair.uin - BRIDGED_UIN}, room history", list(bodies), seen)

    def check_qq(self, pair: Pair, bodies: Sequence[str], prefix: str) -> None:
        seen = [
            e.text
            for e in pair.peer.events
            if isinstance(e, TextMessage) and e.sender == pair.uin and e.text.startswith(prefix)
        ]
        self._compare(f"peer {pair.peer.account.uin}", list(bodies), seen)

    def _compare(self, where: str, sent: list[str], seen: list[str]) -> None:
        if seen == sent:
            return
        missing = [b for b in sent if b not in seen]
        extra = sorted({b for b in seen if seen.count(b) > 1 or b not in sent})
        order = "" if missing or extra else " (all there once, but out of order)"
        self.problems.append(
            f"{where}: sent {len(sent)}, seen {len(seen)}{order}; "
            f"missing {missing[:5]}{'…' if len(missing) > 5 else ''}; "
            f"duplicated or unknown {extra[:5]}"
        )

    # --- CPU --------------------------------------------------------------------------------

    async def cpu(self) -> Cpu:
        assert self.bridge is not None
        polls = await self.bridge.qq_requests("GetMsgEx")
        return Cpu(self.bridge.cpu(), process_cpu(self.synapse_pid), polls)


def _is_text(event: SeenEvent, room: str, body: str | None = None) -> bool:
    return (
        event.room_id == room
        and event.type == "m.room.message"
        and (body is None or event.body == body)
    )


def _pid_running(config_path: str) -> int | None:
    """The pid of the process whose command line names ``config_path`` (Synapse's)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if config_path in (entry / "cmdline").read_bytes().decode(errors="replace"):
                    return int(entry.name)
    return None


# --- report -----------------------------------------------------------------------------------


def print_settings(config: Any) -> None:
    effective = ClientSettings.from_config(config.qq_settings)
    print("Settings:")
    print("  bridge config  " + ", ".join(f"qq.{k} {v}" for k, v in BRIDGE_QQ.items()))
    print(
        f"  bridge client  poll {effective.poll_interval} s, while active "
        f"{effective.active_poll_interval} s (half of it: ClientSettings.from_config), "
        f"idle up to {effective.idle_poll_interval} s, send every {effective.send_interval} s"
    )
    print(
        f"  simulator      message_interval {SIMULATOR.message_interval} s, "
        f"penalty {SIMULATOR.penalty} s"
    )
    print(
        f"  QQ peers       receiver polls every {RECEIVER.poll_interval} s; senders send every "
        f"{SENDER.send_interval} s"
    )
    print(f"  load average   {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def _percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of ``values`` (sorted or not)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def print_table(phases: list[Phase], sending: float) -> None:
    print()
    print(f"{'figure':<46} {'value':>20}")
    print("-" * 67)
    for phase in phases:
        if phase.latencies:
            ms = [1000 * x for x in phase.latencies]
            value = f"{_percentile(ms, 0.5):.0f} / {_percentile(ms, 0.99):.0f} ms"
            print(f"{phase.name + ' latency, p50 / p99':<46} {value:>20}")
            print(f"{'  min / max':<46} {f'{min(ms):.0f} / {max(ms):.0f} ms':>20}")
        elif phase.messages:
            value = f"{phase.messages / phase.wall:.1f} msg/s"
            print(f"{phase.name + f' throughput ({phase.messages} msgs)':<46} {value:>20}")
            print(f"{'  all arrived after':<46} {f'{phase.wall:.2f} s':>20}")
            if phase.name.startswith("QQ"):
                print(f"{'  peers done sending after':<46} {f'{sending:.2f} s':>20}")
    print_cpu(phases)


def print_cpu(phases: list[Phase]) -> None:
    """Per message, net of the background: for the bridge, its GetMsgEx polls at what one
    costs when idle (fast polling while a chat is active is a latency choice, not the
    message's work); for Synapse, its idle rate over the phase's time."""
    idle = phases[0]
    per_poll = idle.cpu.bridge / idle.cpu.polls if idle.cpu.polls else 0.0
    synapse_rate = idle.cpu.synapse / idle.wall
    print()
    print(
        f"idle: bridge {100 * idle.cpu.bridge / idle.wall:.1f} % of a core for "
        f"{idle.cpu.polls / idle.wall:.0f} GetMsgEx/s ({1000 * per_poll:.2f} ms each); "
        f"Synapse {100 * synapse_rate:.1f} %"
    )
    print("CPU per message, net of the background (gross in brackets)")
    print(f"{'phase':<22} {'polls':>6} {'bridge ms/msg':>16} {'Synapse ms/msg':>16} {'ratio':>7}")
    print("-" * 71)
    for phase in phases[1:]:
        cpu, n = phase.cpu, phase.messages
        gross = f"({1000 * cpu.bridge / n:.2f})", f"({1000 * cpu.synapse / n:.2f})"
        if phase.latencies:
            # 50 messages over ~25 s: the net would be a small difference of two large
            # figures, within the noise of the background; the bursts give it.
            print(f"{phase.name:<22} {cpu.polls:>6} {gross[0]:>16} {gross[1]:>16} {'-':>7}")
            continue
        bridge = max(0.0, cpu.bridge - cpu.polls * per_poll)
        synapse = max(0.0, cpu.synapse - synapse_rate * phase.wall)
        ratio = bridge / synapse if synapse else float("nan")
        print(
            f"{phase.name:<22} {cpu.polls:>6} "
            f"{f'{1000 * bridge / n:.2f} {gross[0]}':>16} "
            f"{f'{1000 * synapse / n:.2f} {gross[1]}':>16} {ratio:>7.2f}"
        )
    print("goal: bridge <= 2 ms per message each way (net), ratio <= 0.1")


async def run(args: argparse.Namespace) -> int:
    notable = Notable()
    notable.install()
    bench = Bench(args)
    work = Path(tempfile.mkdtemp(prefix="qq-bridge-bench-"))
    try:
        async with asyncio.timeout(args.timeout), AsyncExitStack() as exits:
            await bench.start(exits, work)
            print_settings(bench.config)
            phases = [
                await bench.idle(IDLE),
                await bench.latency(to_matrix=True),
                await bench.latency(to_matrix=False),
            ]
            burst, sending = await bench.throughput()
            phases.append(burst)
            phases.append(await bench.throughput_to_qq())
            print_table(phases, sending)
            await exits.aclose()  # the bridge stopped: its log and profile are complete
            assert bench.bridge is not None
            bridge_warnings = bench.bridge.warnings()
    except TimeoutError:
        print(f"stopped: the run took longer than {args.timeout:.0f} s", file=sys.stderr)
        return 2
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(work)
    print()
    notable.report()
    print(f"bridge warnings logged: {len(bridge_warnings)}")
    for line in bridge_warnings[:10]:
        print("  " + line)
    if bench.problems:
        print("\nLOST, DUPLICATED OR REORDERED MESSAGES:")
        for problem in bench.problems:
            print("  " + problem)
        return 1
    print("every message arrived exactly once, in order")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=10, help="bridged users (default 10)")
    parser.add_argument("--messages", type=int, default=20, help="burst per user (default 20)")
    parser.add_argument("--samples", type=int, default=50, help="latency samples (default 50)")
    parser.add_argument("--seed", type=int, default=1, help="for the random spacing")
    parser.add_argument("--timeout", type=float, default=240.0, help="seconds for the whole run")
    parser.add_argument(
        "--profile", type=Path, help="run the bridge under cProfile, its stats written here"
    )
    parser.add_argument(
        "--py-spy", type=Path, help="sample the bridge with py-spy, collapsed stacks written here"
    )
    args = parser.parse_args()
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
