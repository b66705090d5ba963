"""The ledger's tables as SQLModel models; migrations/ creates them, `LedgerBase.metadata` checks them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Column, Integer, MetaData, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from adapters.ledger.coltypes import UtcDateTime
from adapters.ledger.values import COMMAND_STATUSES

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT on PostgreSQL; plain INTEGER on SQLite, where only "INTEGER PRIMARY KEY" is the autoincrementing rowid.
SEQ = BigInteger().with_variant(Integer(), "sqlite")


class LedgerBase(SQLModel, registry=registry(metadata=MetaData(naming_convention=NAMING))):
    """Base of the ledger tables: their own metadata, so alembic sees only the ledger."""


class Event(LedgerBase, table=True):
    """Append-only: one row per observed or decided fact; `seq` is the global order."""

    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("stream", "source_key"),)

    seq: int | None = Field(default=None, sa_column=Column(SEQ, primary_key=True, autoincrement=True))
    stream: str = Field(sa_column=Column(String(64), nullable=False))
    source_key: str = Field(sa_column=Column(String(255), nullable=False))
    type: str = Field(sa_column=Column(String(128), nullable=False))
    version: int = Field(sa_column=Column(Integer, nullable=False))
    entity: str = Field(sa_column=Column(String(255), nullable=False, index=True))
    payload: str = Field(sa_column=Column(Text, nullable=False))
    occurred_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))
    recorded_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))


class Cursor(LedgerBase, table=True):
    """Where each journal was read up to; written in the same transaction as that batch's events."""

    __tablename__ = "cursors"

    name: str = Field(sa_column=Column(String(128), primary_key=True))
    position: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    updated_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))


class Command(LedgerBase, table=True):
    """The outbox: a command is recorded before it is sent, and its id (uuid5) makes recording idempotent."""

    __tablename__ = "commands"
    __table_args__ = (CheckConstraint(f"status IN {COMMAND_STATUSES!r}", name="status"),)

    id: str = Field(sa_column=Column(String(36), primary_key=True))
    kind: str = Field(sa_column=Column(String(64), nullable=False))
    target: str = Field(sa_column=Column(String(255), nullable=False, index=True))
    payload: str = Field(sa_column=Column(Text, nullable=False))
    reason: str = Field(sa_column=Column(Text, nullable=False))
    caused_by: int = Field(sa_column=Column(BigInteger, nullable=False))
    status: str = Field(sa_column=Column(String(16), nullable=False, index=True))
    attempts: int = Field(sa_column=Column(Integer, nullable=False))
    next_attempt_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime, nullable=True))
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    batch: str | None = Field(default=None, sa_column=Column(String(64), nullable=True, index=True))
    created_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))
    updated_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))


class ProjectionRow(LedgerBase, table=True):
    """Derived state (products, offers, order lines) as JSON, keyed by (kind, key); rebuilt from events."""

    __tablename__ = "projection"

    kind: str = Field(sa_column=Column(String(64), primary_key=True))
    key: str = Field(sa_column=Column(String(255), primary_key=True))
    data: str = Field(sa_column=Column(Text, nullable=False))


class ProjectionMeta(LedgerBase, table=True):
    """One row (id 1): the seq the projection is folded up to."""

    __tablename__ = "projection_meta"

    id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    folded_seq: int = Field(sa_column=Column(BigInteger, nullable=False))


class SnapshotRow(LedgerBase, table=True):
    """The projection as it was at the compaction cut (`snapshot_meta.seq`): where a replay starts from once
    the events up to the cut have been archived and deleted (`allegro-sync db compact`)."""

    __tablename__ = "snapshot"

    kind: str = Field(sa_column=Column(String(64), primary_key=True))
    key: str = Field(sa_column=Column(String(255), primary_key=True))
    data: str = Field(sa_column=Column(Text, nullable=False))


class SnapshotMeta(LedgerBase, table=True):
    """One row (id 1) once the ledger was compacted: the last archived seq and when the cut was made."""

    __tablename__ = "snapshot_meta"

    id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    taken_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))


class Lock(LedgerBase, table=True):
    """The process lock that keeps two cycles from overlapping (logic lives with the lock's owner)."""

    __tablename__ = "locks"

    name: str = Field(sa_column=Column(String(128), primary_key=True))
    owner: str = Field(sa_column=Column(String(255), nullable=False))
    pid: int = Field(sa_column=Column(Integer, nullable=False))
    host: str = Field(sa_column=Column(String(255), nullable=False))
    acquired_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))
    heartbeat_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))


metadata = LedgerBase.metadata
events: Table = metadata.tables["events"]
cursors: Table = metadata.tables["cursors"]
commands: Table = metadata.tables["commands"]
projection: Table = metadata.tables["projection"]
projection_meta: Table = metadata.tables["projection_meta"]
locks: Table = metadata.tables["locks"]
snapshot: Table = metadata.tables["snapshot"]
snapshot_meta: Table = metadata.tables["snapshot_meta"]
