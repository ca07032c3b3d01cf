"""The running bridge: config, store, appservice and QQ transport wired together.

Start-up order matters for "nothing lost": the store opens (and migrates) first, then the
appservice starts taking transactions, then every user's journal is replayed and their QQ login
resumed.
"""

from __future__ import annotations

import asyncio
import logging

from mautrix.types import UserID

from .appservice import BridgeAppService
from .commands import Commands
from .config import Config
from .core import Bridge
from .db import Database
from .e2ee import PICKLE_KEY_PURPOSE, Encryption
from .matrix import MatrixHandler
from .metrics import MetricsServer
from .qq.client import QQTransport
from .qq.clock import Clock
from .security import CredentialVault
from .web import WebRoutes, add_web

log = logging.getLogger("bridge.app")

# Finished journal rows are kept this long for inspection, then deleted at start-up.
JOURNAL_RETENTION = 30 * 86400.0
PRUNE_INTERVAL = 86400.0


class BridgeApp:
    """``app = BridgeApp(config); await app.start(); ...; await app.stop()``."""

    def __init__(self, config: Config, clock: Clock | None = None) -> None:
        self.config = config
        self.clock = clock
        self.bridge: Bridge | None = None
        self._az: BridgeAppService | None = None
        self._db: Database | None = None
        self._transport: QQTransport | None = None
        self._encryption: Encryption | None = None
        self.matrix: MatrixHandler | None = None
        self._housekeeping: asyncio.Task[None] | None = None
        self.web: WebRoutes | None = None
        self.metrics: MetricsServer | None = None

    async def start(self) -> None:
        config = self.config
        vault = CredentialVault.from_file(config.secret_key_path)
        self._db = db = await Database.open(config.database_url, vault=vault)
        if sealed := await db.seal_stored_logins():
            log.info("Encrypted %d QQ logins stored before encryption", sealed)
        await self._prune(db)
        self._az = az = BridgeAppService(
            server=config.homeserver_address,
            domain=config.homeserver_domain,
            as_token=config.as_token,
            hs_token=config.hs_token,
            bot_localpart=config.bot_username,
            id=config.appservice_id,
            state_store=db.state_store,
            bridge_name="qq",
            # mautrix sleeps 4 s before its one retry of a request the homeserver did not
            # answer. More would hold a queue in mautrix's sleep for up to a minute after the
            # homeserver is back; the queues retry by themselves (worker.py, homeserver.py).
            default_http_retry_count=1,
        )
        qq = config.qq_settings
        self._transport = QQTransport(
            config.qq_server,
            timeout=float(qq["request_timeout"]),
            connect_timeout=float(qq["connect_timeout"]),
            read_timeout=float(qq["read_timeout"]),
            max_reply_bytes=int(qq["max_reply_bytes"]),
            clock=self.clock,  # the shared probe waits on the clients' clock
        )
        self.bridge = bridge = Bridge(config, db, az, self._transport, self.clock)
        self.matrix = handler = MatrixHandler(bridge, Commands())
        az.matrix_event_handler(handler.handle_event)
        az.on_event_failure = handler.event_failed
        az.on_unreadable_event = handler.event_unreadable
        az.on_homeserver_seen = bridge.homeserver.seen
        az.is_ours = bridge.is_bridge_ghost  # MatrixHandler ignores their events too
        if config.encryption_allowed:
            # Hooked before the appservice listens, so that no key in a transaction is missed.
            self._encryption = bridge.encryption = Encryption(
                db,
                config.homeserver_address,
                config.bot_mxid,
                config.as_token,
                vault.derive_key(PICKLE_KEY_PURPOSE),
                bridge.is_bridge_ghost,
            )
            az.to_device_handler = self._encryption.to_device
            az.device_list_handler = self._encryption.device_lists
            az.otk_handler = self._encryption.otk_counts
        self.web = add_web(az.app, bridge)
        if config.metrics_enabled:
            host, port = config.metrics_listen
            self.metrics = MetricsServer(bridge, host, port)
            await self.metrics.start()
        await az.start(host=config.appservice_hostname, port=config.appservice_port)
        await self._prepare_bot()
        if self._encryption is not None and (resumed := await handler.pending.resume()):
            log.info("Waiting again for the keys of %d encrypted events", resumed)
        bridge.presence.start()
        depths = await db.queue_depths()
        users = await bridge.all_users()
        resuming = 0
        for user in users:
            pending = user.mxid in depths.inbound or user.mxid in depths.outbound
            resuming += await user.resume(pending=pending)
        if resuming and (rate := bridge.login_pacer.rate):
            # The turns are taken as the tasks run: about resuming / rate seconds from now.
            log.info(
                "Resuming %d QQ logins, about %.0f a second: the last in about %.0f s",
                resuming,
                rate,
                resuming / rate,
            )
        az.ready = True
        self._housekeeping = asyncio.create_task(self._prune_daily(db), name="prune")
        log.info("Bridge started as %s", config.bot_mxid)

    async def _prune(self, db: Database) -> None:
        """Old finished journal rows and event records go, so neither table grows for ever."""
        if pruned := await db.prune_finished(older_than=JOURNAL_RETENTION):
            log.info("Deleted %d finished journal rows older than 30 days", pruned)
        if pruned := await db.prune_matrix_events(older_than=JOURNAL_RETENTION):
            log.info("Forgot %d handled Matrix events older than 30 days", pruned)

    async def _prune_daily(self, db: Database) -> None:
        while True:
            await asyncio.sleep(PRUNE_INTERVAL)
            try:
                await self._prune(db)
            except Exception:  # the next day may do better; the bridge goes on meanwhile
                log.exception("Pruning old rows failed")

    async def _prepare_bot(self) -> None:
        assert self._az is not None
        bot = self._az.intent
        await bot.ensure_registered()
        if self._encryption is not None:
            await self._encryption.start()
        try:
            await bot.set_displayname(self.config.bot_displayname)
        except Exception:  # cosmetic; Synapse may rate-limit profile changes
            log.warning("Could not set the bot's display name", exc_info=True)
        try:
            # Synapse backs off from an appservice that was down; a ping makes it retry the
            # transactions it holds for us at once.
            await self._az.ping_self()
        except Exception:
            log.warning("The homeserver did not answer the appservice ping", exc_info=True)
        log.debug("Bot %s ready", UserID(self.config.bot_mxid))

    async def stop(self) -> None:
        """Outside in: no new transactions, then no background work, then the users (their
        clients and queues), and only then what they use (the probes, the transport)."""
        if self._housekeeping:
            self._housekeeping.cancel()
            await asyncio.gather(self._housekeeping, return_exceptions=True)
        if self._az:
            await self._az.stop()
        if self.matrix:
            await self.matrix.stop()
        if self.bridge:
            await self.bridge.presence.stop()
            for user in self.bridge.loaded_users():
                await user.stop()
            await self.bridge.homeserver.stop()
        if self._encryption:
            await self._encryption.stop()
        if self.metrics:
            await self.metrics.stop()
        if self._transport:
            await self._transport.close()
        if self._db:
            await self._db.close()
        log.info("Bridge stopped")
