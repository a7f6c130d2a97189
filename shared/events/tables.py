"""Tables every service carries: outbox, inbox, idempotency keys, the hash-chained audit log, periodic job runs.

``infra_tables`` is their shape today (the runtime's handles, and what the models-match-migrations test compares
with). Migrations never build from it: each version of the shared DDL is frozen in ``infra_v1``, ``infra_v2`` …,
and every service's migration chain calls them in order, so a database made at any revision reaches today's
shape by upgrading. A change to these tables is a new ``infra_vN`` plus one migration per service calling it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Date,
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
    job_run: Table


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
    job_run = _job_run(metadata)
    return InfraTables(outbox=outbox, inbox=inbox, idempotency=idempotency, audit_log=audit_log, job_run=job_run)


def _job_run(metadata: MetaData) -> Table:
    return Table(
        "job_run",
        metadata,
        Column("job", String(120), nullable=False),
        Column("period", String(80), nullable=False),
        Column("period_kind", String(20), nullable=False),
        Column("day", Date, nullable=False),
        Column("status", String(20), nullable=False),
        Column("started_at", AwareDateTime(), nullable=False),
        Column("finished_at", AwareDateTime(), nullable=True),
        Column("detail", Text, nullable=True),
        PrimaryKeyConstraint("job", "period"),
    )


def _v1_tables(metadata: MetaData) -> None:
    """The infrastructure tables as the first migration of every service made them (frozen: never edit)."""
    Table(
        "outbox",
        metadata,
        Column("seq", BigId, primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("event_type", String(80), nullable=False),
        Column("aggregate_id", String(64), nullable=False),
        Column("payload", Text, nullable=False),
        Column("created_at", AwareDateTime(), nullable=False),
        Column("sent_at", AwareDateTime(), nullable=True),
        Index("ix_outbox_unsent", "sent_at", "seq"),
    )
    Table(
        "inbox",
        metadata,
        Column("consumer", String(80), nullable=False),
        Column("event_id", String(36), nullable=False),
        Column("event_type", String(80), nullable=False),
        Column("processed_at", AwareDateTime(), nullable=False),
        PrimaryKeyConstraint("consumer", "event_id"),
    )
    Table(
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
    Table(
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


def infra_v1_upgrade(bind: Connection) -> None:
    """v1: outbox (index on sent_at, seq), inbox, idempotency keys, audit log."""
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    _v1_tables(metadata)
    metadata.create_all(bind)


def infra_v1_downgrade(bind: Connection) -> None:
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    _v1_tables(metadata)
    metadata.drop_all(bind)


def infra_v2_upgrade(bind: Connection) -> None:
    """v2: the relay's index covers unsent rows only (partial, in seq order); periodic job runs."""
    outbox = Table("outbox", MetaData(), autoload_with=bind)
    for index in list(outbox.indexes):
        if index.name == "ix_outbox_unsent":
            index.drop(bind)
    unsent = outbox.c.sent_at.is_(None)
    Index("ix_outbox_unsent", outbox.c.seq, postgresql_where=unsent, sqlite_where=unsent).create(bind)
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    _job_run(metadata).create(bind)


def infra_v2_downgrade(bind: Connection) -> None:
    Table("job_run", MetaData(), autoload_with=bind).drop(bind)
    outbox = Table("outbox", MetaData(), autoload_with=bind)
    for index in list(outbox.indexes):
        if index.name == "ix_outbox_unsent":
            index.drop(bind)
    Index("ix_outbox_unsent", outbox.c.sent_at, outbox.c.seq).create(bind)
