"""``python -m bridge.qq.simulator [--listen HOST:PORT] [--accounts FILE] [--lapse 300 …]``

Every SimulatorSettings field is also a flag (``--message-interval 0.5``). SIGINT and
SIGTERM stop the server cleanly. The first line on stdout is ``listening on <url>``, so
scripts that pass port 0 can learn the port.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from dataclasses import fields

from .accounts import AccountsError, load_accounts, sample_accounts
from .server import Simulator
from .settings import SimulatorSettings

log = logging.getLogger("bridge.qq.simulator")


def parse_listen(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, not {text!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bridge.qq.simulator", description="A QQ HTTP v1.1 server simulator."
    )
    parser.add_argument(
        "--listen",
        type=parse_listen,
        default=("127.0.0.1", 8000),
        metavar="HOST:PORT",
        help="default 127.0.0.1:8000",
    )
    parser.add_argument(
        "--accounts",
        metavar="FILE",
        help="accounts YAML (default: the sample accounts in the package)",
    )
    parser.add_argument("--log-level", default="INFO", help="default INFO")
    for field in fields(SimulatorSettings):
        parser.add_argument(
            f"--{field.name.replace('_', '-')}",
            type=type(field.default),
            default=field.default,
            help=f"default {field.default}",
        )
    return parser


async def serve(simulator: Simulator, host: str, port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await simulator.start(host, port)
    print(f"listening on {simulator.url}", flush=True)
    try:
        await stop.wait()
    finally:
        log.info("stopping")
        await simulator.stop()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        accounts = load_accounts(args.accounts) if args.accounts else sample_accounts()
        settings = SimulatorSettings(
            **{field.name: getattr(args, field.name) for field in fields(SimulatorSettings)}
        )
    except (AccountsError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    host, port = args.listen
    asyncio.run(serve(Simulator(accounts, settings), host, port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
