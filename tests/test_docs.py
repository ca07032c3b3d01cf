"""The shell blocks of README.md and docs/running.md run as written, as far as they can here.

Each document's ``sh`` blocks run in order, in one scratch directory (a copy of the checkout, so
``pip install .`` finds it; ``/var/lib/qq-bridge`` is an empty directory beside it), with these
rewrites that keep what a block claims and leave this machine alone:

- ``/opt/qq-bridge`` and ``.venv`` are the Python running the tests; ``python3 -m venv`` makes
  nothing; ``sudo -u qq-bridge`` is dropped.
- ``pip install`` resolves with ``--dry-run --no-deps``: the requirement must exist (a name on
  no package index fails) without changing the test's environment.

Lines that need root, a running Synapse or the network, or that run until stopped, are listed in
``NOT_RUN`` with the reason (a block's other lines still run); ``sh`` blocks only, so the
``yaml``, ``nginx`` and ``python`` examples are not run.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parent.parent
DOCUMENTS = ["README.md", "docs/running.md"]
_BLOCK = re.compile(r"^```sh\n(.*?)^```", re.S | re.M)

# A line starting with one of these (after the rewrites) is not run here; the value says why.
NOT_RUN = {
    "useradd": "needs root",
    "install -m": "copies into Synapse's directory as root",
    "cp docs/systemd/": "writes /etc/systemd",
    "systemctl": "needs systemd and root",
    "journalctl": "needs systemd",
    "sudo -u postgres": "needs a PostgreSQL superuser",
    "curl": "needs a running bridge",
    "PY -m pytest": "runs this very suite",
    "PY -m bridge demo": "runs until Ctrl-C (tests/e2e/test_demo.py runs the demo)",
    "PY -m bridge -c config.yaml": "needs a running Synapse (tests/e2e run the bridge)",
}


def shell_blocks(document: str) -> list[str]:
    return _BLOCK.findall((REPOSITORY / document).read_text(encoding="utf-8"))


def rewrite(line: str) -> str:
    """One documented line as this test runs it; ``PY`` and ``PIP`` stand for our interpreter."""
    line = line.replace("sudo -u qq-bridge ", "")
    line = re.sub(r"python3 -m venv \S+", ":", line)
    for prefix in ("/opt/qq-bridge/bin/", ".venv/bin/"):
        line = line.replace(prefix + "python", "PY").replace(prefix + "pip", "PIP")
        line = line.replace(prefix + "qq-bridge", "PY -m bridge")
    line = re.sub(r"^(pip|python) ", lambda m: "PIP " if m[1] == "pip" else "PY ", line)
    return line.replace("PIP install", "PIP install --dry-run --no-deps --quiet")


def runnable(block: str) -> tuple[list[str], list[str]]:
    """The block's lines to run, and the ones left out with why."""
    run: list[str] = []
    left_out: list[str] = []
    for raw in block.replace("\\\n", " ").splitlines():
        line = rewrite(raw.split(" #")[0].strip())
        if not line or line.startswith("#"):
            continue
        why = next((why for start, why in NOT_RUN.items() if line.startswith(start)), None)
        (left_out if why else run).append(f"{line}  ({why})" if why else line)
    return run, left_out


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    checkout = tmp_path / "checkout"
    shutil.copytree(
        REPOSITORY,
        checkout,
        ignore=shutil.ignore_patterns(
            ".venv", ".git", "__pycache__", "*.egg-info", "build", ".*_cache", ".hypothesis"
        ),
    )
    (tmp_path / "var-lib-qq-bridge").mkdir()
    return checkout


@pytest.mark.parametrize("document", DOCUMENTS)
def test_shell_blocks_run(document: str, scratch: Path) -> None:
    state = scratch.parent / "var-lib-qq-bridge"
    python = f"{sys.executable}"
    pip = f"{sys.executable} -m pip"
    ran = 0
    for block in shell_blocks(document):
        lines, _ = runnable(block)
        cwd = scratch  # each block starts in the checkout, as its section says
        for line in lines:
            command = line.replace("/var/lib/qq-bridge", str(state))
            command = command.replace("PIP ", pip + " ").replace("PY ", python + " ")
            done = subprocess.run(
                ["bash", "-ec", command], cwd=cwd, capture_output=True, text=True, timeout=300
            )
            assert done.returncode == 0, f"{document}: `{line}` failed:\n{done.stderr[-2000:]}"
            ran += 1
            if command.startswith("cd "):  # holds for the rest of the block, as when typed
                cwd = Path(command[3:].strip())
    assert ran >= 3, f"{document}: only {ran} lines ran"


def test_every_left_out_line_has_a_reason() -> None:
    left = [line for doc in DOCUMENTS for block in shell_blocks(doc) for line in runnable(block)[1]]
    assert left and all("(" in line for line in left)


def test_first_g_writes_what_the_docs_say(tmp_path: Path) -> None:
    """docs/running.md step 2: the first ``-g`` writes the example config, a registration and
    the key; the second keeps the config (edited) and replaces the registration."""
    args = [sys.executable, "-m", "bridge", "-g"]
    done = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert {p.name for p in tmp_path.iterdir()} >= {
        "config.yaml",
        "registration.yaml",
        "qq-bridge.key",
    }
    text = (REPOSITORY / "docs/running.md").read_text(encoding="utf-8")
    assert "a\n`registration.yaml` and the key file" in text


def test_the_terminal_clients_commands_are_documented() -> None:
    from bridge.qq.console.commands import HELP

    documented = (REPOSITORY / "docs/simulator.md").read_text(encoding="utf-8")
    names = re.findall(r"^(/\w+)", HELP, re.M)
    assert len(names) >= 10
    missing = [name for name in names if f"`{name}" not in documented]
    assert not missing, f"docs/simulator.md does not describe {missing}"
    assert "`\\n` stands for one" in documented
