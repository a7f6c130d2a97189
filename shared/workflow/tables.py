"""The engine's tables in a using service's metadata: template versions and the transitions of instances."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Column, Date, Index, Integer, MetaData, String, Table, Text, UniqueConstraint

from shared.db import AwareDateTime
from shared.events.tables import BigId


@dataclass(frozen=True)
class WorkflowTables:
    template: Table
    transition: Table


def workflow_tables(metadata: MetaData) -> WorkflowTables:
    """Add ``workflow_template`` and ``workflow_transition`` to one service's metadata."""
    template = Table(
        "workflow_template",
        metadata,
        Column("id", String(36), primary_key=True),
        Column("code", String(40), nullable=False),
        Column("jurisdiction", String(12), nullable=False),
        Column("version", Integer, nullable=False),
        Column("effective_from", Date, nullable=False),
        Column("label", String(200), nullable=False),
        Column("body", Text, nullable=False),
        Column("published_at", AwareDateTime(), nullable=False),
        Column("published_by", String(120), nullable=False),
        UniqueConstraint("code", "jurisdiction", "version"),
    )
    transition = Table(
        "workflow_transition",
        metadata,
        Column("seq", BigId, primary_key=True, autoincrement=True),
        Column("id", String(36), nullable=False, unique=True),
        Column("instance_id", String(36), nullable=False),
        Column("action", String(20), nullable=False),
        Column("step", String(40), nullable=False),
        Column("role", String(40), nullable=True),
        Column("actor", String(120), nullable=False),
        Column("at", AwareDateTime(), nullable=False),
        Column("evidence", Text, nullable=False),
        Column("comment", Text, nullable=True),
        Column("from_index", Integer, nullable=False),
        Column("to_index", Integer, nullable=False),
        Column("status_after", String(20), nullable=False),
    )
    Index("ix_workflow_transition_instance", transition.c.instance_id, transition.c.seq)
    return WorkflowTables(template=template, transition=transition)
