"""ORM tables of the bridge bot's end-to-end encryption state (mautrix.crypto's CryptoStore).

One bridge has one bot device, so unlike mautrix's own store no table carries an account id.
Pickles (the Olm account, Olm and Megolm sessions) are encrypted by libolm with the pickle key
from the config; they are secrets all the same and are never logged.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Double, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base


class CryptoAccountModel(Base):
    """The bot's Olm account and the device it was logged in as; one row."""

    __tablename__ = "crypto_account"

    account_id: Mapped[str] = mapped_column(String, primary_key=True)
    device_id: Mapped[str] = mapped_column(String)
    shared: Mapped[bool] = mapped_column()
    account: Mapped[bytes] = mapped_column(LargeBinary)


class CryptoOlmSessionModel(Base):
    """An Olm session with one device (its curve25519 ``sender_key``)."""

    __tablename__ = "crypto_olm_sessions"

    session_id: Mapped[str] = mapped_column(String, primary_key=True)
    sender_key: Mapped[str] = mapped_column(String, index=True)
    session: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_encrypted: Mapped[datetime] = mapped_column(DateTime)
    last_decrypted: Mapped[datetime] = mapped_column(DateTime)


class CryptoInboundGroupSessionModel(Base):
    """A Megolm session someone shared with the bot; ``session`` NULL once redacted/withheld."""

    __tablename__ = "crypto_megolm_inbound"

    session_id: Mapped[str] = mapped_column(String, primary_key=True)
    sender_key: Mapped[str] = mapped_column(String)
    signing_key: Mapped[str | None] = mapped_column(String)
    room_id: Mapped[str] = mapped_column(String)
    session: Mapped[bytes | None] = mapped_column(LargeBinary)
    forwarding_chains: Mapped[str | None] = mapped_column(Text)
    withheld_code: Mapped[str | None] = mapped_column(String)
    withheld_reason: Mapped[str | None] = mapped_column(Text)
    ratchet_safety: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    received_at: Mapped[datetime | None] = mapped_column(DateTime)
    max_age_ms: Mapped[int | None] = mapped_column(BigInteger)
    max_messages: Mapped[int | None] = mapped_column(Integer)
    is_scheduled: Mapped[bool] = mapped_column()


class CryptoOutboundGroupSessionModel(Base):
    """The Megolm session the bridge encrypts with in one room."""

    __tablename__ = "crypto_megolm_outbound"

    room_id: Mapped[str] = mapped_column(String, primary_key=True)
    session_id: Mapped[str] = mapped_column(String, unique=True)
    session: Mapped[bytes] = mapped_column(LargeBinary)
    shared: Mapped[bool] = mapped_column()
    max_messages: Mapped[int] = mapped_column(Integer)
    message_count: Mapped[int] = mapped_column(Integer)
    max_age_ms: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_used: Mapped[datetime] = mapped_column(DateTime)


class CryptoMessageIndexModel(Base):
    """Which event used each Megolm message index: a replayed index is refused."""

    __tablename__ = "crypto_message_index"

    sender_key: Mapped[str] = mapped_column(String, primary_key=True)
    session_id: Mapped[str] = mapped_column(String, primary_key=True)
    index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    event_id: Mapped[str] = mapped_column(String)
    timestamp: Mapped[int] = mapped_column(BigInteger)


class CryptoTrackedUserModel(Base):
    """A user whose device list the bot keeps (rows in crypto_devices)."""

    __tablename__ = "crypto_tracked_users"

    user_id: Mapped[str] = mapped_column(String, primary_key=True)


class CryptoDeviceModel(Base):
    __tablename__ = "crypto_devices"

    user_id: Mapped[str] = mapped_column(String, primary_key=True)
    device_id: Mapped[str] = mapped_column(String, primary_key=True)
    identity_key: Mapped[str] = mapped_column(String)
    signing_key: Mapped[str] = mapped_column(String)
    trust: Mapped[int] = mapped_column(Integer)
    deleted: Mapped[bool] = mapped_column()
    name: Mapped[str] = mapped_column(String)


class CryptoCrossSigningKeyModel(Base):
    __tablename__ = "crypto_cross_signing_keys"

    user_id: Mapped[str] = mapped_column(String, primary_key=True)
    usage: Mapped[str] = mapped_column(String, primary_key=True)
    key: Mapped[str] = mapped_column(String)
    first_seen_key: Mapped[str] = mapped_column(String)


class CryptoSignatureModel(Base):
    __tablename__ = "crypto_cross_signing_signatures"

    signed_user_id: Mapped[str] = mapped_column(String, primary_key=True)
    signed_key: Mapped[str] = mapped_column(String, primary_key=True)
    signer_user_id: Mapped[str] = mapped_column(String, primary_key=True)
    signer_key: Mapped[str] = mapped_column(String, primary_key=True)
    signature: Mapped[str] = mapped_column(String)


class CryptoWaitingEventModel(Base):
    """An encrypted event waiting for its key (bridge/e2ee/pending.py), kept across restarts.

    ``event`` is the event as the homeserver sent it: ciphertext, no secret.
    """

    __tablename__ = "crypto_waiting_events"

    event_id: Mapped[str] = mapped_column(String, primary_key=True)
    event: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[float] = mapped_column(Double)
    told: Mapped[bool] = mapped_column()
