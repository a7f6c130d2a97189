"""Queueing messages: one row per cause and recipient, rendered, with its send time. Nothing here commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from services.notifications.domain.catalog import BUILTIN, relayed
from services.notifications.domain.quiet import release_time
from services.notifications.domain.templates import render
from services.notifications.models import Contact, HelperPairing, Message, OptOut, Template
from services.notifications.settings import NotificationSettings
from shared.clock import session_clock
from shared.ids import new_id

# SQLModel sets __table__ when it makes a table class; its stubs do not declare it.
MESSAGE_TABLE: Table = Message.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Recipient:
    """Who a message is for (``key`` is unique per person), and the number it goes to (None: not known yet)."""

    key: str
    region_code: str
    name: str
    phone: str | None
    via: str | None = None


@dataclass(frozen=True)
class TemplateText:
    code: str
    body: str
    parameters: tuple[str, ...]
    provider_codes: dict[str, str]


def template_text(session: Session, code: str) -> TemplateText | None:
    row = session.get(Template, code)
    if row is not None:
        return TemplateText(code, row.body, tuple(row.parameters), dict(row.provider_codes))
    builtin = BUILTIN.get(code)
    return TemplateText(code, builtin.body, builtin.parameters, {}) if builtin else None


def contact(session: Session, kind: str, ref_id: str) -> Contact | None:
    return session.exec(select(Contact).where(Contact.kind == kind, Contact.ref_id == ref_id)).first()


def helpers_of(session: Session, household_id: str) -> list[str]:
    query = select(HelperPairing.helper_id).where(
        HelperPairing.household_id == household_id, col(HelperPairing.end_date).is_(None)
    )
    return sorted(set(session.exec(query).all()))


def officers(session: Session, kind: str, region_code: str) -> list[Contact]:
    """Officers whose region holds ``region_code`` (a township officer for a village's household)."""
    rows = session.exec(select(Contact).where(Contact.kind == kind)).all()
    return [c for c in rows if region_code.startswith(c.region_code)]


def person(session: Session, kind: str, ref_id: str, *, region_code: str) -> Recipient:
    found = contact(session, kind, ref_id)
    if found is None:
        return Recipient(key=f"{kind}:{ref_id}", region_code=region_code, name="", phone=None)
    return Recipient(key=f"{kind}:{ref_id}", region_code=found.region_code, name=found.name, phone=found.phone)


def household_recipient(
    session: Session, household_id: str, *, region_code: str, settings: NotificationSettings
) -> Recipient | None:
    """The household head; without a phone, the helper or the village information officer passes it on."""
    head = person(session, "household", household_id, region_code=region_code)
    if head.phone or settings.no_phone_fallback == "none":
        return head
    relay: Contact | None = None
    if settings.no_phone_fallback == "helper":
        relay = next(
            (c for h in helpers_of(session, household_id) if (c := contact(session, "helper", h)) and c.phone), None
        )
    if relay is None:
        relay = next((c for c in officers(session, "info_officer", head.region_code) if c.phone), None)
    if relay is None:
        return head
    return Recipient(head.key, head.region_code, head.name, relay.phone, via=f"{relay.kind}:{relay.ref_id}")


def opted_out(session: Session, phone: str | None) -> bool:
    return phone is not None and session.get(OptOut, phone) is not None


def queue(
    session: Session,
    *,
    cause: str,
    recipient: Recipient,
    kind: str,
    template_code: str,
    params: dict[str, Any],
    settings: NotificationSettings,
    not_before: datetime | None = None,
) -> bool:
    """Queue one message; False when this cause already has one for this recipient (a redelivery, a re-run)."""
    template = template_text(session, template_code)
    if template is None:
        raise LookupError(f"no template {template_code}")
    values = {name: str(params[name]) for name in template.parameters}
    text = render(body=template.body, parameters=template.parameters, values=values)
    body = (
        relayed(text.text, household=f"{recipient.name}户" if recipient.name else "帮扶户")
        if recipient.via
        else text.text
    )
    now = session_clock(session).now()
    urgent = kind in settings.urgent_kinds
    status, error = "queued", None
    if opted_out(session, recipient.phone):
        status, error = "suppressed", "the number replied TD (opted out)"
    row = Message(
        id=new_id(),
        cause=cause,
        recipient=recipient.key,
        kind=kind,
        region_code=recipient.region_code,
        template_code=template_code,
        params=values,
        body=body,
        segments=text.length.segments,
        urgent=urgent,
        phone=recipient.phone,
        via=recipient.via,
        status=status,
        last_error=error,
        not_before=release_time(now=max(now, not_before or now), quiet=settings.quiet(), urgent=urgent),
        created_at=now,
    )
    return _insert_once(session, row)


def _insert_once(session: Session, row: Message) -> bool:
    values = {c.name: getattr(row, c.name) for c in MESSAGE_TABLE.columns}
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(MESSAGE_TABLE).values(**values).on_conflict_do_nothing(index_elements=["cause", "recipient"])
    return (session.exec(statement).rowcount or 0) > 0
