"""County sampling of a township's batch (抽查): a random share drawn with a recorded seed, each re-checked."""

from __future__ import annotations

import math
import random
import secrets
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from services.identification.deps import County, Reader
from services.identification.models import Case, Sample, SampleCheck
from shared.auth import Principal
from shared.clock import session_clock
from shared.deps import ReadSessionDep, SessionDep
from shared.errors import Conflict
from shared.refusals import Refusal, Refused
from shared.scope import get_in_scope, require_region
from shared.workflow.template import Template

router = APIRouter(tags=["cases"])


class SampleCreate(BaseModel):
    kind: str = Field(pattern=r"^(recognition|exit|return)$")
    step: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$", description="the sampled county step the batch waits at")
    township_code: str = Field(pattern=r"^\d{9}$")
    year: int = Field(ge=2000, le=2100)
    rate: Decimal = Field(default=Decimal("0.05"), ge=Decimal("0.05"), le=1, max_digits=5, decimal_places=4)
    seed: int | None = Field(default=None, ge=0, le=2**53, description="recorded; drawn at random when absent")


class SamplePublic(BaseModel):
    id: str
    kind: str
    step: str
    township_code: str
    year: int
    rate: Decimal
    seed: int
    batch_case_ids: list[str]
    sampled_case_ids: list[str]
    drawn_by: str


class CheckCreate(BaseModel):
    case_id: str = Field(min_length=1, max_length=36)
    passed: bool
    note: str = Field(min_length=1, max_length=1000)


def draw(batch: list[str], *, rate: Decimal, seed: int) -> list[str]:
    """At least ``rate`` of the batch (and at least one), the same cases for the same seed."""
    size = min(len(batch), max(1, math.ceil(len(batch) * rate)))
    return sorted(random.Random(seed).sample(sorted(batch), size))


def draw_sample(session: Session, body: SampleCreate, principal: Principal) -> Sample:
    require_region(principal, body.township_code, field="township_code")
    batch = session.exec(
        select(Case.id, Case.template_id, Case.step_index).where(
            Case.kind == body.kind,
            Case.year == body.year,
            Case.status == "open",
            col(Case.region_code).startswith(body.township_code, autoescape=True),
        )
    ).all()
    from services.identification.models import WORKFLOW
    from shared.workflow import store

    at_step = [cid for cid, tid, index in batch if _step_key(store.get(session, WORKFLOW, tid), index) == body.step]
    if not at_step:
        raise Refused(
            Refusal("empty_batch", f"no {body.kind} case of {body.township_code} waits at {body.step}", "step")
        )
    seed = body.seed if body.seed is not None else secrets.randbelow(2**53)
    sample = Sample(
        kind=body.kind,
        step=body.step,
        township_code=body.township_code,
        region_code=body.township_code,
        year=body.year,
        rate=body.rate,
        seed=seed,
        batch_case_ids=sorted(at_step),
        sampled_case_ids=draw(at_step, rate=body.rate, seed=seed),
        drawn_by=principal.subject,
        drawn_at=session_clock(session).now(),
    )
    session.add(sample)
    session.flush()
    return sample


def _step_key(tpl: Template, index: int) -> str | None:
    return tpl.steps[index].key if index < len(tpl.steps) else None


def record_check(session: Session, sample_id: str, body: CheckCreate, principal: Principal) -> SampleCheck:
    sample = get_in_scope(session, Sample, sample_id, principal, what="sample")
    if body.case_id not in sample.sampled_case_ids:
        raise Refused(Refusal("not_sampled", "this case is not in the sample", "case_id"))
    if session.get(SampleCheck, (sample.id, body.case_id)) is not None:
        raise Conflict("this case was already re-checked", field="case_id")
    check = SampleCheck(
        sample_id=sample.id,
        case_id=body.case_id,
        passed=body.passed,
        note=body.note,
        checked_by=principal.subject,
        checked_at=session_clock(session).now(),
    )
    session.add(check)
    return check


@router.post("/samples", status_code=201, response_model=SamplePublic)
def create_sample(body: SampleCreate, session: SessionDep, principal: County) -> SamplePublic:
    """Draw the county's sample of a township's batch; every sampled case must pass a re-check first."""
    return SamplePublic.model_validate(draw_sample(session, body, principal).model_dump())


@router.get("/samples/{sample_id}", response_model=SamplePublic)
def get_sample(sample_id: str, session: ReadSessionDep, principal: Reader) -> SamplePublic:
    return SamplePublic.model_validate(get_in_scope(session, Sample, sample_id, principal, what="sample").model_dump())


@router.post("/samples/{sample_id}/checks", status_code=201)
def create_check(
    sample_id: Annotated[str, Path(max_length=36)], body: CheckCreate, session: SessionDep, principal: County
) -> dict[str, object]:
    """The re-check of one sampled case: passed, or failed with what is wrong (the batch then cannot pass)."""
    check = record_check(session, sample_id, body, principal)
    return {"sample_id": check.sample_id, "case_id": check.case_id, "passed": check.passed}
