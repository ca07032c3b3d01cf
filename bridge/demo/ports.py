"""The demo's ports, kept in its data directory so that a restart listens where it did.

A browser tab on the login page, Element's stored homeserver URL and a terminal QQ client's
``--server`` all name a port: with ``--data DIR`` they keep working after the demo restarts.
``ports.json`` in ``DIR`` holds ``{"simulator": N, "synapse": N, "appservice": N}``; a missing
or unreadable file (or entry) gets free ports, written back at once.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from bridge.demo.synapse import free_port
from bridge.security.files import write_private

FILE_NAME = "ports.json"


@dataclass
class DemoPorts:
    simulator: int
    synapse: int
    appservice: int

    @classmethod
    def load_or_pick(cls, directory: Path | None) -> tuple[DemoPorts, bool]:
        """The ports stored in ``directory`` (True), else free ones, stored there (False).

        ``None``: a throwaway demo, which stores nothing.
        """
        stored = _read(directory / FILE_NAME) if directory is not None else {}
        names = [f.name for f in fields(cls)]
        ports = cls(**{name: stored.get(name) or free_port() for name in names})
        reused = all(stored.get(name) for name in names)
        if directory is not None and not reused:
            write_private(directory / FILE_NAME, json.dumps(asdict(ports), indent=2) + "\n")
        return ports, reused


def _read(path: Path) -> dict[str, int]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {
        key: value
        for key, value in data.items()
        if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 65536
    }
