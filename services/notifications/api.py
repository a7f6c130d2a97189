"""Notification routes: templates, contacts, opt-outs, messages, gateway callbacks, broadcasts, reports."""

from __future__ import annotations

import asyncio
import hmac
import json
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request

from services.notifications import calendar, reports, service
from services.notifications.domain.segments import count_segments
from services.notifications.schemas import (
    BroadcastCreate,
    BroadcastPublic,
    CallbackAnswer,
    ContactKind,
    ContactPublic,
    ContactSet,
    DutyCompliance,
    DutyRuleCreate,
    DutyRulePublic,
    HouseholdRecipientPublic,
    MessageGroup,
    MessagePublic,
    MessageReport,
    OptOutCreate,
    OptOutPublic,
    Preview,
    RenderedPublic,
    ReplyPublic,
    TemplateCreate,
    TemplatePublic,
)
from shared.auth import Principal, Role, require
from shared.deps import ClockDep, ReadSessionDep, SessionDep
from shared.errors import Unauthorized, ValidationFailed
from shared.masking import mask_phone
from shared.pagination import Page, PageDep
from shared.scope import RegionParam

router = APIRouter(tags=["notifications"])
callbacks = APIRouter(tags=["gateway callbacks"])
Reader = Annotated[Principal, Depends(require(Role.county_office, Role.township_reviewer, Role.auditor, Role.system))]
Operator = Annotated[Principal, Depends(require(Role.county_office, Role.township_reviewer, Role.system))]
County = Annotated[Principal, Depends(require(Role.county_office, Role.system))]
Code = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{1,39}$")]
RefId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
Id = Annotated[str, Path(min_length=1, max_length=36)]


def runtime(request: Request) -> Any:
    return request.app.state.notifications


def template_public(row: Any, builtin: bool) -> TemplatePublic:
    return TemplatePublic(
        code=row.code,
        body=row.body,
        parameters=list(row.parameters),
        provider_codes=dict(row.provider_codes),
        broadcast=bool(getattr(row, "broadcast", False)),
        builtin=builtin,
        segments=service.segments_public(count_segments(row.body.format_map({p: "" for p in row.parameters}))),
    )


@router.post("/templates", status_code=201, response_model=TemplatePublic)
def create_template(body: TemplateCreate, session: SessionDep, principal: County) -> TemplatePublic:
    """A template (短信模板): its parameters and its 【signature】 are checked now, not when it is sent."""
    return template_public(service.create_template(session, body, principal), False)


@router.get("/templates", response_model=Page[TemplatePublic])
def list_templates(session: ReadSessionDep, principal: Reader, page: PageDep) -> Page[TemplatePublic]:
    """Templates operators made (the built-in ones are read by code)."""
    rows, cursor = service.list_templates(session, page)
    return Page(items=[template_public(r, False) for r in rows], next_cursor=cursor)


@router.get("/templates/{code}", response_model=TemplatePublic)
def get_template(code: Code, session: ReadSessionDep, principal: Reader) -> TemplatePublic:
    row, builtin = service.get_template(session, code)
    return template_public(row, builtin)


@router.post("/templates/{code}/preview", response_model=RenderedPublic)
def preview_template(code: Code, body: Preview, session: ReadSessionDep, principal: Operator) -> RenderedPublic:
    """The text with these values, and how many SMS it takes (70 / 67 characters per part in Chinese)."""
    text, length = service.preview(session, code, body.params)
    return RenderedPublic(text=text, length=service.segments_public(length))


def contact_public(row: Any, opted_out: bool) -> ContactPublic:
    return ContactPublic(
        id=row.id,
        kind=row.kind,
        ref_id=row.ref_id,
        region_code=row.region_code,
        name=row.name,
        phone=mask_phone(row.phone),
        opted_out=opted_out,
        updated_at=row.updated_at,
    )


@router.put("/contacts/{kind}/{ref_id}", response_model=ContactPublic)
def set_contact(
    kind: ContactKind, ref_id: RefId, body: ContactSet, session: SessionDep, principal: Operator
) -> ContactPublic:
    """Who to text for a helper, household, township officer or village information officer (信息员)."""
    row = service.set_contact(session, kind, ref_id, body, principal)
    return contact_public(row, service.opted_out(session, row.phone))


