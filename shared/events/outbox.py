"""The transactional outbox: an event row is written in the same transaction as the change.

``emit`` writes one event; ``emit_many`` writes many of one type in one statement. ``outbox_rows`` builds
those rows without writing them, for a producer that loads with its own statement (the registry import's
COPY). The bulk path renders each envelope with ``json.dumps`` rather than one pydantic model per event: it
checks its first row against the full model and the catalogue, and falls back to the model for every row
when they differ, so it cannot drift from the envelope silently.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import MetaData, delete, func, select, update
from sqlmodel import Session

from shared.clock import session_clock
from shared.db import Prepared
from shared.events.catalogue import validate_data
from shared.events.envelope import Envelope
from shared.events.tables import infra_tables
from shared.ids import new_id

# Runtime handles: the SQL is the same in every service's database.
INFRA = infra_tables(MetaData())
OUTBOX = INFRA.outbox
OUTBOX_COLUMNS = ("event_id", "event_type", "aggregate_id", "payload", "created_at")
_TIME = TypeAdapter(datetime)
_INSERT = Prepared.inserting(OUTBOX, OUTBOX_COLUMNS)  # compiled once, run on the driver's cursor

__all__ = ["OUTBOX", "OUTBOX_COLUMNS", "emit", "emit_many", "outbox_rows", "session_clock"]


def _envelope(session: Session, event_type: str, aggregate_id: str, data: dict[str, Any]) -> Envelope:
    return Envelope(
        type=event_type,
        source=session.info.get("service", "unknown"),
        subject=str(aggregate_id),
        time=session_clock(session).now(),
        data=validate_data(event_type, data),
    )


def emit(session: Session, event_type: str, aggregate_id: str, data: dict[str, Any]) -> Envelope:
    """Record a domain event to be published once the surrounding transaction commits."""
    envelope = _envelope(session, event_type, aggregate_id, data)
    row = (envelope.id, event_type, envelope.subject, envelope.model_dump_json(), envelope.time)
    _INSERT.many(session, [dict(zip(OUTBOX_COLUMNS, row, strict=True))])
    return envelope


def emit_many(
    session: Session,
    event_type: str,
    items: Sequence[tuple[str, dict[str, Any]]],
    *,
    event_ids: Sequence[str] | None = None,
) -> list[str]:
    """Record many events of one type (``(aggregate_id, data)`` each) in one ``executemany`` of the driver; their
    ids in order (``event_ids`` if given: ``shared.ids.many_ids`` makes thousands at a fraction of the cost)."""
    if not items:
        return []
    now = session_clock(session).now()
    rows = outbox_rows(session, event_type, items, created_at=now, event_ids=event_ids)
    _INSERT.many(session, [dict(zip(OUTBOX_COLUMNS, row, strict=True)) for row in rows])
    return [row[0] for row in rows]


def outbox_rows(
    session: Session,
    event_type: str,
    items: Sequence[tuple[str, dict[str, Any]]],
    *,
    created_at: Any,
    event_ids: Sequence[str] | None = None,
) -> list[tuple[Any, ...]]:
    """Outbox rows (``OUTBOX_COLUMNS``) for ``items``; ``created_at`` as the caller's driver takes it.

    ``data`` must already be in its JSON form (strings for ids, dates and money) and every item must carry the
    same fields as the first; otherwise every row goes through the catalogue model.
    """
    if not items:
        return []
    ids = list(event_ids) if event_ids is not None else [new_id() for _ in items]
    source = json.dumps(session.info.get("service", "unknown"), ensure_ascii=False)
    when = _TIME.dump_json(session_clock(session).now()).decode()  # the envelope's own rendering of its time
    head = f'","type":{json.dumps(event_type)},"source":{source},"subject":'
    tail = f',"time":{when},"datacontenttype":"application/json","schemaversion":1,"data":'
    rows = [
        (
            event_id,
            event_type,
            str(aggregate),
            f'{{"id":"{event_id}{head}{json.dumps(str(aggregate), ensure_ascii=False)}{tail}'
            f"{json.dumps(data, ensure_ascii=False, separators=(',', ':'))}}}",
            created_at,
        )
        for (aggregate, data), event_id in zip(items, ids, strict=True)
    ]
    if not _fast_path_holds(session, event_type, items, rows[0]):
        rows = [_model_row(session, event_type, a, d, e, created_at) for (a, d), e in zip(items, ids, strict=True)]
    return rows


def _fast_path_holds(
    session: Session, event_type: str, items: Sequence[tuple[str, dict[str, Any]]], first: tuple[Any, ...]
) -> bool:
    aggregate, data = items[0]
    fields = set(data)
    if any(set(d) != fields for _, d in items):
        return False
    reference = json.loads(_envelope(session, event_type, aggregate, data).model_dump_json())
    ours = json.loads(first[3])
    for key in ("id", "time"):  # a fresh id, and the clock read a moment later
        reference.pop(key)
        ours.pop(key)
    return ours == reference


def _model_row(
    session: Session, event_type: str, aggregate: str, data: dict[str, Any], event_id: str, created_at: Any
) -> tuple[Any, ...]:
    envelope = _envelope(session, event_type, aggregate, data)
    envelope.id = event_id
    return (event_id, event_type, envelope.subject, envelope.model_dump_json(), created_at)


def backlog(session: Session) -> int:
    return session.execute(select(func.count()).select_from(OUTBOX).where(OUTBOX.c.sent_at.is_(None))).scalar_one()


def mark_for_replay(session: Session, since: datetime) -> int:
    """Make sent events since ``since`` unsent again, so the relay publishes them once more."""
    result = session.execute(
        update(OUTBOX).where(OUTBOX.c.created_at >= since, OUTBOX.c.sent_at.is_not(None)).values(sent_at=None)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def purge_sent(session: Session, *, now: datetime, retention: timedelta) -> int:
    """Drop sent rows older than the retention; the replay window ends there."""
    result = session.execute(delete(OUTBOX).where(OUTBOX.c.sent_at.is_not(None), OUTBOX.c.sent_at < now - retention))
    return int(getattr(result, "rowcount", 0) or 0)
