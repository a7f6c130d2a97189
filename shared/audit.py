"""The append-only, hash-chained audit log: decisions, money movements and reads of whole records."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, text
from sqlmodel import Session

from shared.clock import session_clock
from shared.events.outbox import INFRA

AUDIT = INFRA.audit_log
GENESIS = "0" * 64


def _digest(prev_hash: str, at: str, actor: str, action: str, resource: str, detail: str) -> str:
    material = json.dumps([prev_hash, at, actor, action, resource, detail], ensure_ascii=False)
    return hashlib.sha256(material.encode()).hexdigest()


def record(session: Session, *, actor: str, action: str, resource: str, detail: dict[str, Any] | None = None) -> str:
    """Append one entry linked to the previous one; returns its hash."""
    if session.get_bind().dialect.name == "postgresql":
        # One writer at a time, or two entries could both claim the same predecessor.
        session.execute(text("SELECT pg_advisory_xact_lock(7266)"))
    last = session.execute(select(AUDIT.c.hash).order_by(AUDIT.c.seq.desc()).limit(1)).scalar()
    prev = last or GENESIS
    at = session_clock(session).now()
    body = json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, default=str)
    digest = _digest(prev, at.isoformat(), actor, action, resource, body)
    session.execute(
        insert(AUDIT).values(
            at=at, actor=actor, action=action, resource=resource, detail=body, prev_hash=prev, hash=digest
        )
    )
    return digest


@dataclass(frozen=True)
class ChainCheck:
    entries: int
    valid: bool
    first_bad_seq: int | None = None


def verify(session: Session) -> ChainCheck:
    """Recompute every link; the first entry whose hash or predecessor does not match is reported."""
    prev = GENESIS
    count = 0
    for row in session.execute(select(AUDIT).order_by(AUDIT.c.seq)):
        count += 1
        at = row.at.isoformat()
        expected = _digest(prev, at, row.actor, row.action, row.resource, row.detail)
        if row.prev_hash != prev or row.hash != expected:
            return ChainCheck(entries=count, valid=False, first_bad_seq=row.seq)
        prev = row.hash
    return ChainCheck(entries=count, valid=True)
