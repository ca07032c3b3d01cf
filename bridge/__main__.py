"""``python -m bridge``: run the bridge, generate its registration (``-g``), or run the demo.

A bad config or a missing file ends in one line on stderr and exit status 1; a traceback is
kept for what is a bug.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import logging
import logging.config
import signal
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from .config import Config, ConfigError, example_text, write_atomically

PROGRAM = "qq-bridge"
DISTRIBUTION = "qq-matrix-bridge"
log = logging.getLogger("bridge")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROGRAM,
        description="A Matrix bridge for QQ's HTTP protocol v1.1. "
        "`%(prog)s demo --help` describes the demo.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument(
        "-c", "--config", type=Path, default=Path("config.yaml"), help="default: config.yaml"
    )
    parser.add_argument(
        "-g",
        "--generate-registration",
        action="store_true",
        help="write the appservice registration (with fresh tokens, also saved in the config) "
        "and exit",
    )
    parser.add_argument(
        "-r",
        "--registration",
        type=Path,
        default=Path("registration.yaml"),
        help="where -g writes the registration; default: registration.yaml",
    )
    return parser


def _version() -> str:
    """The installed distribution's version (pyproject.toml), as pip and ``pip show`` see it."""
    try:
        return importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:  # run from a checkout never installed
        return "unknown (not installed)"


def _write_example_config(path: Path) -> str:
    """Put the example at ``path``; returns what to tell the user."""
    write_atomically(path, example_text())
    return f"{path} did not exist, so it now holds the example config: edit it"


def _generate(config_path: Path, registration_path: Path) -> int:
    from .registration import generate

    if not config_path.exists():
        notice = _write_example_config(config_path)
        print(f"{notice}, then generate the registration again.", file=sys.stderr)
    generate(config_path, registration_path)
    print(
        f"Wrote {registration_path} and new tokens into {config_path}. List the registration "
        "in Synapse's app_service_config_files (Synapse must be able to read it) and restart "
        "Synapse; generate again after changing the domain, addresses or usernames."
    )
    return 0


def _run(config_path: Path) -> int:
    if not config_path.exists():
        notice = _write_example_config(config_path)
        raise ConfigError(f"{notice}, then run `{PROGRAM} -g -c {config_path}`")
    config = Config.load(config_path)
    logging.config.dictConfig(config.logging)
    if config.added_keys:
        log.info("Added new settings to %s: %s", config_path, ", ".join(config.added_keys))
    run_loop(serve(config))
    return 0


def run_loop(main: Coroutine[Any, Any, None]) -> None:
    """Run ``main`` on uvloop where it is installed (not on Windows), else on asyncio's own
    loop. uvloop halves the CPU of a new TCP connection, and QQ's server wants one per request
    (docs/performance.md)."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


async def serve(config: Config) -> None:
    """Run the bridge until SIGINT or SIGTERM."""
    from .app import BridgeApp

    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    # Installed before start() so that a signal during a slow start is not lost.
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    app = BridgeApp(config)
    try:
        await app.start()
        log.info("The bridge is running as %s", config.bot_mxid)
        await stopping.wait()
        log.info("Stopping")
    finally:
        # Also after a failed start: stop() releases whatever start() had opened.
        await app.stop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


def _run_demo(argv: list[str]) -> int:
    # Imported here: the demo pulls in Synapse, which running the bridge never needs.
    from .demo import main as demo_main

    return demo_main(argv)


def run(argv: list[str]) -> int:
    """The command line's work; returns the exit status."""
    if argv[:1] == ["demo"]:
        return _run_demo(argv[1:])
    arguments = _parser().parse_args(argv)
    try:
        if arguments.generate_registration:
            return _generate(arguments.config, arguments.registration)
        return _run(arguments.config)
    except (ConfigError, OSError) as e:
        print(f"{PROGRAM}: error: {_one_line(e)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # before the signal handlers are installed, or after
        return 130


def _one_line(error: Exception) -> str:
    if isinstance(error, OSError) and error.filename is not None:
        return f"{error.filename}: {error.strerror}"
    return " ".join(str(error).split())


def main(argv: list[str] | None = None) -> None:
    """The ``qq-bridge`` console script."""
    sys.exit(run(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    main()
