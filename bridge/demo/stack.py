"""The demo's processes as one async context manager: Synapse, the QQ simulator, the bridge.

``async with DemoStack(data_dir=None) as stack:`` starts, in order, the QQ simulator, a
generated bridge config and registration, a throwaway Synapse that loads the registration,
the bridge, and a Matrix user to log in with; leaving the block stops them in reverse order
and removes the data dir (unless ``keep``). The CLI in ``bridge.demo.cli`` prints what to do
with it; tests enter it with ``start_bridge=False`` to check everything up to the bridge.
"""

from __future__ import annotations

import contextlib
import logging.config
import secrets
import shutil
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from bridge.demo.bridgeconf import SERVER_NAME, configure_for_loopback
from bridge.demo.ports import FILE_NAME, DemoPorts
from bridge.demo.synapse import SynapseError, SynapseServer, synapse_installed
from bridge.security.files import PRIVATE_DIR, make_private, write_private

__all__ = ["DEMO_USER", "INSTALL_HINT", "DemoError", "DemoStack"]

DEMO_USER = "demo"
INSTALL_HINT = (
    "The demo runs a private Synapse, which is not installed in this Python. Install it with\n"
    "    pip install '.[demo]'\n"
    "in the checkout of the bridge, or, for development there,\n"
    "    .venv/bin/pip install -e '.[demo]'"
)


class DemoError(RuntimeError):
    """A demo step failed; the message says which step and what to do about it."""


# Called as progress(step, None) when a step begins and progress(step, seconds) when it is done.
Progress = Callable[[str, float | None], None]


def _quiet(step: str, seconds: float | None) -> None:
    return None


