"""``python -m bridge.qq.simulator`` starts, answers, and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from tests.raw_http import split_responses

from .helpers import exchange, php_request

ROOT = Path(__file__).resolve().parents[2]


async def test_serves_and_stops_on_sigterm(tmp_path: Path) -> None:
    accounts = tmp_path / "accounts.yaml"
    accounts.write_text("accounts:\n  - {uin: 20001, password: pw, nick: 甲}\n", encoding="utf-8")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bridge.qq.simulator",
        "--listen",
        "127.0.0.1:0",
        "--accounts",
        str(accounts),
        "--lapse",
        "42",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        assert line.startswith("listening on http://127.0.0.1:")
        port = int(line.rsplit(":", 1)[1])
        body = (
            b"VER=1.1&CMD=Login&SEQ=9&UIN=20001&PS=8f8b8e7b3a4f2f4c1d8b8e7b3a4f2f4c"
            b"&M5=1&LC=9326B87B234E7235"
        )
        # the md5 above is wrong on purpose: it must never be logged
        reply = split_responses(await exchange(port, php_request(body)))
        assert reply == ["VER=1.1&CMD=LOGIN&SEQ=9&UIN=20001&RES=0&RS=1&RA=密码错误".encode()]
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 30) == 0
        assert process.stderr is not None
        log = (await process.stderr.read()).decode()
        assert "stopping" in log
        assert "8f8b8e7b" not in log
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_a_bad_accounts_file_is_reported(tmp_path: Path) -> None:
    accounts = tmp_path / "accounts.yaml"
    accounts.write_text("accounts:\n  - {uin: 20001, password: pw, nick: 甲, auth: 7}\n")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bridge.qq.simulator",
        "--accounts",
        str(accounts),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 2
    assert "accounts[0] (uin 20001): auth must be 0, 1 or 2" in stderr.decode()
