"""The demo's command line, and its start-up up to the bridge (which has tests of its own)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from mautrix.client import Client
from mautrix.types import UserID

import bridge.demo.cli as cli
from bridge.config import Config
from bridge.demo import main
from bridge.demo.stack import DEMO_USER, DemoStack
from bridge.demo.synapse import SynapseError


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "python -m bridge demo" in out and "--keep" in out and "--data DIR" in out


def test_without_synapse_it_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "synapse_installed", lambda: False)
    assert main([]) == 1
    err = capsys.readouterr().err
    assert "pip install '.[demo]'" in err
    assert ".venv/bin/pip install -e '.[demo]'" in err


async def test_stack_starts_synapse_and_the_simulator() -> None:
    steps: list[str] = []

    def progress(step: str, seconds: float | None) -> None:
        if seconds is not None:
            steps.append(step)

    async with DemoStack(start_bridge=False, progress=progress) as stack:
        assert stack.synapse is not None and stack.synapse.running
        data_dir = stack.data_dir
        assert len(steps) == 4  # simulator, config, Synapse, user: each reported when done

        # The saved config is the one the bridge would run with.
        saved = Config.load(stack.config_path)
        assert saved["homeserver.address"] == stack.synapse.url
        assert saved["qq.server"] == stack.simulator.url
        assert saved.has_permission(stack.user_id)

        # The printed login works, as Element would use it.
        client = Client(base_url=stack.synapse.url)
        try:
            login = await client.login(identifier=UserID(DEMO_USER), password=stack.password)
            assert login.user_id == stack.user_id == f"@{DEMO_USER}:localhost"
        finally:
            await client.api.session.close()

        # Synapse loaded the generated registration: the bot's ID is reserved for the bridge.
        with pytest.raises(SynapseError) as caught:
            await stack.synapse.register_user(saved["appservice.bot_username"], "pw")
        assert caught.value.errcode == "M_EXCLUSIVE"

        text = cli.instructions(stack)
        assert "login 10001 password1" in text
        assert saved.bot_mxid in text and stack.password in text
        assert f"--server {stack.simulator.url} --uin 10002 --password password2" in text

    assert not stack.synapse.running
    assert not data_dir.exists()


async def test_a_given_data_dir_and_its_secrets_are_private(tmp_path: Path) -> None:
    data = tmp_path / "demo"
    data.mkdir(mode=0o755)
    old_umask = os.umask(0o022)
    try:
        async with DemoStack(data_dir=data, start_bridge=False) as stack:
            assert stack.synapse is not None
            assert data.stat().st_mode & 0o777 == 0o700
            assert (data / "synapse").stat().st_mode & 0o777 == 0o700
            for secret in (
                stack.synapse.config_path,  # the registration shared secret
                data / "demo-password.txt",
                stack.config_path,
                stack.registration_path,
                data / "qq-bridge.key",
            ):
                assert secret.stat().st_mode & 0o777 == 0o600, secret
    finally:
        os.umask(old_umask)