@router.get("/contacts", response_model=Page[ContactPublic])
def list_contacts(
    session: ReadSessionDep,
    principal: Reader,
    page: PageDep,
    region: RegionParam = None,
    kind: ContactKind | None = None,
) -> Page[ContactPublic]:
    rows, cursor = service.list_contacts(session, principal, region=region, kind=kind, page=page)
    return Page(items=[contact_public(r, service.opted_out(session, r.phone)) for r in rows], next_cursor=cursor)


@router.post("/opt-outs", status_code=201, response_model=OptOutPublic)
def add_opt_out(body: OptOutCreate, session: SessionDep, principal: Operator) -> OptOutPublic:
    """Stop every message to a number (as a 退订 reply does)."""
    row = service.opt_out(session, body.phone, source=f"operator:{principal.subject}")
    return OptOutPublic(phone=mask_phone(row.phone) or "", opted_out_at=row.opted_out_at, source=row.source)


@router.get("/opt-outs", response_model=Page[OptOutPublic])
def list_opt_outs(session: ReadSessionDep, principal: County, page: PageDep) -> Page[OptOutPublic]:
    rows, cursor = service.list_opt_outs(session, page)
    items = [OptOutPublic(phone=mask_phone(r.phone) or "", opted_out_at=r.opted_out_at, source=r.source) for r in rows]
    return Page(items=items, next_cursor=cursor)


def message_public(row: Any) -> MessagePublic:
    return MessagePublic.model_validate(row.model_dump() | {"phone": mask_phone(row.phone)})


@router.get("/messages", response_model=Page[MessagePublic])
def list_messages(
    session: ReadSessionDep,
    principal: Reader,
    page: PageDep,
    region: RegionParam = None,
    status: Annotated[str | None, Query(pattern=r"^(queued|sending|sent|delivered|failed|suppressed)$")] = None,
    kind: Annotated[str | None, Query(max_length=40)] = None,
) -> Page[MessagePublic]:
    """The outbound SMS log (numbers masked), newest last."""
    rows, cursor = service.list_messages(session, principal, region=region, status=status, kind=kind, page=page)
    return Page(items=[message_public(r) for r in rows], next_cursor=cursor)


@router.get("/messages/{message_id}", response_model=MessagePublic)
def get_message(message_id: Id, session: ReadSessionDep, principal: Reader) -> MessagePublic:
    return message_public(service.get_message(session, message_id, principal))


@router.get("/replies", response_model=Page[ReplyPublic])
def list_replies(session: ReadSessionDep, principal: Reader, page: PageDep) -> Page[ReplyPublic]:
    """Replies from phones: opt-outs, keyword replies (objections, complaints) and anything else."""
    rows, cursor = service.list_replies(session, principal, page=page)
    items = [ReplyPublic.model_validate(r.model_dump() | {"phone": mask_phone(r.phone)}) for r in rows]
    return Page(items=items, next_cursor=cursor)


@router.post("/broadcasts", status_code=201, response_model=BroadcastPublic)
def preview_broadcast(body: BroadcastCreate, session: SessionDep, principal: Operator) -> BroadcastPublic:
    """Step one of a broadcast: how many people it reaches and a rendered sample; nothing is sent yet."""
    return BroadcastPublic.model_validate(service.preview_broadcast(session, body, principal).model_dump())


@router.post("/broadcasts/{broadcast_id}/confirm", response_model=BroadcastPublic)
def confirm_broadcast(broadcast_id: Id, request: Request, session: SessionDep, principal: Operator) -> BroadcastPublic:
    """Step two: queue the broadcast for everyone counted (once, however often it is confirmed)."""
    row = service.confirm_broadcast(session, broadcast_id, principal, runtime(request).settings)
    return BroadcastPublic.model_validate(row.model_dump())


@router.get("/reports/messages", response_model=MessageReport)
def message_report(session: ReadSessionDep, principal: Reader, region: RegionParam = None) -> MessageReport:
    """Messages by region, kind and status; delivery rate; opt-outs."""
    return service.message_report(session, principal, region=region)


@router.get("/reports/duties", response_model=Page[DutyCompliance])
def duty_compliance_report(
    session: ReadSessionDep,
    principal: Reader,
    page: PageDep,
    by: reports.GroupBy = "helper",
    month: Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")] = None,
    region: RegionParam = None,
) -> Page[DutyCompliance]:
    """Duty compliance per helper, unit or village and month: due, done, missed, still open."""
    items, cursor = reports.duty_compliance(session, principal, page, by=by, month=month, region=region)
    return Page(items=items, next_cursor=cursor)


