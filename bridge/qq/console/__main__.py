"""``python -m bridge.qq.console --server URL --uin N [--password P]``: a terminal QQ client.

The password comes from --password, else the QQ_PASSWORD environment variable, else a
prompt. Only its md5 is kept.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import sys
import urllib.parse

from ..wire.requests import password_md5
from .app import run


def server_url(text: str) -> str:
    """An http(s) URL with a host, or a clear argparse error (not a retry loop later)."""
    url = urllib.parse.urlsplit(text)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise argparse.ArgumentTypeError(f"{text!r} is not an http:// or https:// URL")
    try:
        url.port  # noqa: B018  (raises ValueError for a malformed port)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{text!r}: {error}") from None
    return text


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bridge.qq.console", description=__doc__)
    parser.add_argument(
        "--server", type=server_url, default="http://127.0.0.1:8000", help="the QQ server URL"
    )
    parser.add_argument("--uin", type=int, required=True, help="your QQ number")
    parser.add_argument("--password", help="else $QQ_PASSWORD, else a prompt")
    parser.add_argument("--verbose", action="store_true", help="log the client's workings")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    logging.basicConfig(
        level=logging.INFO if arguments.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    password = arguments.password or os.environ.get("QQ_PASSWORD")
    if password is None:
        password = getpass.getpass(f"QQ password for {arguments.uin}: ")
    md5 = password_md5(password)
    del password, arguments.password
    try:
        return asyncio.run(run(arguments.server, arguments.uin, md5))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
