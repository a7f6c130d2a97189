"""The contact directory synced from the registry's phone directory (``GET /directory/phones/...``).

Helpers and household heads are the registry's people: their names, regions and whole phones come from
there, every 15 minutes, incrementally (``updated_since`` the newest change taken last time, then the page
cursor). A row read twice is written the same way twice, so a sync that stops half-way is simply repeated.
Operators keep the people the registry does not know: township officers and village information officers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from services.notifications.domain.phones import normalise_phone, phone_refusals
from services.notifications.models import Contact, DirectorySync
from services.notifications.registry import registry_client
from shared.calls import ServiceClient
from shared.clock import session_clock
from shared.jobs.periodic import PeriodicJob

log = logging.getLogger(__name__)
REGISTRY_KINDS = ("helper", "household")
# Asked again each time: a registry transaction that commits a little after a sync read newer rows has an
# older change time; re-reading a few minutes is harmless (the same rows are written the same way).
OVERLAP = timedelta(minutes=5)


def mobile_or_none(raw: str | None) -> str | None:
    """The 11-digit form of a registry phone; a number that is not a mainland mobile is no number to text."""
    if not raw or phone_refusals(raw):
        return None
    return normalise_phone(raw)


def take_helper(session: Session, item: dict[str, Any]) -> None:
    facts = {"name": item["name"], "unit_id": item["unit_id"]}
    upsert(session, "helper", item["id"], item["region_code"], item["phone"], item["active"], facts)


def take_household(session: Session, item: dict[str, Any]) -> None:
    facts = {"name": item["name"], "unit_id": None}
    upsert(session, "household", item["household_id"], item["region_code"], item["phone"], item["active"], facts)


def upsert(
    session: Session, kind: str, ref_id: str, region: str, phone: str | None, active: bool, facts: dict[str, Any]
) -> None:
    row = session.exec(select(Contact).where(Contact.kind == kind, Contact.ref_id == ref_id)).first()
    row = row or Contact(kind=kind, ref_id=ref_id, region_code=region, updated_at=session_clock(session).now())
    number = mobile_or_none(phone)
    if phone and number is None:
        log.warning("registry %s %s has a phone that is not a mobile number; kept without one", kind, ref_id)
    row.region_code, row.phone, row.active, row.source = region, number, active, "registry"
    row.name, row.unit_id = facts["name"][:60], facts["unit_id"]
    row.updated_at = session_clock(session).now()
    session.add(row)


LISTS: dict[str, tuple[str, Callable[[Session, dict[str, Any]], None]]] = {
    "helpers": ("/directory/phones/helpers", take_helper),
    "households": ("/directory/phones/households", take_household),
}


def sync_list(session: Session, client: ServiceClient, name: str) -> int:
    """Take every row changed since the last sync of this list; the rows taken."""
    path, take = LISTS[name]
    state = session.get(DirectorySync, name)
    params = {"updated_since": (state.watermark - OVERLAP).isoformat()} if state else {}
    newest = state.watermark if state else None
    taken = 0
    for page in client.pages(path, params):
        for item in page["items"]:
            take(session, item)
            changed = datetime.fromisoformat(item["changed_at"])
            newest = changed if newest is None else max(newest, changed)
        taken += len(page["items"])
        session.flush()
    if newest is not None:
        state = state or DirectorySync(list_name=name, watermark=newest, synced_at=session_clock(session).now())
        state.watermark, state.synced_at, state.rows_taken = newest, session_clock(session).now(), taken
        session.add(state)
    return taken


def sync_directory(session: Session, day: object = None) -> dict[str, int]:
    """One sync of both lists in the caller's transaction: all of it lands, or none (and the next repeats it)."""
    client = registry_client()
    try:
        return {name: sync_list(session, client, name) for name in LISTS}
    finally:
        client.close()


DIRECTORY_JOBS = (
    PeriodicJob(
        name="directory-sync",
        run=sync_directory,
        every=timedelta(minutes=15),
        description="helpers' and household heads' phones from the registry's directory (incremental)",
    ),
)
