"""The one-command demo (``python -m bridge demo``) and the throwaway Synapse it runs.

Importing this package imports neither Synapse nor the bridge core: ``main`` checks for Synapse
first so that a missing install gets a clear message rather than a traceback.
"""

from __future__ import annotations


def main(argv: list[str]) -> int:
    """Run the demo with ``argv`` (the arguments after ``demo``); returns the exit status."""
    from bridge.demo.cli import main as cli_main

    return cli_main(argv)


__all__ = ["main"]
