"""``household.registered`` outbox rows for a chunk of imported households, without a pydantic model each.

The envelope and data are the ones ``services.registry.events.registered_outbox_rows`` writes. Each chunk
builds its first row both ways and compares them; if the catalogue or the envelope ever change shape, the
chunk falls back to that slower path, so the fast one cannot drift silently.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter
from sqlmodel import Session

from services.registry.events import registered_outbox_rows

EVENT_TYPE = "household.registered"
OUTBOX_COLUMNS = ("event_id", "event_type", "aggregate_id", "payload", "created_at")
_TIME = TypeAdapter(datetime)
QUOTE_COMMA = '","'


# What the event says about one new household: (id, region code, head member id, member ids, status, version);
# a plain tuple, like the rows around it.
NewHousehold = tuple[str, str, str, tuple[str, ...], str, int]


def registered_rows(
    session: Session, households: list[NewHousehold], event_ids: list[str], *, created_at: Any
) -> list[tuple[Any, ...]]:
    """Outbox rows (``OUTBOX_COLUMNS``) announcing ``households``; ``created_at`` as the driver takes it."""
    if not households:
        return []
    now = session.info["clock"].now()
    source = json.dumps(session.info.get("service", "registry"), ensure_ascii=False)
    when = _TIME.dump_json(now).decode()  # the envelope's own rendering of its time
    # Every value spliced in is JSON-safe as it is: our UUIDs, a checked 12-digit code, a status code, a number.
    head = f'","type":"{EVENT_TYPE}","source":{source},"subject":"'
    middle = f'","time":{when},"datacontenttype":"application/json","schemaversion":1,"data":{{"household_id":"'
    rows = [
        (
            event_id,
            EVENT_TYPE,
            h,
            f'{{"id":"{event_id}{head}{h}{middle}{h}","region_code":"{region}","head_member_id":"{head_id}",'
            f'"member_ids":["{QUOTE_COMMA.join(members)}"],"version":{version},"status":"{status}"}}}}',
            created_at,
        )
        for (h, region, head_id, members, status, version), event_id in zip(households, event_ids, strict=True)
    ]
    if not _same_as_events_module(session, households[0], rows[0]):
        rows = _slow_rows(session, households, created_at)
    return rows


def _as_dicts(households: list[NewHousehold]) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    rows: list[dict[str, object]] = [
        {"id": h, "region_code": region, "head_member_id": head, "version": version, "status": status}
        for h, region, head, _members, status, version in households
    ]
    members: list[dict[str, object]] = [{"id": m, "household_id": h[0]} for h in households for m in h[3]]
    return rows, members


def _same_as_events_module(session: Session, household: NewHousehold, row: tuple[Any, ...]) -> bool:
    rows, members = _as_dicts([household])
    reference = json.loads(registered_outbox_rows(session, rows, members)[0]["payload"])
    ours = json.loads(row[3])
    for key in ("id", "time"):  # a fresh id, and the clock read a moment later (rendered by pydantic both ways)
        reference.pop(key)
        ours.pop(key)
    return ours == reference


def _slow_rows(session: Session, households: list[NewHousehold], created_at: Any) -> list[tuple[Any, ...]]:
    rows, members = _as_dicts(households)
    return [
        (r["event_id"], r["event_type"], r["aggregate_id"], r["payload"], created_at)
        for r in registered_outbox_rows(session, rows, members)
    ]
