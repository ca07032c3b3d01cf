"""A throwaway Synapse on 127.0.0.1, for the end-to-end tests and the demo.

``async with SynapseServer(appservice_config_files=[reg]) as hs: ...`` writes a loopback-only
homeserver config into a data dir, starts Synapse in its own process group, waits until the
client API answers and, on exit, stops it and removes the data dir (unless ``keep``).

Start-up is kept short: the YAML and the signing key are written here rather than by Synapse's
``--generate-config``/``--generate-keys`` (each of those is another full Synapse import, ~2 s).
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import contextlib
import ctypes
import hashlib
import hmac
import io
import os
import secrets
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import aiohttp
from ruamel.yaml import YAML

from bridge.security.files import PRIVATE_DIR, make_private, write_private

__all__ = ["SynapseError", "SynapseServer", "free_port", "synapse_installed"]

_LOG_TAIL_LINES = 40
# Generous enough that nothing the bridge or a test does in a burst gets a 429.
_NO_LIMIT = {"per_second": 10_000, "burst_count": 100_000}


class SynapseError(RuntimeError):
    """Synapse could not be started, died, or refused an admin request."""

    def __init__(self, message: str, errcode: str | None = None) -> None:
        super().__init__(message)
        self.errcode = errcode  # the Matrix errcode of a refused request, e.g. M_USER_IN_USE


def synapse_installed() -> bool:
    """Whether ``import synapse`` would work in this interpreter (without importing it)."""
    import importlib.util

    return importlib.util.find_spec("synapse") is not None


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (for servers that can't report a port 0 bind)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _signing_key_line() -> str:
    # The format Synapse's key helpers write: "<algorithm> <version> <unpadded base64 seed>".
    # Any 32 random bytes are a valid ed25519 seed, so no crypto library is needed here.
    seed = base64.b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    return f"ed25519 a_{secrets.token_hex(2)} {seed}\n"


def _rate_limits() -> dict[str, Any]:
    single = [
        "rc_message",
        "rc_registration",
        "rc_registration_token_validity",
        "rc_joins_per_room",
        "rc_3pid_validation",
        "rc_third_party_invite",
        "rc_admin_redaction",
        "rc_room_creation",
        "rc_media_create",
        "rc_key_requests",
        "rc_delayed_event_mgmt",
        "rc_reports",
        "rc_user_directory",
        "rc_profile",
    ]
    nested = {
        "rc_login": ["address", "account", "failed_attempts"],
        "rc_joins": ["local", "remote"],
        "rc_invites": ["per_room", "per_user", "per_issuer"],
        "rc_presence": ["per_user"],
    }
    limits: dict[str, Any] = {key: dict(_NO_LIMIT) for key in single}
    for key, parts in nested.items():
        limits[key] = {part: dict(_NO_LIMIT) for part in parts}
    return limits


def homeserver_config(
    *,
    server_name: str,
    port: int,
    data_dir: Path,
    shared_secret: str,
    appservice_config_files: Sequence[Path],
) -> dict[str, Any]:
    """The homeserver.yaml contents for a private, loopback-only Synapse."""
    url = f"http://127.0.0.1:{port}/"
    config: dict[str, Any] = {
        "server_name": server_name,
        "public_baseurl": url,
        "pid_file": str(data_dir / "homeserver.pid"),
        "listeners": [
            {
                "port": port,
                "bind_addresses": ["127.0.0.1"],
                "type": "http",
                "tls": False,
                "x_forwarded": False,
                "resources": [{"names": ["client"], "compress": False}],
            }
        ],
        "database": {
            "name": "sqlite3",
            "args": {"database": str(data_dir / "homeserver.db")},
        },
        "log_config": str(data_dir / "log.config"),
        "media_store_path": str(data_dir / "media_store"),
        "signing_key_path": str(data_dir / "signing.key"),
        "registration_shared_secret": shared_secret,
        "macaroon_secret_key": secrets.token_hex(32),
        "form_secret": secrets.token_hex(32),
        "enable_registration": False,
        "report_stats": False,
        # The bridge mirrors QQ status as Matrix presence.
        "use_presence": True,
        # Minimum cost: these tests and demos never keep passwords worth protecting.
        "bcrypt_rounds": 4,
        # No federation at all: no key servers, no remote servers, nothing to warn about.
        "trusted_key_servers": [],
        "suppress_key_server_warning": True,
        "federation_domain_whitelist": [],
        "allow_public_rooms_over_federation": False,
        "url_preview_enabled": False,
        "enable_metrics": False,
        "app_service_config_files": [str(path) for path in appservice_config_files],
        # End-to-bridge encryption: to-device events (room keys) for the bridge bot's device,
        # its device list changes and one-time key counts, pushed in appservice transactions.
        "experimental_features": {
            "msc2409_to_device_messages_enabled": True,
            "msc3202_transaction_extensions": True,
        },
    }
    config.update(_rate_limits())
    return config


def log_config(log_file: Path, level: str = "WARNING") -> dict[str, Any]:
    """A logging dictConfig that writes Synapse's log to one file (nothing on the console)."""
    return {
        "version": 1,
        "formatters": {
            "precise": {
                "format": "%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - "
                "%(request)s - %(message)s"
            }
        },
        "handlers": {
            "file": {
                "class": "logging.FileHandler",
                "formatter": "precise",
                "filename": str(log_file),
                "encoding": "utf8",
            }
        },
        "root": {"level": level, "handlers": ["file"]},
        "disable_existing_loggers": False,
    }


