"""Public notices (公示) and objections (异议)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlmodel import Session

from services.identification.deps import Anyone, Reader, RegistryDep, Staff
from services.identification.models import Notice
from services.identification.notices import exports, service
from services.identification.notices.schemas import (
    NoticeCreate,
    NoticeEntryPublic,
    NoticePublic,
    ObjectionCreate,
    ObjectionPublic,
    Resolution,
)
from shared.deps import ReadSessionDep, SessionDep
from shared.files.mime import PDF, XLSX, attachment
from shared.pagination import Page, PageDep
from shared.scope import RegionParam

router = APIRouter(tags=["notices"])


def notice_public(session: Session, notice: Notice) -> NoticePublic:
    items = [NoticeEntryPublic.model_validate(e.model_dump()) for e in service.entries(session, notice.id)]
    return NoticePublic.model_validate(notice.model_dump() | {"entries": items})


@router.post("/notices", status_code=201, response_model=NoticePublic)
def open_notice(body: NoticeCreate, session: SessionDep, principal: Staff, registry: RegistryDep) -> NoticePublic:
    """Publish the names held at a notice step as the next list version; it ends by itself when its days pass."""
    return notice_public(session, service.open_notice(session, body, principal, registry))


@router.get("/notices", response_model=Page[NoticePublic])
def list_notices(
    session: ReadSessionDep,
    principal: Reader,
    page: PageDep,
    region: RegionParam = None,
    status: Annotated[str | None, Query(pattern=r"^(open|ended)$")] = None,
) -> Page[NoticePublic]:
    rows, cursor = service.list_notices(session, principal, region=region, status=status, page=page)
    return Page(items=[notice_public(session, n) for n in rows], next_cursor=cursor)


@router.get("/notices/{notice_id}", response_model=NoticePublic)
def get_notice(notice_id: str, session: ReadSessionDep, principal: Reader) -> NoticePublic:
    return notice_public(session, service.get_notice(session, notice_id, principal))


@router.get("/notices/{notice_id}/notice.pdf", response_class=Response, responses={200: {"content": {PDF: {}}}})
def notice_pdf(notice_id: str, session: ReadSessionDep, principal: Reader) -> Response:
    """The notice for the board as an A4 PDF: the names as published, IDs masked."""
    shown = service.board_of(session, notice_id, principal)
    return Response(exports.notice_pdf(shown), media_type=PDF, headers=attachment(f"{shown.title}.pdf"))


@router.get("/notices/{notice_id}/notice.xlsx", response_class=Response, responses={200: {"content": {XLSX: {}}}})
def notice_xlsx(notice_id: str, session: ReadSessionDep, principal: Reader) -> Response:
    """The same list as XLSX (numbers as numbers, text never read as a formula)."""
    shown = service.board_of(session, notice_id, principal)
    return Response(exports.notice_xlsx(shown), media_type=XLSX, headers=attachment(f"{shown.title}.xlsx"))


@router.post("/notices/{notice_id}/objections", status_code=201, response_model=ObjectionPublic)
def file_objection(notice_id: str, body: ObjectionCreate, session: SessionDep, principal: Anyone) -> ObjectionPublic:
    """An objection to one name while the notice runs (who, contact, what)."""
    return ObjectionPublic.model_validate(
        service.shown(service.file_objection(session, notice_id, body, principal), principal)
    )


@router.get("/notices/{notice_id}/objections", response_model=Page[ObjectionPublic])
def list_objections(notice_id: str, session: ReadSessionDep, principal: Reader, page: PageDep) -> Page[ObjectionPublic]:
    """Objections to the notice; the objector's contact is masked outside the county office."""
    rows, cursor = service.list_objections(session, notice_id, principal, page)
    return Page(items=[ObjectionPublic.model_validate(service.shown(o, principal)) for o in rows], next_cursor=cursor)


@router.post("/objections/{objection_id}/resolution", response_model=ObjectionPublic)
def resolve_objection(objection_id: str, body: Resolution, session: SessionDep, principal: Staff) -> ObjectionPublic:
    """Record the re-review's finding; the name may then take its step and be noticed again."""
    return ObjectionPublic.model_validate(
        service.shown(service.resolve(session, objection_id, body, principal), principal)
    )
