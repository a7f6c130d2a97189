"""Templates (流程模板) and cases (识别 / 退出 / 返贫 案件): parse, call one service function, return."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, FastAPI, Query
from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool

from services.identification.cases import service
from services.identification.cases.schemas import (
    CaseCreate,
    CaseKind,
    CaseNotePublic,
    CasePublic,
    SendBack,
    StepPublic,
    StepTake,
    TemplatePublic,
    TransitionPublic,
)
from services.identification.deps import County, Reader, RegistryDep, Staff
from services.identification.models import WORKFLOW, Case, CaseNote
from shared.deps import ReadSessionDep, SessionDep
from shared.idempotency import IdempotencyDep
from shared.pagination import Page, PageDep
from shared.scope import RegionParam
from shared.workflow import store
from shared.workflow.template import TemplateBody


@asynccontextmanager
async def load_templates(app: FastAPI) -> AsyncIterator[None]:
    """Built-in templates are data files, published at start when the database does not hold them yet."""
    await run_in_threadpool(service.load_builtin_templates, app.state.db)
    yield


router = APIRouter(tags=["cases"], lifespan=load_templates)
StepKey = Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9_]{0,39}$", description="held at this step")]


def case_public(session: Session, case: Case) -> CasePublic:
    tpl = store.get(session, WORKFLOW, case.template_id)
    nxt = tpl.steps[case.step_index] if case.status == "open" and case.step_index < len(tpl.steps) else None
    notes = session.exec(select(CaseNote).where(CaseNote.case_id == case.id).order_by(CaseNote.id)).all()
    return CasePublic.model_validate(
        case.model_dump()
        | {
            "next_step": StepPublic(key=nxt.key, label=nxt.label, roles=list(nxt.roles), level=nxt.level)
            if nxt
            else None,
            "notes": [CaseNotePublic.model_validate(n.model_dump()) for n in notes],
        }
    )


@router.get("/templates", response_model=Page[TemplatePublic])
def list_templates(
    session: ReadSessionDep,
    _: Reader,
    page: PageDep,
    code: Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9_]{0,39}$")] = None,
) -> Page[TemplatePublic]:
    """Every template version (built-in and published), oldest first."""
    items, cursor = service.list_templates(session, code, page)
    return Page(items=[TemplatePublic.model_validate(t.model_dump()) for t in items], next_cursor=cursor)


@router.post("/templates", status_code=201, response_model=TemplatePublic)
def publish_template(body: TemplateBody, session: SessionDep, principal: County) -> TemplatePublic:
    """Publish the next version of a template for a jurisdiction; running cases keep the version they began on."""
    return TemplatePublic.model_validate(service.publish_template(session, body, principal).model_dump())


@router.get("/templates/{template_id}", response_model=TemplatePublic)
def get_template(template_id: str, session: ReadSessionDep, _: Reader) -> TemplatePublic:
    return TemplatePublic.model_validate(service.get_template(session, template_id).model_dump())


@router.post("/cases", status_code=201, response_model=CasePublic)
def open_case(
    body: CaseCreate, session: SessionDep, principal: Staff, registry: RegistryDep, idempotency: IdempotencyDep
) -> CasePublic:
    """Open a recognition, exit or return case for a household on the template in force for its village."""
    return idempotency.run(session, lambda: case_public(session, service.open_case(session, body, principal, registry)))


@router.get("/cases", response_model=Page[CasePublic])
def list_cases(
    session: ReadSessionDep,
    principal: Reader,
    page: PageDep,
    region: RegionParam = None,
    kind: CaseKind | None = None,
    status: Annotated[str | None, Query(pattern=r"^(open|held|done|rejected)$")] = None,
    held_step: StepKey = None,
) -> Page[CasePublic]:
    """Cases in your region scope, oldest first."""
    rows, cursor = service.list_cases(
        session,
        principal,
        region=region,
        kind=kind.value if kind else None,
        status=status,
        step=held_step,
        page=page,
    )
    return Page(items=[case_public(session, c) for c in rows], next_cursor=cursor)


@router.get("/cases/{case_id}", response_model=CasePublic)
def get_case(case_id: str, session: ReadSessionDep, principal: Reader) -> CasePublic:
    return case_public(session, service.get_case(session, case_id, principal))


@router.post("/cases/{case_id}/steps", response_model=CasePublic)
def take_step(case_id: str, body: StepTake, session: SessionDep, principal: Staff, registry: RegistryDep) -> CasePublic:
    """Take the step due now with its evidence; a refusal names what is missing, out of order or not yours."""
    return case_public(session, service.take_step(session, case_id, body, principal, registry))


@router.get("/cases/{case_id}/steps", response_model=Page[TransitionPublic])
def case_history(case_id: str, session: ReadSessionDep, principal: Reader, page: PageDep) -> Page[TransitionPublic]:
    """Every transition of the case, oldest first: who, with which role, when, on what evidence."""
    rows, cursor = service.history(session, service.get_case(session, case_id, principal), page)
    return Page(items=[TransitionPublic.model_validate(t.__dict__) for t in rows], next_cursor=cursor)


@router.post("/cases/{case_id}/send-back", response_model=CasePublic)
def send_back(case_id: str, body: SendBack, session: SessionDep, principal: Staff) -> CasePublic:
    """Send the case back to an earlier step for re-review, with the reason (the due step's actor only)."""
    return case_public(session, service.send_back(session, case_id, body, principal))


@router.post("/cases/{case_id}/quota-acknowledgement", response_model=CasePublic)
def acknowledge_quota(case_id: str, session: SessionDep, principal: County) -> CasePublic:
    """A county officer acknowledges the village's over-quota warning so the case can pass the county."""
    return case_public(session, service.acknowledge_quota(session, case_id, principal))
