"""The transactional outbox: an event row is written in the same transaction as the change."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import MetaData, delete, func, insert, select, update
from sqlmodel import Session

from shared.clock import Clock, SystemClock
from shared.events.catalogue import validate_data
from shared.events.envelope import Envelope
from shared.events.tables import infra_tables

# Runtime handles: the SQL is the same in every service's database.
INFRA = infra_tables(MetaData())
OUTBOX = INFRA.outbox


def session_clock(session: Session) -> Clock:
    return session.info.get("clock") or SystemClock()


def emit(session: Session, event_type: str, aggregate_id: str, data: dict[str, Any]) -> Envelope:
    """Record a domain event to be published once the surrounding transaction commits."""
    envelope = Envelope(
        type=event_type,
        source=session.info.get("service", "unknown"),
        subject=str(aggregate_id),
        time=session_clock(session).now(),
        data=validate_data(event_type, data),
    )
    session.execute(
        insert(OUTBOX).values(
            event_id=envelope.id,
            event_type=event_type,
            aggregate_id=envelope.subject,
            payload=envelope.model_dump_json(),
            created_at=envelope.time,
        )
    )
    session.info.setdefault("emitted", []).append(envelope.id)
    return envelope


def backlog(session: Session) -> int:
    return session.execute(select(func.count()).select_from(OUTBOX).where(OUTBOX.c.sent_at.is_(None))).scalar_one()


def mark_for_replay(session: Session, since: datetime) -> int:
    """Make sent events since ``since`` unsent again, so the relay publishes them once more."""
    result = session.execute(
        update(OUTBOX).where(OUTBOX.c.created_at >= since, OUTBOX.c.sent_at.is_not(None)).values(sent_at=None)
    )
    return result.rowcount or 0


def purge_sent(session: Session, *, now: datetime, retention: timedelta) -> int:
    """Drop sent rows older than the retention; the replay window ends there."""
    result = session.execute(delete(OUTBOX).where(OUTBOX.c.sent_at.is_not(None), OUTBOX.c.sent_at < now - retention))
    return result.rowcount or 0