@router.get("/reports/message-groups", response_model=Page[MessageGroup])
def message_group_report(
    session: ReadSessionDep,
    principal: Reader,
    page: PageDep,
    by: reports.GroupBy = "village",
    region: RegionParam = None,
) -> Page[MessageGroup]:
    """Messages per helper, unit or village: by status, the delivery rate, the numbers that opted out."""
    items, cursor = reports.message_groups(session, principal, page, by=by, region=region)
    return Page(items=items, next_cursor=cursor)


@router.post("/duty-rules", status_code=201, response_model=DutyRulePublic)
def create_duty_rule(body: DutyRuleCreate, session: SessionDep, principal: County) -> DutyRulePublic:
    """A new version of a duty for a jurisdiction from a day on (county office or system)."""
    return DutyRulePublic.model_validate(calendar.rule_public(calendar.create_rule(session, body, principal)))


@router.get("/duty-rules", response_model=Page[DutyRulePublic])
def list_duty_rules(
    session: ReadSessionDep,
    principal: Reader,
    page: PageDep,
    region: RegionParam = None,
    code: Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9_]{1,39}$")] = None,
) -> Page[DutyRulePublic]:
    """Every version bearing on your region: its own, those below it, and those above it that it inherits."""
    rows, cursor = calendar.list_rules(session, principal, page, region=region, code=code)
    return Page(items=[DutyRulePublic.model_validate(calendar.rule_public(r)) for r in rows], next_cursor=cursor)


@router.get("/duty-rules/in-force", response_model=Page[DutyRulePublic])
def duty_rules_in_force(
    session: ReadSessionDep,
    principal: Reader,
    clock: ClockDep,
    page: PageDep,
    region: Annotated[str, Query(pattern=r"^\d{2,12}$", description="the village (or any region) governed")],
    on: Annotated[date | None, Query(description="the day; today when absent")] = None,
) -> Page[DutyRulePublic]:
    """The rule of each duty that governs ``region`` on ``on``: the most specific jurisdiction wins."""
    rows = calendar.rules_in_force(session, principal, region=region, day=on or clock.today())
    return Page(items=[DutyRulePublic.model_validate(calendar.rule_public(r)) for r in rows])


@router.get("/recipients", response_model=Page[HouseholdRecipientPublic])
def list_recipients(
    session: ReadSessionDep, principal: Reader, page: PageDep, region: RegionParam = None
) -> Page[HouseholdRecipientPublic]:
    """Households that can be messaged, inside the caller's region."""
    rows, cursor = service.list_recipients(session, principal, region=region, page=page)
    return Page(
        items=[HouseholdRecipientPublic.model_validate(r, from_attributes=True) for r in rows], next_cursor=cursor
    )


# --- gateway callbacks: the gateway cannot carry our JWT, so it passes the shared callback token ------------

Token = Annotated[str, Query(max_length=200, description="the callback token from the service's settings")]


def _in_transaction(request: Request, work: Any, *args: Any) -> int:
    with request.app.state.db.transaction() as session:
        return work(session, *args)


async def _callback_body(request: Request, token: str) -> Any:
    expected = runtime(request).settings.callback_token
    if not expected or not hmac.compare_digest(token.encode(), expected.encode()):
        raise Unauthorized("a valid callback token is required")
    raw = await request.body()
    try:
        return json.loads(raw or b"null")
    except ValueError as exc:
        raise ValidationFailed("the callback body is not JSON", field="body") from exc


@callbacks.post("/receipts", response_model=None, responses={200: {"model": CallbackAnswer}})
async def delivery_reports(request: Request, token: Token = "") -> Any:
    """Delivery reports (状态报告) the gateway pushes; repeats and late reports are taken once."""
    body = await _callback_body(request, token)
    state = runtime(request)
    reports = state.provider.receipts(body)
    taken = await asyncio.to_thread(_in_transaction, request, service.record_receipts, state.provider.name, reports)
    return state.provider.callback_answer() | {"accepted": taken}


@callbacks.post("/inbound", response_model=None, responses={200: {"model": CallbackAnswer}})
async def inbound_sms(request: Request, token: Token = "") -> Any:
    """Replies (上行短信) the gateway pushes: 回复TD退订 stops the number; keyword replies become events."""
    body = await _callback_body(request, token)
    state = runtime(request)
    replies = state.provider.replies(body)
    taken = await asyncio.to_thread(
        _in_transaction, request, service.record_replies, state.provider.name, replies, state.settings
    )
    return state.provider.callback_answer() | {"accepted": taken}
