"""Tables every service carries: outbox, inbox, idempotency keys and the hash-chained audit log."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from shared.db import NAMING_CONVENTION, AwareDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


@dataclass(frozen=True)
class InfraTables:
    outbox: Table
    inbox: Table
    idempotency: Table
    audit_log: Table


def infra_tables(metadata: MetaData) -> InfraTables:
    """Add the shared infrastructure tables to one service's metadata."""
    outbox = Table(
        "outbox",
        metadata,
        Column("seq", BigId, primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("event_type", String(80), nullable=False),
        Column("aggregate_id", String(64), nullable=False),
        Column("payload", Text, nullable=False),
        Column("created_at", AwareDateTime(), nullable=False),
        Column("sent_at", AwareDateTime(), nullable=True),
    )
    # A partial index: the relay reads unsent rows in seq order without walking the sent ones kept for replay.
    unsent = outbox.c.sent_at.is_(None)
    Index("ix_outbox_unsent", outbox.c.seq, postgresql_where=unsent, sqlite_where=unsent)
    inbox = Table(
        "inbox",
        metadata,
        Column("consumer", String(80), nullable=False),
        Column("event_id", String(36), nullable=False),
        Column("event_type", String(80), nullable=False),
        Column("processed_at", AwareDateTime(), nullable=False),
        PrimaryKeyConstraint("consumer", "event_id"),
    )
    idempotency = Table(
        "idempotency_key",
        metadata,
        Column("principal", String(120), nullable=False),
        Column("key", String(200), nullable=False),
        Column("route", String(200), nullable=False),
        Column("request_hash", String(64), nullable=False),
        Column("status_code", Integer, nullable=False),
        Column("response_body", Text, nullable=False),
        Column("created_at", AwareDateTime(), nullable=False),
        PrimaryKeyConstraint("principal", "key"),
    )
    audit_log = Table(
        "audit_log",
        metadata,
        Column("seq", BigId, primary_key=True, autoincrement=True),
        Column("at", AwareDateTime(), nullable=False),
        Column("actor", String(120), nullable=False),
        Column("action", String(80), nullable=False),
        Column("resource", String(200), nullable=False),
        Column("detail", Text, nullable=False),
        Column("prev_hash", String(64), nullable=False),
        Column("hash", String(64), nullable=False, unique=True),
    )
    return InfraTables(outbox=outbox, inbox=inbox, idempotency=idempotency, audit_log=audit_log)


def create_infra_tables(bind) -> None:  # type: ignore[no-untyped-def]
    """For a service's first migration: the infrastructure tables as of their first version."""
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    infra_tables(metadata)
    metadata.create_all(bind)


def drop_infra_tables(bind) -> None:  # type: ignore[no-untyped-def]
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    infra_tables(metadata)
    metadata.drop_all(bind)
