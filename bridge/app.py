"""The running bridge: config, store, appservice and QQ clients wired together.

(Being written by the lead; the signature below is the contract for the CLI and the demo.)
"""

from __future__ import annotations

from typing import Any


class BridgeApp:
    """``app = BridgeApp(config); await app.start(); ...; await app.stop()``."""

    def __init__(self, config: Any) -> None:
        self.config = config

    async def start(self) -> None:
        raise NotImplementedError("the bridge core is not written yet")

    async def stop(self) -> None:
        return None