def _write_yaml(path: Path, data: dict[str, Any]) -> None:
    """Written 0600: homeserver.yaml holds the registration and macaroon secrets."""
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    write_private(path, buffer.getvalue())


def _death_signal_setter() -> Callable[[], None] | None:
    """A preexec_fn that makes the kernel SIGTERM the child when we die (Linux), else None.

    If the test runner or the demo is SIGKILLed, atexit never runs; without this, Synapse would
    be orphaned, keeping its port and data dir. The C function is looked up here, in the parent,
    so that the forked child (of a possibly multi-threaded process) only makes one call.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()
    pr_set_pdeathsig = 1

    def set_death_signal() -> None:  # pragma: no cover - runs in the forked child
        prctl(pr_set_pdeathsig, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os.kill(os.getpid(), signal.SIGTERM)

    return set_death_signal


def _tail(path: Path, lines: int = _LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


class SynapseServer:
    """One private Synapse subprocess; see the module docstring.

    ``url`` is the client-API base URL (no trailing slash) and ``server_name`` the domain of its
    user IDs. ``register_user`` creates accounts through the shared-secret admin API, since
    open registration is off.
    """

    def __init__(
        self,
        *,
        server_name: str = "localhost",
        data_dir: Path | str | None = None,
        appservice_config_files: Sequence[Path | str] = (),
        keep: bool = False,
        port: int | None = None,
        start_timeout: float = 90.0,
        stop_timeout: float = 10.0,
        log_level: str = "WARNING",
        python: str = sys.executable,
        extra_config: Mapping[str, Any] | None = None,
    ) -> None:
        self.server_name = server_name
        # Top-level homeserver.yaml keys set over ours (the tests' short presence timers).
        self.extra_config = dict(extra_config or {})
        self.keep = keep
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.log_level = log_level
        self.appservice_config_files = [Path(path).resolve() for path in appservice_config_files]
        self._python = python
        self._given_dir = Path(data_dir).resolve() if data_dir is not None else None
        self._given_port = port
        self._data_dir: Path | None = None
        self._port: int | None = None
        self._proc: asyncio.subprocess.Process | None = None
        self._shared_secret = secrets.token_hex(32)
        self.startup_seconds: float | None = None

    # --- properties -------------------------------------------------------------------------

    @property
    def data_dir(self) -> Path:
        if self._data_dir is None:
            raise SynapseError("Synapse has not been started")
        return self._data_dir

    @property
    def port(self) -> int:
        if self._port is None:
            raise SynapseError("Synapse has not been started")
        return self._port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def config_path(self) -> Path:
        return self.data_dir / "homeserver.yaml"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "homeserver.log"

    @property
    def stderr_path(self) -> Path:
        # Errors raised before logging is configured (bad config, import errors) go here.
        return self.data_dir / "synapse.stderr"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    # --- lifecycle --------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        if self._proc is not None:
            raise SynapseError("Synapse is already running")
        began = time.monotonic()
        self._prepare_data_dir()
        try:
            # A port picked free can be taken before Synapse binds it: then try another.
            for attempt in range(3):
                self._port = self._given_port or free_port()
                self._write_config()
                await self._spawn()
                try:
                    await self._wait_until_ready()
                    break
                except _PortTaken:
                    await self._terminate()
                    if self._given_port is not None or attempt == 2:
                        raise SynapseError(
                            f"port {self._port} is already in use\n{self._log_tails()}"
                        ) from None
        except BaseException:
            await self.stop()
            raise
        self.startup_seconds = time.monotonic() - began

    async def stop(self) -> None:
        await self._terminate()
        if self._data_dir is not None and not self.keep and self._given_dir is None:
            shutil.rmtree(self._data_dir, ignore_errors=True)
            self._data_dir = None

    # --- admin API --------------------------------------------------------------------------

    async def register_user(
        self, localpart: str, password: str, admin: bool = False
    ) -> tuple[str, str]:
        """Create a user via ``/_synapse/admin/v1/register``; returns (user_id, access_token)."""
        endpoint = f"{self.url}/_synapse/admin/v1/register"
        async with aiohttp.ClientSession() as session:
            async with session.get(endpoint) as resp:
                nonce = (await _json_or_raise(resp, "get a registration nonce"))["nonce"]
            body = {
                "nonce": nonce,
                "username": localpart,
                "password": password,
                "admin": admin,
                "mac": registration_mac(self._shared_secret, nonce, localpart, password, admin),
            }
            async with session.post(endpoint, json=body) as resp:
                result = await _json_or_raise(resp, f"register {localpart!r}")
        return str(result["user_id"]), str(result["access_token"])

    # --- internals --------------------------------------------------------------------------

    def _prepare_data_dir(self) -> None:
        if self._given_dir is not None:
            self._given_dir.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
            make_private(self._given_dir, directory=True)
            self._data_dir = self._given_dir
        else:
            self._data_dir = Path(tempfile.mkdtemp(prefix="qq-bridge-synapse-"))  # 0700
        key_path = self._data_dir / "signing.key"
        if not key_path.exists():  # a kept data dir keeps its server identity
            key_path.write_text(_signing_key_line(), encoding="utf-8")
            key_path.chmod(0o600)

    def _write_config(self) -> None:
        data_dir = self.data_dir
        _write_yaml(data_dir / "log.config", log_config(self.log_path, self.log_level))
        _write_yaml(
            self.config_path,
            homeserver_config(
                server_name=self.server_name,
                port=self.port,
                data_dir=data_dir,
                shared_secret=self._shared_secret,
                appservice_config_files=self.appservice_config_files,
            )
            | self.extra_config,
        )

    async def _spawn(self) -> None:
        with self.stderr_path.open("ab") as stderr:
            self._proc = await asyncio.create_subprocess_exec(
                self._python,
                "-m",
                "synapse.app.homeserver",
                "-c",
                str(self.config_path),
                cwd=self.data_dir,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=stderr,
                stderr=stderr,
                # Its own process group, so that stopping it also stops anything it forks.
                start_new_session=True,
                preexec_fn=_death_signal_setter(),
            )
        _live_groups.add(self._proc.pid)

    async def _wait_until_ready(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self.start_timeout
        versions = f"{self.url}/_matrix/client/versions"
        timeout = aiohttp.ClientTimeout(total=2)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while True:
                if self._proc.returncode is not None:
                    tails = self._log_tails()
                    if "Address already in use" in tails:
                        raise _PortTaken
                    raise SynapseError(
                        f"Synapse exited with status {self._proc.returncode} while starting"
                        f" (data dir {self.data_dir})\n{tails}"
                    )
                if time.monotonic() > deadline:
                    raise SynapseError(
                        f"Synapse did not answer on {versions} within {self.start_timeout:.0f} s"
                        f" (data dir {self.data_dir})\n{self._log_tails()}"
                    )
                with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
                    async with session.get(versions) as resp:
                        if resp.status == 200:
                            return
                await asyncio.sleep(0.05)

    async def _terminate(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            if proc.returncode is None:
                _signal_group(proc.pid, signal.SIGTERM)
                try:
                    await asyncio.wait_for(proc.wait(), self.stop_timeout)
                except TimeoutError:
                    _signal_group(proc.pid, signal.SIGKILL)
                    await proc.wait()
        finally:
            # Even a cleanly exited leader may leave children behind in its group.
            _signal_group(proc.pid, signal.SIGKILL)
            _live_groups.discard(proc.pid)

    def _log_tails(self) -> str:
        parts = []
        for path in (self.stderr_path, self.log_path):
            tail = _tail(path)
            if tail:
                parts.append(f"--- last lines of {path} ---\n{tail}")
        return "\n".join(parts) or "(Synapse wrote no log)"


class _PortTaken(Exception):
    pass


def registration_mac(secret: str, nonce: str, user: str, password: str, admin: bool) -> str:
    """HMAC-SHA1 over the NUL-separated fields, as the shared-secret registration API expects."""
    message = "\x00".join([nonce, user, password, "admin" if admin else "notadmin"])
    return hmac.new(secret.encode(), message.encode(), hashlib.sha1).hexdigest()


async def _json_or_raise(resp: aiohttp.ClientResponse, doing: str) -> dict[str, Any]:
    try:
        data = await resp.json(content_type=None)
    except ValueError:
        data = None
    if resp.status != 200 or not isinstance(data, dict):
        text = data if data is not None else await resp.text()
        errcode = data.get("errcode") if isinstance(data, dict) else None
        raise SynapseError(f"could not {doing}: HTTP {resp.status}: {text}", errcode)
    return data


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


# Process groups still running, killed at interpreter exit (e.g. after Ctrl-C in pytest, when
# the event loop that would have awaited stop() is already gone).
_live_groups: set[int] = set()


@atexit.register
def _kill_leftovers() -> None:
    for pgid in list(_live_groups):
        _signal_group(pgid, signal.SIGKILL)
    _live_groups.clear()
