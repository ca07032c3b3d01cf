"""A simulator of the QQ HTTP v1.1 server (tqq.tencent.com:8000), for tests and the demo.

``python -m bridge.qq.simulator`` runs it; docs/simulator.md describes every behaviour.
"""

from .accounts import Account, AccountsError, load_accounts, sample_accounts
from .server import Simulator
from .settings import SimulatorSettings

__all__ = [
    "Account",
    "AccountsError",
    "Simulator",
    "SimulatorSettings",
    "load_accounts",
    "sample_accounts",
]
