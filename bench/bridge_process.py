"""The bridge in a process of its own, for the benchmarks: its CPU and memory are then its own.

``BridgeProcess(config, work).start()`` saves ``config`` to ``work/bridge.yaml`` (logging to
``work/bridge.log`` at the config's level) and runs ``python -m bridge -c work/bridge.yaml``, the
command an operator runs. Optionally profiled: ``profile=Path`` runs it under cProfile (the
stats are written when the bridge stops; cProfile counts wall time, waits included), and
``sample=Path`` attaches py-spy once it has started (``pip install py-spy``), which samples only
the CPU the bridge really uses (``--idle`` off) and writes collapsed stacks ("raw" format: one
line per stack and its sample count). ``stop()`` sends SIGTERM, the bridge's clean shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
READY_LINE = "The bridge is running as"  # bridge/__main__.py logs it once start() returned


class BridgeProcess:
    def __init__(
        self,
        config: Any,
        work: Path,
        profile: Path | None = None,
        sample: Path | None = None,
        name: str = "bridge",
    ) -> None:
        self.config = config
        self.work = work
        self.profile = profile
        self.sample = sample
        self.name = name  # of its log, config and stderr files in ``work``
        self._sampler: asyncio.subprocess.Process | None = None
        self.log_path = work / f"{name}.log"
        self.process: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def start(self, timeout: float = 120.0) -> float:
        """Start it; the seconds from the command to the bridge's "running" line."""
        config_path = self.work / f"{self.name}.yaml"
        logging_section = self.config.logging
        logging_section["handlers"] = {
            "file": {
                "class": "logging.FileHandler",
                "formatter": "normal",
                "filename": str(self.log_path),
            }
        }
        logging_section["root"]["handlers"] = ["file"]
        self.config["logging"] = logging_section
        self.config.save(config_path)
        profiler = ["-m", "cProfile", "-o", str(self.profile)] if self.profile else []
        began = time.monotonic()
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            *profiler,
            "-m",
            "bridge",
            "-c",
            str(config_path),
            cwd=ROOT,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=(self.work / f"{self.name}.stderr").open("wb"),
        )
        while READY_LINE not in self.log_text():
            if self.process.returncode is not None:
                raise RuntimeError(f"the bridge exited ({self.process.returncode}): {self.tail()}")
            if time.monotonic() - began > timeout:
                raise TimeoutError(f"the bridge did not start in {timeout:.0f} s: {self.tail()}")
            await asyncio.sleep(0.05)
        ready = time.monotonic() - began
        if self.sample is not None:
            self._sampler = await asyncio.create_subprocess_exec(
                str(Path(sys.executable).with_name("py-spy")),
                "record",
                "--pid",
                str(self.pid),
                "--format",
                "raw",
                "--rate",
                "250",
                "--output",
                str(self.sample),
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )
        return ready

    async def stop(self) -> None:
        if self._sampler is not None and self._sampler.returncode is None:
            self._sampler.send_signal(signal.SIGINT)  # py-spy writes its output and exits
            await asyncio.wait_for(self._sampler.wait(), 60)
        if self.process is None or self.process.returncode is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), 60)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()

    async def metrics_text(self) -> str:
        """The bridge's Prometheus metrics (``metrics.enabled`` must be on)."""
        host, port = self.config.metrics_listen
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://{host}:{port}/metrics") as response,
        ):
            return await response.text()

    async def qq_requests(self, command: str) -> int:
        """QQ requests of ``command`` the bridge made so far, whatever their outcome."""
        text = await self.metrics_text()
        pattern = rf'^qq_bridge_qq_requests_total{{command="{command}",[^}}]*}} (\S+)$'
        return int(sum(float(m) for m in re.findall(pattern, text, re.MULTILINE)))

    def cpu(self) -> float:
        """CPU seconds (user + system) the bridge process has used so far."""
        return process_cpu(self.pid)

    def rss(self) -> int:
        """Resident memory of the bridge process, in bytes."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise LookupError("no VmRSS")

    def log_text(self) -> str:
        with contextlib.suppress(OSError):
            return self.log_path.read_text(errors="replace")
        return ""

    def tail(self, lines: int = 20) -> str:
        text = (
            self.log_text() + "\n" + (self.work / f"{self.name}.stderr").read_text(errors="replace")
        )
        return "\n".join(text.strip().splitlines()[-lines:])

    def warnings(self) -> list[str]:
        """The bridge's log lines at WARNING or above."""
        return [
            line
            for line in self.log_text().splitlines()
            if "[WARNING]" in line or "[ERROR]" in line or "[CRITICAL]" in line
        ]


def process_cpu(pid: int | None) -> float:
    """utime + stime of ``pid`` in seconds (NaN when it cannot be read)."""
    if pid is None:
        return float("nan")
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return float("nan")
    fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": state is fields[0]
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
