"""mautrix.crypto's CryptoStore on the bridge database (tables of migration 0003).

Written after the shape of mautrix's asyncpg store (mautrix/crypto/store/asyncpg/store.py),
on SQLAlchemy so that it runs on both SQLite and PostgreSQL through the bridge's one engine and
is migrated by alembic with everything else. Every write is committed before the method
returns (database first); the only memory is a cache of Olm session objects, which libolm
mutates in place and mautrix saves back with ``update_session``.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any, cast

from mautrix.crypto import InboundGroupSession, OlmAccount, OutboundGroupSession, Session
from mautrix.crypto.sessions import RatchetSafety
from mautrix.crypto.store import CryptoStore
from mautrix.errors import GroupSessionWithheldError
from mautrix.types import (
    JSON,
    CrossSigner,
    CrossSigningUsage,
    DeviceID,
    DeviceIdentity,
    EventID,
    IdentityKey,
    RoomID,
    RoomKeyWithheldCode,
    SessionID,
    SigningKey,
    TOFUSigningKey,
    TrustState,
    UserID,
)
from sqlalchemy import ColumnElement, CursorResult, delete, exists, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .crypto_models import (
    CryptoAccountModel,
    CryptoCrossSigningKeyModel,
    CryptoDeviceModel,
    CryptoInboundGroupSessionModel,
    CryptoMessageIndexModel,
    CryptoOlmSessionModel,
    CryptoOutboundGroupSessionModel,
    CryptoSignatureModel,
    CryptoTrackedUserModel,
)
from .store_base import StoreBase

log = logging.getLogger("bridge.db.crypto")

Inbound = CryptoInboundGroupSessionModel
Outbound = CryptoOutboundGroupSessionModel


def _ms(age: timedelta | None) -> int | None:
    return int(age.total_seconds() * 1000) if age else None


class SQLCryptoStore(StoreBase, CryptoStore):
    """``SQLCryptoStore(sessions, dialect, account_id=bot_mxid, pickle_key=secret)``."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        dialect: str,
        *,
        account_id: str,
        pickle_key: str,
    ) -> None:
        super().__init__(sessions, dialect)
        self.account_id = account_id
        self.pickle_key = pickle_key
        self._device_id: DeviceID | None = None
        self._account: OlmAccount | None = None
        self._olm_cache: defaultdict[IdentityKey, dict[SessionID, Session]] = defaultdict(dict)

    # --- lifecycle: the database belongs to `Database` ------------------------------------

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def flush(self) -> None:
        return None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:  # type: ignore[override]
        # Each method commits on its own; mautrix uses this only to group writes it can redo.
        yield

    async def delete(self) -> None:
        """Forget the bot's device: a new login makes a new one."""
        async with self._sessions.begin() as session:
            for model in (CryptoAccountModel, CryptoOlmSessionModel, Outbound):
                await session.execute(delete(model))
        self._account, self._device_id = None, None
        self._olm_cache.clear()

    # --- account ------------------------------------------------------------------------

    async def get_device_id(self) -> DeviceID | None:
        query = select(CryptoAccountModel.device_id).where(
            CryptoAccountModel.account_id == self.account_id
        )
        async with self._sessions() as session:
            device_id = await session.scalar(query)
        self._device_id = DeviceID(device_id) if device_id else self._device_id
        return self._device_id

    async def put_device_id(self, device_id: DeviceID) -> None:
        statement = (
            update(CryptoAccountModel)
            .where(CryptoAccountModel.account_id == self.account_id)
            .values(device_id=device_id)
        )
        async with self._sessions.begin() as session:
            await session.execute(statement)
        self._device_id = device_id

    async def put_account(self, account: OlmAccount) -> None:
        values = {
            "account_id": self.account_id,
            "device_id": self._device_id or "",
            "shared": account.shared,
            "account": account.pickle(self.pickle_key),
        }
        statement = self._upsert(
            CryptoAccountModel, values, ["account_id"], update=["shared", "account"]
        )
        async with self._sessions.begin() as session:
            await session.execute(statement)
        self._account = account

    async def get_account(self) -> OlmAccount | None:
        if self._account is None:
            async with self._sessions() as session:
                row = await session.get(CryptoAccountModel, self.account_id)
            if row is not None:
                self._account = OlmAccount.from_pickle(
                    row.account, passphrase=self.pickle_key, shared=row.shared
                )
        return self._account

    # --- Olm sessions -------------------------------------------------------------------

    async def has_session(self, key: IdentityKey) -> bool:
        if self._olm_cache[key]:
            return True
        query = select(exists().where(CryptoOlmSessionModel.sender_key == key))
        async with self._sessions() as session:
            return bool(await session.scalar(query))

    async def get_sessions(self, key: IdentityKey) -> list[Session]:
        query = (
            select(CryptoOlmSessionModel)
            .where(CryptoOlmSessionModel.sender_key == key)
            .order_by(CryptoOlmSessionModel.last_decrypted.desc())
        )
        async with self._sessions() as session:
            rows = list(await session.scalars(query))
        return [self._olm_session(key, row) for row in rows]

    async def get_latest_session(self, key: IdentityKey) -> Session | None:
        sessions = await self.get_sessions(key)
        return sessions[0] if sessions else None

    def _olm_session(self, key: IdentityKey, row: CryptoOlmSessionModel) -> Session:
        cached = self._olm_cache[key].get(SessionID(row.session_id))
        if cached is not None:
            return cached
        olm_session = Session.from_pickle(
            row.session,
            passphrase=self.pickle_key,
            creation_time=row.created_at,
            last_encrypted=row.last_encrypted,
            last_decrypted=row.last_decrypted,
        )
        self._olm_cache[key][SessionID(olm_session.id)] = olm_session
        return olm_session

    async def add_session(self, key: IdentityKey, session: Session) -> None:
        values = {
            "session_id": session.id,
            "sender_key": key,
            "session": session.pickle(self.pickle_key),
            "created_at": session.creation_time,
            "last_encrypted": session.last_encrypted,
            "last_decrypted": session.last_decrypted,
        }
        async with self._sessions.begin() as db:
            await db.execute(self._upsert(CryptoOlmSessionModel, values, ["session_id"]))
        self._olm_cache[key][SessionID(session.id)] = session

    async def update_session(self, key: IdentityKey, session: Session) -> None:
        statement = (
            update(CryptoOlmSessionModel)
            .where(CryptoOlmSessionModel.session_id == session.id)
            .values(
                session=session.pickle(self.pickle_key),
                last_encrypted=session.last_encrypted,
                last_decrypted=session.last_decrypted,
            )
        )
        async with self._sessions.begin() as db:
            await db.execute(statement)

    # --- inbound Megolm sessions --------------------------------------------------------

    async def put_group_session(
        self,
        room_id: RoomID,
        sender_key: IdentityKey,
        session_id: SessionID,
        session: InboundGroupSession,
    ) -> None:
        values = {
            "session_id": session_id,
            "sender_key": sender_key,
            "signing_key": session.signing_key,
            "room_id": room_id,
            "session": session.pickle(self.pickle_key),
            "forwarding_chains": ",".join(session.forwarding_chain),
            "withheld_code": None,
            "withheld_reason": None,
            "ratchet_safety": session.ratchet_safety.serialize(),
            "received_at": session.received_at,
            "max_age_ms": _ms(session.max_age),
            "max_messages": session.max_messages,
            "is_scheduled": session.is_scheduled,
        }
        async with self._sessions.begin() as db:
            await db.execute(self._upsert(Inbound, values, ["session_id"]))

    async def get_group_session(
        self, room_id: RoomID, session_id: SessionID
    ) -> InboundGroupSession | None:
        async with self._sessions() as db:
            row = await db.get(Inbound, session_id)
        if row is None or row.room_id != room_id:
            return None
        if row.withheld_code is not None or row.session is None:
            raise GroupSessionWithheldError(session_id, row.withheld_code or "")
        chain = [IdentityKey(key) for key in (row.forwarding_chains or "").split(",") if key]
        return InboundGroupSession.from_pickle(
            row.session,
            passphrase=self.pickle_key,
            signing_key=SigningKey(row.signing_key or ""),
            sender_key=IdentityKey(row.sender_key),
            room_id=room_id,
            forwarding_chain=chain,
            ratchet_safety=RatchetSafety.deserialize(cast(JSON, row.ratchet_safety or {})),
            received_at=row.received_at,
            max_age=timedelta(milliseconds=row.max_age_ms) if row.max_age_ms else None,
            max_messages=row.max_messages,
            is_scheduled=row.is_scheduled,
        )

    async def has_group_session(self, room_id: RoomID, session_id: SessionID) -> bool:
        query = select(
            exists().where(
                Inbound.room_id == room_id,
                Inbound.session_id == session_id,
                Inbound.session.is_not(None),
            )
        )
        async with self._sessions() as db:
            return bool(await db.scalar(query))

    async def _redact(self, reason: str, *conditions: Any) -> list[SessionID]:
        statement = (
            update(Inbound)
            .where(Inbound.session.is_not(None), *conditions)
            .values(
                withheld_code=RoomKeyWithheldCode.BEEPER_REDACTED.value,
                withheld_reason=f"Session redacted: {reason}",
                session=None,
                forwarding_chains=None,
            )
            .returning(Inbound.session_id)
        )
        async with self._sessions.begin() as db:
            return [SessionID(session_id) for session_id in await db.scalars(statement)]

    async def redact_group_session(
        self, room_id: RoomID, session_id: SessionID, reason: str
    ) -> None:
        await self._redact(reason, Inbound.session_id == session_id)

    async def redact_group_sessions(
        self, room_id: RoomID | None, sender_key: IdentityKey | None, reason: str
    ) -> list[SessionID]:
        if not room_id and not sender_key:
            raise ValueError("Either room_id or sender_key must be provided")
        conditions: list[ColumnElement[bool]] = [
            Inbound.is_scheduled.is_(False),
            Inbound.received_at.is_not(None),
        ]
        if room_id:
            conditions.append(Inbound.room_id == room_id)
        if sender_key:
            conditions.append(Inbound.sender_key == sender_key)
        return await self._redact(reason, *conditions)

    async def redact_expired_group_sessions(self) -> list[SessionID]:
        # Not scheduled by the bridge (mautrix's bridges opt in to it); nothing expires here.
        return []

    async def redact_outdated_group_sessions(self) -> list[SessionID]:
        return await self._redact("outdated", Inbound.received_at.is_(None))

    async def validate_message_index(
        self,
        sender_key: IdentityKey,
        session_id: SessionID,
        event_id: EventID,
        index: int,
        timestamp: int,
    ) -> bool:
        """True the first time an index is seen, and for the same event again (a replay)."""
        values = {
            "sender_key": sender_key,
            "session_id": session_id,
            "index": index,
            "event_id": event_id,
            "timestamp": timestamp,
        }
        key = (sender_key, session_id, index)
        async with self._sessions.begin() as db:
            inserted = await db.scalar(
                self._insert(CryptoMessageIndexModel)
                .values(values)
                .on_conflict_do_nothing(index_elements=["sender_key", "session_id", "index"])
                .returning(CryptoMessageIndexModel.index)
            )
            if inserted is not None:  # the first time: one statement
                return True
            row = await db.get(CryptoMessageIndexModel, key)
        assert row is not None
        return row.event_id == event_id and row.timestamp == timestamp

    # --- outbound Megolm sessions -------------------------------------------------------

    async def add_outbound_group_session(self, session: OutboundGroupSession) -> None:
        values = {
            "room_id": session.room_id,
            "session_id": session.id,
            "session": session.pickle(self.pickle_key),
            "shared": session.shared,
            "max_messages": session.max_messages,
            "message_count": session.message_count,
            "max_age_ms": _ms(session.max_age) or 0,
            "created_at": session.creation_time,
            "last_used": session.use_time,
        }
        async with self._sessions.begin() as db:
            # A room's old session goes first: its id would otherwise block nothing, but its
            # room_id row is the one replaced.
            await db.execute(delete(Outbound).where(Outbound.room_id == session.room_id))
            await db.execute(insert(Outbound).values(values))

    async def update_outbound_group_session(self, session: OutboundGroupSession) -> None:
        statement = (
            update(Outbound)
            .where(Outbound.room_id == session.room_id, Outbound.session_id == session.id)
            .values(
                session=session.pickle(self.pickle_key),
                shared=session.shared,
                message_count=session.message_count,
                last_used=session.use_time,
            )
        )
        async with self._sessions.begin() as db:
            await db.execute(statement)

    async def get_outbound_group_session(self, room_id: RoomID) -> OutboundGroupSession | None:
        async with self._sessions() as db:
            row = await db.get(Outbound, room_id)
        if row is None:
            return None
        return OutboundGroupSession.from_pickle(
            row.session,
            passphrase=self.pickle_key,
            room_id=RoomID(row.room_id),
            shared=row.shared,
            max_messages=row.max_messages,
            message_count=row.message_count,
            max_age=timedelta(milliseconds=row.max_age_ms),
            use_time=row.last_used,
            creation_time=row.created_at,
        )

    async def remove_outbound_group_session(self, room_id: RoomID) -> None:
        await self.remove_outbound_group_sessions([room_id])

    async def remove_outbound_group_sessions(self, rooms: list[RoomID]) -> None:
        async with self._sessions.begin() as db:
            await db.execute(delete(Outbound).where(Outbound.room_id.in_(list(rooms))))

    # --- devices ------------------------------------------------------------------------

    async def get_devices(self, user_id: UserID) -> dict[DeviceID, DeviceIdentity] | None:
        async with self._sessions() as db:
            if await db.get(CryptoTrackedUserModel, user_id) is None:
                return None
            rows = await db.scalars(
                select(CryptoDeviceModel).where(CryptoDeviceModel.user_id == user_id)
            )
            return {DeviceID(row.device_id): _device(row) for row in rows}

    async def get_device(self, user_id: UserID, device_id: DeviceID) -> DeviceIdentity | None:
        async with self._sessions() as db:
            row = await db.get(CryptoDeviceModel, (user_id, device_id))
        return _device(row) if row else None

    async def find_device_by_key(
        self, user_id: UserID, identity_key: IdentityKey
    ) -> DeviceIdentity | None:
        query = select(CryptoDeviceModel).where(
            CryptoDeviceModel.user_id == user_id, CryptoDeviceModel.identity_key == identity_key
        )
        async with self._sessions() as db:
            row = await db.scalar(query)
        return _device(row) if row else None

    async def put_devices(self, user_id: UserID, devices: dict[DeviceID, DeviceIdentity]) -> None:
        rows = [
            {
                "user_id": user_id,
                "device_id": device_id,
                "identity_key": identity.identity_key,
                "signing_key": identity.signing_key,
                "trust": int(identity.trust.value),
                "deleted": identity.deleted,
                "name": identity.name or "",
            }
            for device_id, identity in devices.items()
        ]
        async with self._sessions.begin() as db:
            await db.execute(
                self._insert(CryptoTrackedUserModel)
                .values(user_id=user_id)
                .on_conflict_do_nothing(index_elements=["user_id"])
            )
            await db.execute(delete(CryptoDeviceModel).where(CryptoDeviceModel.user_id == user_id))
            if rows:
                await db.execute(insert(CryptoDeviceModel), rows)

    async def filter_tracked_users(self, users: list[UserID]) -> list[UserID]:
        query = select(CryptoTrackedUserModel.user_id).where(
            CryptoTrackedUserModel.user_id.in_(list(users))
        )
        async with self._sessions() as db:
            return [UserID(user_id) for user_id in await db.scalars(query)]

    # --- cross-signing ------------------------------------------------------------------

    async def put_cross_signing_key(
        self, user_id: UserID, usage: CrossSigningUsage, key: SigningKey
    ) -> None:
        values = {"user_id": user_id, "usage": usage.value, "key": key, "first_seen_key": key}
        statement = self._upsert(
            CryptoCrossSigningKeyModel, values, ["user_id", "usage"], update=["key"]
        )
        async with self._sessions.begin() as db:
            await db.execute(statement)

    async def get_cross_signing_keys(
        self, user_id: UserID
    ) -> dict[CrossSigningUsage, TOFUSigningKey]:
        query = select(CryptoCrossSigningKeyModel).where(
            CryptoCrossSigningKeyModel.user_id == user_id
        )
        async with self._sessions() as db:
            rows = list(await db.scalars(query))
        return {
            CrossSigningUsage(row.usage): TOFUSigningKey(
                key=SigningKey(row.key), first=SigningKey(row.first_seen_key)
            )
            for row in rows
        }

    async def put_signature(self, target: CrossSigner, signer: CrossSigner, signature: str) -> None:
        values = {
            "signed_user_id": target.user_id,
            "signed_key": target.key,
            "signer_user_id": signer.user_id,
            "signer_key": signer.key,
            "signature": signature,
        }
        key = ["signed_user_id", "signed_key", "signer_user_id", "signer_key"]
        async with self._sessions.begin() as db:
            await db.execute(self._upsert(CryptoSignatureModel, values, key))

    async def is_key_signed_by(self, target: CrossSigner, signer: CrossSigner) -> bool:
        query = select(
            exists().where(
                CryptoSignatureModel.signed_user_id == target.user_id,
                CryptoSignatureModel.signed_key == target.key,
                CryptoSignatureModel.signer_user_id == signer.user_id,
                CryptoSignatureModel.signer_key == signer.key,
            )
        )
        async with self._sessions() as db:
            return bool(await db.scalar(query))

    async def drop_signatures_by_key(self, signer: CrossSigner) -> int:
        statement = delete(CryptoSignatureModel).where(
            CryptoSignatureModel.signer_user_id == signer.user_id,
            CryptoSignatureModel.signer_key == signer.key,
        )
        async with self._sessions.begin() as db:
            result = await db.execute(statement)
        return int(cast(CursorResult[Any], result).rowcount)


def _device(row: CryptoDeviceModel) -> DeviceIdentity:
    return DeviceIdentity(
        user_id=UserID(row.user_id),
        device_id=DeviceID(row.device_id),
        identity_key=IdentityKey(row.identity_key),
        signing_key=SigningKey(row.signing_key),
        trust=TrustState(row.trust),
        deleted=row.deleted,
        name=row.name,
    )
