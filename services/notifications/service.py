"""Notification operations behind the routes. Nothing here commits."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, func, select

from services.notifications.domain.inbound import classify_reply
from services.notifications.domain.phones import normalise_phone, phone_refusals
from services.notifications.domain.segments import SegmentCount
from services.notifications.domain.templates import render, template_refusals
from services.notifications.models import (
    Broadcast,
    Contact,
    HouseholdRecipient,
    InboundSms,
    Message,
    OptOut,
    Receipt,
    Template,
)
from services.notifications.outbound import Recipient, opted_out, queue, template_text
from services.notifications.providers.base import DeliveryReport, InboundReply
from services.notifications.schemas import (
    BroadcastCreate,
    ContactSet,
    MessageReport,
    SegmentsPublic,
    StatusCount,
    TemplateCreate,
)
from services.notifications.sending import _announce
from services.notifications.settings import NotificationSettings
from shared.auth import Principal
from shared.clock import session_clock
from shared.errors import Conflict, NotFound
from shared.events.outbox import emit
from shared.masking import mask_phone
from shared.pagination import PageParams, paginate
from shared.refusals import Refusal, refuse_if
from shared.scope import get_in_scope, in_scope, require_region


def segments_public(count: SegmentCount) -> SegmentsPublic:
    return SegmentsPublic(
        encoding=count.encoding, characters=count.units, segments=count.segments, per_segment=count.per_segment
    )


# --- templates --------------------------------------------------------------------------------------------


def create_template(session: Session, body: TemplateCreate, principal: Principal) -> Template:
    refuse_if(template_refusals(body=body.body, parameters=body.parameters, needs_opt_out=body.broadcast))
    if template_text(session, body.code) is not None:
        raise Conflict(f"template {body.code} exists", field="code")
    row = Template(**body.model_dump(), created_by=principal.subject, created_at=session_clock(session).now())
    session.add(row)
    session.flush()
    return row


def get_template(session: Session, code: str) -> tuple[Any, bool]:
    row = session.get(Template, code)
    if row is not None:
        return row, False
    text = template_text(session, code)
    if text is None:
        raise NotFound(f"no template {code}")
    return text, True


def preview(session: Session, code: str, params: dict[str, str]) -> tuple[str, SegmentCount]:
    template, _ = get_template(session, code)
    rendered = render(body=template.body, parameters=tuple(template.parameters), values=params)
    return rendered.text, rendered.length


def list_templates(session: Session, page: PageParams) -> tuple[list[Template], str | None]:
    return paginate(session, select(Template), order=[col(Template.code)], page=page)


# --- contacts and opt-outs --------------------------------------------------------------------------------


def set_contact(session: Session, kind: str, ref_id: str, body: ContactSet, principal: Principal) -> Contact:
    require_region(principal, body.region_code)
    phone = None
    if body.phone:
        refuse_if(phone_refusals(body.phone))
        phone = normalise_phone(body.phone)
    row = session.exec(select(Contact).where(Contact.kind == kind, Contact.ref_id == ref_id)).first()
    if row is not None and not principal.covers(row.region_code):
        raise NotFound(f"no contact {kind}/{ref_id}")
    if row is not None and row.source == "registry":
        raise Conflict(f"{kind} {ref_id} is kept by the registry: change the number there", field="phone")
    row = row or Contact(
        kind=kind, ref_id=ref_id, region_code=body.region_code, updated_at=session_clock(session).now()
    )
    row.region_code, row.name, row.phone = body.region_code, body.name, phone
    row.source, row.updated_at = "operator", session_clock(session).now()
    session.add(row)
    session.flush()
    return row


def list_contacts(
    session: Session, principal: Principal, *, region: str | None, kind: str | None, page: PageParams
) -> tuple[list[Contact], str | None]:
    query = select(Contact).where(in_scope(col(Contact.region_code), principal, region))
    if kind:
        query = query.where(Contact.kind == kind)
    return paginate(session, query, order=[col(Contact.id)], page=page)


def opt_out(session: Session, phone: str, *, source: str) -> OptOut:
    number = normalise_phone(phone)
    refuse_if(phone_refusals(number))
    row = session.get(OptOut, number)
    if row is None:
        row = OptOut(phone=number, opted_out_at=session_clock(session).now(), source=source)
        session.add(row)
        stopped = select(Message).where(Message.phone == number, Message.status == "queued")
        for message in session.exec(stopped).all():
            message.status, message.last_error = "suppressed", "the number replied TD (opted out)"
            session.add(message)
        session.flush()
    return row


def list_opt_outs(session: Session, page: PageParams) -> tuple[list[OptOut], str | None]:
    return paginate(session, select(OptOut), order=[col(OptOut.phone)], page=page)


# --- messages ---------------------------------------------------------------------------------------------


def list_messages(
    session: Session,
    principal: Principal,
    *,
    region: str | None,
    status: str | None,
    kind: str | None,
    page: PageParams,
) -> tuple[list[Message], str | None]:
    query = select(Message).where(in_scope(col(Message.region_code), principal, region))
    if status:
        query = query.where(Message.status == status)
    if kind:
        query = query.where(Message.kind == kind)
    return paginate(session, query, order=[col(Message.id)], page=page)


def get_message(session: Session, message_id: str, principal: Principal) -> Message:
    return get_in_scope(session, Message, message_id, principal, what="message")


# --- gateway callbacks ------------------------------------------------------------------------------------


def record_receipts(session: Session, provider: str, reports: list[DeliveryReport]) -> int:
    """Upsert each report by (gateway id, phone): a repeat or a late 'failed' after 'delivered' changes nothing."""
    now = session_clock(session).now()
    taken = 0
    for report in reports:
        known = session.exec(
            select(Receipt).where(
                Receipt.provider == provider,
                Receipt.provider_message_id == report.provider_message_id,
                Receipt.phone == report.phone,
            )
        ).first()
        if known is not None:
            continue
        message = _message_for(session, report)
        session.add(
            Receipt(
                provider=provider,
                provider_message_id=report.provider_message_id,
                phone=report.phone,
                delivered=report.delivered,
                code=report.code[:60],
                message_id=message.id if message else None,
                received_at=now,
            )
        )
        taken += 1
        if message is not None and message.status in ("sent", "sending"):
            message.status = "delivered" if report.delivered else "failed"
            message.delivered_at = now if report.delivered else None
            message.last_error = None if report.delivered else f"delivery report: {report.code}"
            session.add(message)
            _announce(session, "notification.delivered" if report.delivered else "notification.failed", message)
    session.flush()
    return taken


def _message_for(session: Session, report: DeliveryReport) -> Message | None:
    if report.message_id:
        found = session.get(Message, report.message_id)
        if found is not None:
            return found
    query = select(Message).where(
        Message.provider_message_id == report.provider_message_id, Message.phone == report.phone
    )
    return session.exec(query).first()


def record_replies(session: Session, provider: str, replies: list[InboundReply], settings: NotificationSettings) -> int:
    """Store each reply once; TD stops the number; a keyword reply is published for whoever handles it."""
    now = session_clock(session).now()
    taken = 0
    for reply in replies:
        if session.exec(
            select(InboundSms).where(InboundSms.provider == provider, InboundSms.provider_ref == reply.ref)
        ).first():
            continue
        meaning = classify_reply(reply.text, keywords=settings.keywords)
        last = session.exec(
            select(Message).where(Message.phone == reply.phone).order_by(col(Message.created_at).desc()).limit(1)
        ).first()
        row = InboundSms(
            provider=provider,
            provider_ref=reply.ref[:100],
            phone=reply.phone,
            text=reply.text[:500],
            kind=meaning.kind,
            topic=meaning.topic,
            region_code=last.region_code if last else None,
            received_at=now,
        )
        session.add(row)
        session.flush()
        taken += 1
        if meaning.kind == "opt_out":
            opt_out(session, reply.phone, source="reply")
        elif meaning.kind == "opt_in":
            found = session.get(OptOut, reply.phone)
            if found is not None:
                session.delete(found)
        elif meaning.kind == "keyword":
            emit(session, "notification.reply_received", row.id, _reply_data(row, meaning.rest, last))
    return taken


def _reply_data(row: InboundSms, rest: str, last: Message | None) -> dict[str, Any]:
    return {
        "reply_id": row.id,
        "topic": row.topic,
        "text": rest,
        "phone_masked": mask_phone(row.phone),
        "region_code": row.region_code,
        "in_reply_to_message_id": last.id if last else None,
        "in_reply_to_cause": last.cause if last else None,
        "recipient": last.recipient if last else None,
        "received_at": row.received_at,
    }


def list_replies(session: Session, principal: Principal, *, page: PageParams) -> tuple[list[InboundSms], str | None]:
    query = select(InboundSms).where(in_scope(col(InboundSms.region_code), principal, None))
    return paginate(session, query, order=[col(InboundSms.id)], page=page)


# --- broadcasts -------------------------------------------------------------------------------------------


def audience(session: Session, body: BroadcastCreate | Broadcast) -> list[Contact]:
    query = select(Contact).where(
        Contact.kind == body.audience,
        col(Contact.region_code).startswith(body.region_code, autoescape=True),
        col(Contact.active).is_(True),  # not an ended helper or a dissolved household
    )
    return [
        c for c in session.exec(query.order_by(col(Contact.id))).all() if c.phone and not opted_out(session, c.phone)
    ]


def preview_broadcast(session: Session, body: BroadcastCreate, principal: Principal) -> Broadcast:
    """Count who would get it and render a sample; nothing is queued until it is confirmed."""
    require_region(principal, body.region_code)
    template = session.get(Template, body.template_code)
    if template is None or not template.broadcast:
        refuse_if(
            [
                Refusal(
                    "not_a_broadcast_template",
                    "a broadcast needs a broadcast template (with 回复TD退订)",
                    "template_code",
                )
            ]
        )
    assert template is not None
    rendered = render(body=template.body, parameters=tuple(template.parameters), values=body.params)
    people = audience(session, body)
    row = Broadcast(
        template_code=body.template_code,
        params=body.params,
        region_code=body.region_code,
        audience=body.audience,
        recipients=len(people),
        sample=rendered.text,
        segments=rendered.length.segments,
        created_by=principal.subject,
        created_at=session_clock(session).now(),
    )
    session.add(row)
    session.flush()
    return row


def confirm_broadcast(
    session: Session, broadcast_id: str, principal: Principal, settings: NotificationSettings
) -> Broadcast:
    row = get_in_scope(session, Broadcast, broadcast_id, principal, what="broadcast")
    if row.status == "confirmed":
        return row
    for person in audience(session, row):
        recipient = Recipient(f"{person.kind}:{person.ref_id}", person.region_code, person.name, person.phone)
        queue(
            session,
            cause=f"broadcast:{row.id}",
            recipient=recipient,
            kind="broadcast",
            template_code=row.template_code,
            params=dict(row.params),
            settings=settings,
        )
    row.status, row.confirmed_at = "confirmed", session_clock(session).now()
    session.add(row)
    session.flush()
    return row


# --- reports ----------------------------------------------------------------------------------------------


def message_report(session: Session, principal: Principal, *, region: str | None) -> MessageReport:
    """Messages by region, kind and status; the delivery rate; the numbers that opted out."""
    condition = in_scope(col(Message.region_code), principal, region)
    query = select(Message.region_code, Message.kind, Message.status, func.count()).where(condition)
    query = query.group_by(Message.region_code, Message.kind, Message.status).order_by(
        Message.region_code, Message.kind, Message.status
    )
    rows = [StatusCount(region_code=r, kind=k, status=s, messages=n) for r, k, s, n in session.exec(query).all()]
    went = {s: sum(x.messages for x in rows if x.status == s) for s in ("delivered", "sent", "failed")}
    total = sum(went.values())
    outs = session.exec(select(func.count()).select_from(OptOut)).one()
    return MessageReport(rows=rows, delivery_rate=round(went["delivered"] / total, 4) if total else None, opt_outs=outs)


def list_recipients(
    session: Session, principal: Principal, *, region: str | None, page: PageParams
) -> tuple[list[HouseholdRecipient], str | None]:
    query = select(HouseholdRecipient).where(in_scope(col(HouseholdRecipient.region_code), principal, region))
    return paginate(session, query, order=[col(HouseholdRecipient.household_id)], page=page)