class DemoStack:
    """Everything the demo runs; see the module docstring.

    ``log_to_file`` sends all logging (the bridge's, the simulator's) to ``log_path``, for the
    CLI. Attributes after entering: ``synapse`` (the running SynapseServer), ``simulator`` (the QQ
    simulator, ``.url``), ``config`` (the bridge Config), ``bridge`` (the BridgeApp, or None
    with ``start_bridge=False``), ``user_id`` and ``password`` of the Matrix demo user.
    """

    def __init__(
        self,
        *,
        data_dir: Path | str | None = None,
        keep: bool = False,
        start_bridge: bool = True,
        log_to_file: bool = False,
        progress: Progress = _quiet,
    ) -> None:
        self.keep = keep
        self.start_bridge = start_bridge
        self.log_to_file = log_to_file
        self._progress = progress
        self._given_dir = Path(data_dir).resolve() if data_dir is not None else None
        self._data_dir: Path | None = None
        self._exits = AsyncExitStack()
        self.synapse: SynapseServer | None = None
        self.simulator: Any = None
        self.config: Any = None
        self.bridge: Any = None
        self.user_id = ""
        self.password = ""
        self.ports: DemoPorts | None = None
        self.ports_reused = False  # the ports came from a kept data dir
        self.login_resumes = False  # the bridge found a stored QQ login, and logs in again

    @property
    def data_dir(self) -> Path:
        if self._data_dir is None:
            raise DemoError("the demo has not been started")
        return self._data_dir

    @property
    def config_path(self) -> Path:
        return self.data_dir / "config.yaml"

    @property
    def registration_path(self) -> Path:
        return self.data_dir / "registration.yaml"

    @property
    def log_path(self) -> Path:
        # The bridge's and the simulator's log (Synapse has its own, in synapse/).
        return self.data_dir / "demo.log"

    async def __aenter__(self) -> Self:
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def stop(self) -> None:
        """Stop whatever was started, newest first, then remove the data dir unless kept."""
        try:
            await self._exits.aclose()
        finally:
            if self._data_dir is not None and not self.keep and self._given_dir is None:
                shutil.rmtree(self._data_dir, ignore_errors=True)
            self._data_dir = None

    # --- the steps --------------------------------------------------------------------------

    async def _start(self) -> None:
        if not synapse_installed():
            raise DemoError(INSTALL_HINT)
        self._make_data_dir()
        self.ports, self.ports_reused = DemoPorts.load_or_pick(self._given_dir)
        if self.log_to_file:
            # Process-wide, so only for the CLI: the terminal is for the instructions.
            logging.config.dictConfig(_file_logging(self.log_path))
        with self._step("Starting the QQ simulator with the sample accounts"):
            await self._start_simulator()
        with self._step("Writing the bridge config and its appservice registration"):
            self._write_bridge_config()
        with self._step("Starting a private Synapse (this takes a few seconds)"):
            await self._start_synapse()
        with self._step(f"Creating the Matrix user @{DEMO_USER}:{SERVER_NAME}"):
            await self._create_user()
        if self.start_bridge:
            with self._step("Starting the bridge"):
                await self._start_bridge()

    def _make_data_dir(self) -> None:
        if self._given_dir is not None:
            # Private: it holds Synapse's registration secret, the demo password, the key of
            # the stored QQ logins and the databases.
            self._given_dir.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
            make_private(self._given_dir, directory=True)
            self._data_dir = self._given_dir
        else:
            self._data_dir = Path(tempfile.mkdtemp(prefix="qq-bridge-demo-"))  # 0700

    async def _start_simulator(self) -> None:
        from bridge.qq.simulator import Simulator

        assert self.ports is not None
        simulator = Simulator()
        try:
            port = self.ports.simulator if self._given_dir else 0
            await simulator.start(host="127.0.0.1", port=port)
        except OSError as err:
            raise DemoError(_port_taken("QQ simulator", self.ports.simulator, err)) from None
        self._exits.push_async_callback(simulator.stop)
        self.simulator = simulator

    def _write_bridge_config(self) -> None:
        from bridge.config import Config
        from bridge.registration import generate

        assert self.ports is not None
        config = Config.from_example()
        configure_for_loopback(
            config,
            appservice_port=self.ports.appservice,
            database_path=self.data_dir / "bridge.db",
            qq_server=str(self.simulator.url),
            permissions={SERVER_NAME: "user", f"@{DEMO_USER}:{SERVER_NAME}": "admin"},
            # As the example config has it: Element X and Cinny make new direct chats encrypted
            # (the demo's Synapse pushes the keys to the bridge; see synapse.py).
            encryption=True,
        )
        # For `python -m bridge -c <data>/config.yaml`, to log where the demo's bridge did.
        config["logging"] = _file_logging(self.log_path)
        config.save(str(self.config_path))
        # The same step as `python -m bridge -g`: fresh tokens in the config and registration.
        generate(str(self.config_path), str(self.registration_path))
        self.config = Config.load(str(self.config_path))

    async def _start_synapse(self) -> None:
        synapse = SynapseServer(
            server_name=SERVER_NAME,
            data_dir=self.data_dir / "synapse",
            keep=True,  # it lives inside our data dir, which we remove (or keep) ourselves
            # A throwaway demo lets Synapse pick again if its port was taken meanwhile.
            port=self.ports.synapse if self.ports and self._given_dir else None,
            appservice_config_files=[self.registration_path],
        )
        await synapse.start()
        self._exits.push_async_callback(synapse.stop)
        self.synapse = synapse
        # Only now is Synapse's port known; the bridge reads the address from its config.
        self.config["homeserver.address"] = synapse.url
        self.config.save(str(self.config_path))

    async def _create_user(self) -> None:
        assert self.synapse is not None
        self.password = self._demo_password()
        try:
            self.user_id, _ = await self.synapse.register_user(DEMO_USER, self.password)
        except SynapseError as err:
            # A kept data dir (--data) already has the user, with the same saved password.
            if err.errcode != "M_USER_IN_USE":
                raise
            self.user_id = f"@{DEMO_USER}:{SERVER_NAME}"

    def _demo_password(self) -> str:
        # Saved so that a kept data dir logs in with the same password next time.
        path = self.data_dir / "demo-password.txt"
        if path.exists():
            return path.read_text(encoding="utf-8").strip()
        password = secrets.token_urlsafe(6)
        write_private(path, password + "\n")
        return password

    async def _start_bridge(self) -> None:
        app: Any = None
        try:
            from bridge.app import BridgeApp

            app = BridgeApp(self.config)
            await app.start()
            assert app.bridge is not None
            self.login_resumes = any(u.has_credentials for u in app.bridge.loaded_users())
        except Exception as err:
            if app is not None:
                with contextlib.suppress(Exception):
                    await app.stop()
            # The traceback goes to the bridge's log: the terminal gets a short message.
            with self.log_path.open("a", encoding="utf-8") as log:
                traceback.print_exception(err, file=log)
            if self.keep or self._given_dir is not None:
                where = f"See {self.log_path}, {self.config_path} and {self.data_dir / 'synapse'}."
            else:
                where = "Run again with --keep to keep the config, the logs and the traceback."
            raise DemoError(
                f"The bridge did not start: {type(err).__name__}: {err}\n"
                f"(Synapse and the QQ simulator were up.) {where}"
            ) from err
        self._exits.push_async_callback(app.stop)
        self.bridge = app

    @contextlib.contextmanager
    def _step(self, what: str) -> Iterator[None]:
        began = time.monotonic()
        self._progress(what, None)
        yield
        self._progress(what, time.monotonic() - began)


def _file_logging(path: Path) -> dict[str, Any]:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"normal": {"format": "%(asctime)s [%(levelname)s] %(name)s: %(message)s"}},
        "handlers": {
            "file": {
                "class": "logging.FileHandler",
                "formatter": "normal",
                "filename": str(path),
                "encoding": "utf-8",
            }
        },
        "root": {"level": "INFO", "handlers": ["file"]},
    }


def _port_taken(what: str, port: int, error: OSError) -> str:
    return (
        f"The {what} cannot listen on 127.0.0.1:{port} ({error.strerror}), the port this data "
        f"dir keeps in {FILE_NAME}. Stop what uses it, or delete {FILE_NAME} for new ports."
    )
