"""``python -m bridge``: generating the registration, refusing bad configs, running, the demo."""

from __future__ import annotations

import asyncio
import importlib.metadata
import logging.config
import os
import signal
import subprocess
import sys
import types
from pathlib import Path

import pytest
from ruamel.yaml import YAML

import bridge.__main__ as cli
from bridge.config import TOKEN_PLACEHOLDER, Config, ConfigError, example_text

REPOSITORY = Path(__file__).resolve().parent.parent


def run_bridge(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(REPOSITORY)}
    return subprocess.run(
        [sys.executable, "-m", "bridge", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_generate_end_to_end(tmp_path: Path) -> None:
    config = Config.from_example()
    config["homeserver.domain"] = "my.org"
    config.save(tmp_path / "bridge.yaml")

    before = (tmp_path / "bridge.yaml").read_text()
    result = run_bridge("-g", "-c", "bridge.yaml", "-r", "out/reg.yaml", cwd=tmp_path)
    assert result.returncode == 1  # out/ does not exist: a clear error, not a traceback
    assert result.stderr == "qq-bridge: error: out/reg.yaml: No such file or directory\n"
    assert (tmp_path / "bridge.yaml").read_text() == before  # the old tokens still match

    (tmp_path / "out").mkdir()
    result = run_bridge("-g", "-c", "bridge.yaml", "-r", "out/reg.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    registration = YAML(typ="safe").load((tmp_path / "out" / "reg.yaml").read_text())
    saved = Config.load(tmp_path / "bridge.yaml")
    assert registration["as_token"] == saved.as_token != TOKEN_PLACEHOLDER
    assert registration["hs_token"] == saved.hs_token != TOKEN_PLACEHOLDER
    assert registration["namespaces"]["users"][0]["regex"] == r"@qq_.*:my\.org"
    # The tokens are secrets: the command says where they went, never what they are.
    assert saved.as_token not in result.stdout + result.stderr
    assert saved.hs_token not in result.stdout + result.stderr


def test_generate_without_a_config_starts_from_the_example(tmp_path: Path) -> None:
    result = run_bridge("-g", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "config.yaml did not exist" in result.stderr and "edit it" in result.stderr
    assert (tmp_path / "registration.yaml").exists()
    config = Config.load(tmp_path / "config.yaml")  # the defaults, with real tokens
    assert config.homeserver_domain == "example.com"
    assert "# Your Matrix homeserver." in (tmp_path / "config.yaml").read_text()


def test_running_without_a_config_writes_the_example_and_exits_1(tmp_path: Path) -> None:
    result = run_bridge(cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("qq-bridge: error: config.yaml did not exist")
    assert "qq-bridge -g -c config.yaml" in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert (tmp_path / "config.yaml").read_text() == example_text()


def test_running_with_placeholder_tokens_exits_1(tmp_path: Path) -> None:
    Config.from_example().save(tmp_path / "config.yaml")
    result = run_bridge("-c", "config.yaml", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == (
        "qq-bridge: error: appservice.as_token is not set: "
        "generate the registration with `python -m bridge -g`\n"
    )


def test_a_bad_config_error_names_the_key_and_no_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = Config.from_example()
    config["appservice.as_token"] = "very-secret-as-token"
    config["appservice.hs_token"] = "very-secret-hs-token"
    config["appservice.port"] = 70000
    config.save(tmp_path / "config.yaml")
    assert cli.run(["-c", str(tmp_path / "config.yaml")]) == 1
    captured = capsys.readouterr()
    assert captured.err == "qq-bridge: error: appservice.port must be an integer 1-65535\n"
    assert "very-secret" not in captured.out + captured.err


def test_main_exits_with_the_status(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["-c", str(tmp_path / "absent.yaml")])
    assert exited.value.code == 1


def test_version_comes_from_the_package_metadata(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["--version"])
    assert exited.value.code == 0
    expected = importlib.metadata.version("qq-matrix-bridge")
    assert capsys.readouterr().out == f"qq-bridge {expected}\n"


def test_version_as_a_subprocess() -> None:
    """What a packager or a bug report runs: ``python -m bridge --version``."""
    done = subprocess.run(
        [sys.executable, "-m", "bridge", "--version"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("qq-bridge ") and done.stdout.split()[1][0].isdigit()


class FakeApp:
    """Stands in for BridgeApp; records what the CLI asked of it."""

    instances: list[FakeApp] = []  # noqa: RUF012 (a test-only registry)
    fail_start = False

    def __init__(self, config: Config) -> None:
        self.config = config
        self.calls: list[str] = []
        FakeApp.instances.append(self)

    async def start(self) -> None:
        self.calls.append("start")
        if FakeApp.fail_start:
            raise RuntimeError("could not start")
        # What an operator's Ctrl-C or systemd's stop does, once the bridge is up.
        asyncio.get_running_loop().call_later(0.05, os.kill, os.getpid(), signal.SIGTERM)

    async def stop(self) -> None:
        self.calls.append("stop")


@pytest.fixture
def fake_app(monkeypatch: pytest.MonkeyPatch) -> type[FakeApp]:
    module = types.ModuleType("bridge.app")
    module.BridgeApp = FakeApp  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "bridge.app", module)
    monkeypatch.setattr(FakeApp, "instances", [])
    monkeypatch.setattr(FakeApp, "fail_start", False)
    return FakeApp


def ready_config() -> Config:
    config = Config.from_example()
    config["appservice.as_token"] = "as"
    config["appservice.hs_token"] = "hs"
    return config


async def test_serve_starts_then_stops_on_sigterm(fake_app: type[FakeApp]) -> None:
    config = ready_config()
    await asyncio.wait_for(cli.serve(config), timeout=10)
    (app,) = fake_app.instances
    assert app.config is config
    assert app.calls == ["start", "stop"]
    # The default disposition is back: the bridge no longer owns the signal.
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


async def test_serve_stops_what_a_failed_start_opened(fake_app: type[FakeApp]) -> None:
    fake_app.fail_start = True
    with pytest.raises(RuntimeError, match="could not start"):
        await cli.serve(ready_config())
    assert fake_app.instances[0].calls == ["start", "stop"]


def test_run_configures_logging_and_serves(
    tmp_path: Path, fake_app: type[FakeApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    configured: list[dict[str, object]] = []
    monkeypatch.setattr(logging.config, "dictConfig", configured.append)
    ready_config().save(tmp_path / "config.yaml")
    assert cli.run(["-c", str(tmp_path / "config.yaml")]) == 0
    assert configured == [ready_config().logging]
    assert fake_app.instances[0].calls == ["start", "stop"]


def test_demo_gets_the_rest_of_the_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    received: list[list[str]] = []

    def demo_main(argv: list[str]) -> int:
        received.append(argv)
        return 3

    module = types.ModuleType("bridge.demo")
    module.main = demo_main  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "bridge.demo", module)
    assert cli.run(["demo", "-c", "x.yaml", "--fast"]) == 3
    assert received == [["-c", "x.yaml", "--fast"]]


def test_config_errors_are_one_line() -> None:
    error = ConfigError("first line\n   second line")
    assert cli._one_line(error) == "first line second line"
