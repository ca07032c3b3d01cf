"""ORM tables. The schema itself is created by the alembic migrations, which must match this."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from .rows import (
    InboundRow,
    LoginState,
    OutboundRow,
    OutboundState,
    PortalKind,
    PortalRow,
    PuppetRow,
    UserRow,
)

# Fixed constraint names, so that later migrations can refer to them on both databases.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite auto-increments only a column declared exactly INTEGER PRIMARY KEY;
# PostgreSQL gets 64 bits.
JOURNAL_ID = BigInteger().with_variant(Integer(), "sqlite")

# QQ numbers go past 2**31.
UIN = BigInteger


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UserModel(Base):
    __tablename__ = "users"

    mxid: Mapped[str] = mapped_column(String, primary_key=True)
    # NULLs never collide in a unique index, on SQLite and PostgreSQL alike.
    uin: Mapped[int | None] = mapped_column(UIN, unique=True)
    password_md5: Mapped[str | None] = mapped_column(String)
    management_room: Mapped[str | None] = mapped_column(String)
    login_state: Mapped[str] = mapped_column(String)
    status: Mapped[int] = mapped_column(Integer)

    def to_row(self) -> UserRow:
        return UserRow(
            mxid=self.mxid,
            uin=self.uin,
            password_md5=self.password_md5,
            management_room=self.management_room,
            login_state=LoginState(self.login_state),
            status=self.status,
        )


class PuppetModel(Base):
    __tablename__ = "puppets"

    uin: Mapped[int] = mapped_column(UIN, primary_key=True, autoincrement=False)
    nick: Mapped[str] = mapped_column(String)
    face: Mapped[int | None] = mapped_column(Integer)
    name_set: Mapped[bool] = mapped_column()
    avatar_set: Mapped[bool] = mapped_column()
    avatar_mxc: Mapped[str | None] = mapped_column(String)

    def to_row(self) -> PuppetRow:
        return PuppetRow(
            uin=self.uin,
            nick=self.nick,
            face=self.face,
            name_set=self.name_set,
            avatar_set=self.avatar_set,
            avatar_mxc=self.avatar_mxc,
        )


class PortalModel(Base):
    __tablename__ = "portals"
    __table_args__ = (CheckConstraint("kind IN ('dm', 'request')", name="kind"),)

    owner: Mapped[str] = mapped_column(
        ForeignKey("users.mxid", ondelete="CASCADE"), primary_key=True
    )
    uin: Mapped[int] = mapped_column(UIN, primary_key=True, autoincrement=False)
    room_id: Mapped[str | None] = mapped_column(String, unique=True)
    kind: Mapped[str] = mapped_column(String)

    def to_row(self) -> PortalRow:
        return PortalRow(
            owner=self.owner, uin=self.uin, room_id=self.room_id, kind=PortalKind(self.kind)
        )


class FaceAvatarModel(Base):
    """The avatar image generated for one QQ face id, uploaded to Matrix once."""

    __tablename__ = "face_avatars"

    face: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    mxc: Mapped[str] = mapped_column(String)


class InboundModel(Base):
    __tablename__ = "inbound"
    # Leading with `done` lets both pending queries (all owners, one owner) use the index.
    __table_args__ = (
        Index("ix_inbound_pending", "done", "owner", "id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(JOURNAL_ID, primary_key=True)
    owner: Mapped[str] = mapped_column(ForeignKey("users.mxid", ondelete="CASCADE"))
    # The event's dataclass name and its fields as JSON text (bridge/db/events.py).
    type: Mapped[str] = mapped_column(String)
    payload: Mapped[str] = mapped_column(Text)
    received_at: Mapped[float] = mapped_column(Double)
    done: Mapped[bool] = mapped_column()
    event_id: Mapped[str | None] = mapped_column(String)

    def to_row(self) -> InboundRow:
        return InboundRow(
            id=self.id,
            owner=self.owner,
            type=self.type,
            payload=self.payload,
            received_at=self.received_at,
            done=self.done,
            event_id=self.event_id,
        )


class OutboundModel(Base):
    __tablename__ = "outbound"
    __table_args__ = (
        CheckConstraint("state IN ('pending', 'sent', 'failed')", name="state"),
        Index("ix_outbound_pending", "state", "owner", "id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(JOURNAL_ID, primary_key=True)
    owner: Mapped[str] = mapped_column(ForeignKey("users.mxid", ondelete="CASCADE"))
    uin: Mapped[int] = mapped_column(UIN)
    room_id: Mapped[str] = mapped_column(String)
    # Synapse retries appservice transactions; the event id is what makes a retry harmless.
    event_id: Mapped[str] = mapped_column(String, unique=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[float] = mapped_column(Double)
    state: Mapped[str] = mapped_column(String)
    error: Mapped[str | None] = mapped_column(Text)

    def to_row(self) -> OutboundRow:
        return OutboundRow(
            id=self.id,
            owner=self.owner,
            uin=self.uin,
            room_id=self.room_id,
            event_id=self.event_id,
            text=self.text,
            created_at=self.created_at,
            state=OutboundState(self.state),
            error=self.error,
        )


class MatrixEventModel(Base):
    """A Matrix event the bridge has acted on: what makes a replayed event harmless.

    Synapse may send an event again (a transaction retried, or a transaction id reused after
    a restart), so the event id, never the transaction id, decides whether to act.
    """

    __tablename__ = "matrix_events"
    __table_args__ = (
        CheckConstraint("outcome IN ('handled', 'failed')", name="outcome"),
        Index("ix_matrix_events_received_at", "received_at"),
    )

    event_id: Mapped[str] = mapped_column(String, primary_key=True)
    room_id: Mapped[str] = mapped_column(String)
    received_at: Mapped[float] = mapped_column(Double)
    outcome: Mapped[str] = mapped_column(String)
    error: Mapped[str | None] = mapped_column(Text)


class MxRegistrationModel(Base):
    """A Matrix user the appservice has registered on the homeserver."""

    __tablename__ = "mx_registrations"

    user_id: Mapped[str] = mapped_column(String, primary_key=True)


class MxRoomStateModel(Base):
    """Room-wide Matrix state; a NULL column means "not cached"."""

    __tablename__ = "mx_room_state"

    room_id: Mapped[str] = mapped_column(String, primary_key=True)
    power_levels: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    create_event: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    # NULL: unknown; false: known unencrypted; true: `encryption` holds the event content.
    is_encrypted: Mapped[bool | None] = mapped_column()
    encryption: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    has_full_member_list: Mapped[bool] = mapped_column()


class MxMemberModel(Base):
    """One user's membership and profile in one Matrix room."""

    __tablename__ = "mx_members"

    room_id: Mapped[str] = mapped_column(String, primary_key=True)
    user_id: Mapped[str] = mapped_column(String, primary_key=True)
    membership: Mapped[str] = mapped_column(String)
    displayname: Mapped[str | None] = mapped_column(String)
    avatar_url: Mapped[str | None] = mapped_column(String)
