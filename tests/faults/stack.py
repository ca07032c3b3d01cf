"""The fault tests' own servers: a Synapse that can restart on its SQLite database, the QQ
simulator behind the fault proxy, and the bridge as a subprocess that can be SIGKILLed.

All on 127.0.0.1, all stopped by the fixture that started them (tests/faults/conftest.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from ruamel.yaml import YAML

from bridge.config import Config
from bridge.demo.bridgeconf import SERVER_NAME, configure_for_loopback
from bridge.demo.synapse import SynapseServer, _death_signal_setter, free_port
from bridge.qq.simulator import Account, Simulator
from bridge.registration import build_registration

from ..e2e.fixtures import BRIDGE_QQ_SETTINGS, SIMULATOR_SETTINGS
from .proxy import FaultProxy

_LOG_TAIL_LINES = 60


def fault_accounts() -> dict[int, Account]:
    """QQ accounts 40001-40030: per scenario, one bridged account and two friends of it."""
    friends = {base: (base + 1, base + 2) for base in range(40001, 40031, 3)}
    return {
        uin: Account(
            uin=uin,
            password=f"pw-{uin}",
            nick=f"故障{uin}",
            face=(uin % 100) * 3,
            auth=0,
            friends=friends.get(uin, ()),
        )
        for uin in range(40001, 40031)
    }


FAULT_ACCOUNTS = fault_accounts()


class BridgeProcess:
    """``python -m bridge -c config.yaml``, started and stopped (or killed) by the tests."""

    def __init__(self, config_path: Path, ready_url: str, log_path: Path) -> None:
        self.config_path = config_path
        self.ready_url = ready_url
        self.log_path = log_path
        self.proc: asyncio.subprocess.Process | None = None
        self.starts = 0
        self.ready_at: float | None = None  # time.time() of the last start's readiness

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def start(self, timeout: float = 60.0) -> float:
        """Start and wait until the bridge says it is ready; returns the seconds it took."""
        assert not self.running, "the bridge is already running"
        began = time.monotonic()
        self.starts += 1
        with self.log_path.open("ab") as log:
            log.write(f"\n===== start {self.starts} at {time.time():.3f} =====\n".encode())
            log.flush()
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bridge",
                "-c",
                str(self.config_path),
                cwd=self.config_path.parent,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                preexec_fn=_death_signal_setter(),
            )
        await self._wait_ready(timeout)
        self.ready_at = time.time()
        return time.monotonic() - began

    async def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as when the machine or the OOM killer ends it."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.returncode is None:
            proc.send_signal(signal.SIGKILL)
            await proc.wait()
            self._note(f"SIGKILLed at {time.time():.3f}")

    async def stop(self, timeout: float = 15.0) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.returncode is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), timeout)
        except TimeoutError:
            proc.send_signal(signal.SIGKILL)
            await proc.wait()

    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no bridge log)"
        return "\n".join(text.splitlines()[-lines:])

    def _note(self, line: str) -> None:
        with self.log_path.open("a", encoding="utf-8") as log:
            log.write(f"===== {line} =====\n")

    async def _wait_ready(self, timeout: float) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        client_timeout = aiohttp.ClientTimeout(total=2)
        async with aiohttp.ClientSession(timeout=client_timeout) as session:
            while True:
                if self.proc.returncode is not None:
                    raise RuntimeError(
                        f"the bridge exited with {self.proc.returncode} while starting\n"
                        f"{self.log_tail()}"
                    )
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"the bridge was not ready within {timeout:.0f} s\n{self.log_tail()}"
                    )
                with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
                    async with session.get(self.ready_url) as response:
                        if response.status == 200:
                            return
                await asyncio.sleep(0.05)


@dataclass
class FaultStack:
    """Everything one fault-test module runs against."""

    directory: Path
    config: Any  # bridge.config.Config, as saved to config_path
    config_path: Path
    synapse: SynapseServer
    qq: Simulator
    proxy: FaultProxy
    bridge: BridgeProcess

    @property
    def bot(self) -> str:
        return str(self.config.bot_mxid)

    def puppet(self, uin: int) -> str:
        return str(self.config.puppet_mxid(uin))

    async def restart_synapse(self, down_for: float = 0.0) -> tuple[float, float]:
        """Stop Synapse (SIGTERM), leave it down ``down_for`` s, and start it again on the same
        data dir, SQLite database and port; returns (when it was stopped, when it answered
        again) as time.time()."""
        await self.synapse.stop()
        stopped = time.time()
        await asyncio.sleep(down_for)
        await self.synapse.start()
        return stopped, time.time()


async def start_stack(directory: Path) -> FaultStack:
    """Synapse (with the bridge's registration), the simulator, the proxy, then the bridge."""
    config = Config.from_example()
    appservice_port = free_port()
    configure_for_loopback(
        config, appservice_port=appservice_port, database_path=directory / "bridge.db"
    )
    config["appservice.as_token"] = secrets.token_urlsafe(32)
    config["appservice.hs_token"] = secrets.token_urlsafe(32)
    for key, value in BRIDGE_QQ_SETTINGS.items():
        config[f"qq.{key}"] = value
    config["logging.root.level"] = os.environ.get("FAULTS_BRIDGE_LOG_LEVEL", "INFO")
    registration_path = directory / "registration.yaml"
    with registration_path.open("w", encoding="utf-8") as stream:
        YAML(typ="safe", pure=True).dump(build_registration(config), stream)

    # A fixed port and data dir: a restart comes back where the bridge and the users expect it.
    synapse = SynapseServer(
        server_name=SERVER_NAME,
        data_dir=directory / "synapse",
        port=free_port(),
        appservice_config_files=[registration_path],
    )
    qq = Simulator(accounts=list(FAULT_ACCOUNTS.values()), settings=SIMULATOR_SETTINGS)
    proxy = FaultProxy(0)
    bridge: BridgeProcess | None = None
    try:
        await synapse.start()
        await qq.start()
        proxy.upstream = ("127.0.0.1", qq.port)
        await proxy.start()
        config["homeserver.address"] = synapse.url
        config["qq.server"] = proxy.url
        config.validate()
        config_path = directory / "config.yaml"
        config.save(config_path)
        bridge = BridgeProcess(
            config_path,
            f"http://127.0.0.1:{appservice_port}/_matrix/mau/ready",
            directory / "bridge.log",
        )
        await bridge.start()
    except BaseException:
        if bridge is not None:
            await bridge.stop()
        await proxy.stop()
        await qq.stop()
        await synapse.stop()
        raise
    return FaultStack(directory, config, config_path, synapse, qq, proxy, bridge)


async def stop_stack(stack: FaultStack) -> None:
    await stack.bridge.stop()
    await stack.proxy.stop()
    await stack.qq.stop()
    await stack.synapse.stop()
