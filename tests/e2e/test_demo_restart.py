"""``python -m bridge demo --data DIR`` as a script runs it: in the background, no terminal.

SIGINT stops it although the shell started it with SIGINT ignored; a restart on the same
directory listens on the same ports and says the QQ login resumes; SIGTERM stops it too.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bridge.demo.synapse import synapse_installed

READY = "Press Ctrl-C"
TIMEOUT = 120.0


class Demo:
    """The demo in a subprocess; its output is collected by a thread, ``wait_for`` a line."""

    def __init__(self, data: Path) -> None:
        # What `python -m bridge demo --data DIR &` in a script gets: SIGINT ignored.
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bridge", "demo", "--data", str(data)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
        )
        self.output = ""
        self._changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._changed:
                self.output += line
                self._changed.notify_all()

    def wait_for(self, text: str) -> str:
        with self._changed:
            if not self._changed.wait_for(
                lambda: text in self.output or self.proc.poll() is not None, TIMEOUT
            ):
                raise AssertionError(f"no {text!r} in:\n{self.output}")
        assert text in self.output, self.output
        return self.output

    def stop(self, signum: int) -> int:
        self.proc.send_signal(signum)
        code = self.proc.wait(TIMEOUT)
        self.wait_for("Stopped.")
        return code


def _urls(output: str) -> list[str]:
    return sorted(set(re.findall(r"http://127\.0\.0\.1:\d+", output)))


@pytest.mark.skipif(not synapse_installed(), reason="the demo needs Synapse (the demo extra)")
def test_data_dir_keeps_ports_and_signals_stop_it(tmp_path: Path) -> None:
    data = tmp_path / "demo"
    first = Demo(data)
    try:
        out = first.wait_for(READY)
        assert "send it:\n     login" in out
        assert first.stop(signal.SIGINT) == 0, first.output
    finally:
        if first.proc.poll() is None:
            first.proc.kill()
    ports = json.loads((data / "ports.json").read_text())
    assert set(ports) == {"simulator", "synapse", "appservice"}
    assert oct((data / "ports.json").stat().st_mode & 0o777) == "0o600"

    # A QQ login stored by the bridge, as `login` would leave it: the restart resumes it.
    _store_a_login(data)
    second = Demo(data)
    try:
        out2 = second.wait_for(READY)
        assert _urls(out2) == _urls(out), "the restart must listen where the first run did"
        assert f"127.0.0.1:{ports['synapse']}" in out2
        assert "Your QQ login resumes by itself" in out2
        assert second.stop(signal.SIGTERM) == 0, second.output
    finally:
        if second.proc.poll() is None:
            second.proc.kill()


def _store_a_login(data: Path) -> None:
    """Log 10001 in through the demo's bridge store, as the login page would."""
    import asyncio

    from bridge.config import Config
    from bridge.db import Database
    from bridge.db.rows import LoginState, UserRow
    from bridge.qq.wire.requests import password_md5
    from bridge.security import CredentialVault

    async def store() -> None:
        config = Config.load(data / "config.yaml")
        vault = CredentialVault.from_file(config.secret_key_path)
        db = await Database.open(config.database_url, vault=vault)
        try:
            row = UserRow(
                mxid="@demo:localhost",
                uin=10001,
                password_md5=password_md5("password1"),
                login_state=LoginState.LOGGED_IN,
            )
            await db.save_user(row)
        finally:
            await db.close()

    asyncio.run(store())
