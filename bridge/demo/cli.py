"""``python -m bridge demo``: the whole bridge on loopback, and what to type to try it."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path
from typing import TextIO

from bridge.demo.bridgeconf import SERVER_NAME
from bridge.demo.stack import DEMO_USER, INSTALL_HINT, DemoError, DemoStack
from bridge.demo.synapse import SynapseError, synapse_installed

# The simulator's shipped sample accounts (bridge/qq/simulator/sample_accounts.yaml).
SAMPLE_ACCOUNTS = ((10001, "password1"), (10002, "password2"), (10003, "password3"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bridge demo",
        description=(
            "Start a throwaway Synapse, the QQ simulator with its sample accounts and the bridge, "
            "all on 127.0.0.1, create a Matrix user, and print how to chat through the bridge. "
            "Ctrl-C stops everything."
        ),
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the data dir (configs, databases, logs) after stopping",
    )
    parser.add_argument(
        "--data",
        metavar="DIR",
        type=Path,
        help="put the data here instead of a temporary dir (it is kept; run again to reuse it)",
    )
    return parser


class _ProgressPrinter:
    """Prints "step ... ok (1.6 s)" lines as the stack starts."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.open_line = False

    def __call__(self, step: str, seconds: float | None) -> None:
        if seconds is None:
            print(f"{step} ... ", end="", file=self.out, flush=True)
            self.open_line = True
        else:
            print(f"ok ({seconds:.1f} s)", file=self.out, flush=True)
            self.open_line = False

    def fail(self, how: str) -> None:
        if self.open_line:
            print(how, file=self.out, flush=True)
            self.open_line = False


def instructions(stack: DemoStack) -> str:
    assert stack.synapse is not None
    sim_url = stack.simulator.url
    bot = stack.config.bot_mxid
    accounts = "\n".join(
        f"    {uin} / {password}" + ("   (yours, through the bridge)" if i == 0 else "")
        for i, (uin, password) in enumerate(SAMPLE_ACCOUNTS)
    )
    other_uin, other_password = SAMPLE_ACCOUNTS[1]
    console = (
        f"{sys.executable} -m bridge.qq.console --server {sim_url}"
        f" --uin {other_uin} --password {other_password}"
    )
    logs = f"{stack.log_path} (bridge, simulator), {stack.synapse.log_path} (Synapse)"
    if stack.keep:
        data = f"{stack.data_dir} (kept after exit)"
        if stack.ports_reused or stack.login_resumes:
            data += "\n      Run again with the same --data to keep these ports and this password."
    else:
        data = f"{stack.data_dir} (removed on exit; --keep keeps it)"
    if stack.login_resumes:
        step_two = (
            "2. Your QQ login resumes by itself: the bridge logs in to QQ again with the login it\n"
            "   stored (no need to send `login`). Your chats with the bot and your contacts are\n"
            f"   where you left them; `ping` to {bot} tells the state."
        )
    else:
        step_two = (
            f"2. Start a direct chat with the bridge bot {bot} and send it:\n"
            "     login\n"
            "   then open the link it answers with, and log in there as 10001 / password1.\n"
            '   ("help" lists the other commands; `login 10001 password1` in the chat works too.)'
        )
    return f"""
The QQ bridge demo is running.

1. Log in to Matrix with Element (or any Matrix client):
     homeserver  {stack.synapse.url}
     user        {stack.user_id}   (user name "{DEMO_USER}")
     password    {stack.password}

{step_two}

3. QQ sample accounts on the simulator at {sim_url}:
{accounts}

4. Be the other side in a terminal QQ client:
     {console}

Data: {data}
Logs: {logs}
Press Ctrl-C (or send SIGTERM) to stop.
"""


async def _run(args: argparse.Namespace, out: TextIO) -> None:
    progress = _ProgressPrinter(out)
    # SIGINT and SIGTERM stop the demo cleanly, whether or not it has a terminal: a shell
    # starts a background job with SIGINT ignored, and Python then never raises
    # KeyboardInterrupt; a handler of our own replaces that inherited "ignore".
    main_task = asyncio.current_task()
    assert main_task is not None
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, main_task.cancel)
    keep = args.keep or args.data is not None
    try:
        async with DemoStack(
            data_dir=args.data, keep=keep, log_to_file=True, progress=progress
        ) as stack:
            print(instructions(stack), file=out, flush=True)
            try:
                await asyncio.Event().wait()  # until Ctrl-C or SIGTERM cancels us
            except asyncio.CancelledError:
                # Stopping the bridge and Synapse takes a moment: say that something happens.
                print("\nStopping ...", file=out, flush=True)
                raise
    except (asyncio.CancelledError, KeyboardInterrupt):
        progress.fail("interrupted")
        raise
    except BaseException:
        progress.fail("failed")
        raise


def main(argv: list[str]) -> int:
    """Run the demo; ``argv`` are the arguments after ``demo``. Returns the exit status."""
    args = build_parser().parse_args(argv)
    out = sys.stdout
    if not synapse_installed():
        print(INSTALL_HINT, file=sys.stderr)
        return 1
    print(f"Matrix server name: {SERVER_NAME}; everything listens on 127.0.0.1 only.", file=out)
    try:
        asyncio.run(_run(args, out))
    except (DemoError, SynapseError) as err:
        print(f"\nThe demo could not start.\n{err}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("Stopped.", file=out)
    return 0
