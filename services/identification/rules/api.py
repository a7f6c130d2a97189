"""Rule sets (识别标准), evaluations and the village figures the county enters."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from services.identification.deps import County, Reader, RegistryDep
from services.identification.rules import service
from services.identification.rules.schemas import (
    EvaluationPublic,
    RuleSetCreate,
    RuleSetPublic,
    VillageExitRequest,
    VillageFigurePublic,
    VillageFigureSet,
)
from shared.deps import ReadSessionDep, SessionDep
from shared.pagination import Page, PageDep
from shared.scope import RegionParam

router = APIRouter(tags=["rules"])
Village = Annotated[str, Path(pattern=r"^\d{12}$")]


@router.post("/rule-sets", status_code=201, response_model=RuleSetPublic)
def create_rule_set(body: RuleSetCreate, session: SessionDep, principal: County) -> RuleSetPublic:
    """The next version of a jurisdiction's rule set for a year; every verdict names the version it used."""
    return RuleSetPublic.model_validate(service.create_rule_set(session, body, principal).model_dump())


@router.get("/rule-sets", response_model=Page[RuleSetPublic])
def list_rule_sets(
    session: ReadSessionDep,
    principal: Reader,
    page: PageDep,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> Page[RuleSetPublic]:
    rows, cursor = service.list_rule_sets(session, principal, year, page)
    return Page(items=[RuleSetPublic.model_validate(r.model_dump()) for r in rows], next_cursor=cursor)


@router.get("/rule-sets/{rule_set_id}", response_model=RuleSetPublic)
def get_rule_set(rule_set_id: str, session: ReadSessionDep, _: Reader) -> RuleSetPublic:
    return RuleSetPublic.model_validate(service.get_rule_set(session, rule_set_id).model_dump())


@router.get("/evaluations", response_model=Page[EvaluationPublic])
def list_evaluations(
    session: ReadSessionDep,
    principal: Reader,
    page: PageDep,
    region: RegionParam = None,
    case_id: Annotated[str | None, Query(max_length=36)] = None,
) -> Page[EvaluationPublic]:
    rows, cursor = service.list_evaluations(session, principal, case_id=case_id, region=region, page=page)
    return Page(items=[EvaluationPublic.model_validate(r.model_dump()) for r in rows], next_cursor=cursor)


@router.get("/evaluations/{evaluation_id}", response_model=EvaluationPublic)
def get_evaluation(evaluation_id: str, session: ReadSessionDep, principal: Reader) -> EvaluationPublic:
    """A verdict with every reason, the rule-set version and the registry snapshot it read."""
    return EvaluationPublic.model_validate(service.get_evaluation(session, evaluation_id, principal).model_dump())


@router.post("/evaluations/village-exit", status_code=201, response_model=EvaluationPublic)
def evaluate_village_exit(
    body: VillageExitRequest, session: SessionDep, principal: County, registry: RegistryDep
) -> EvaluationPublic:
    """贫困村出列 advice from the registry's poor population and the county's figures."""
    evaluation = service.evaluate_village_exit(session, body, principal, registry)
    return EvaluationPublic.model_validate(evaluation.model_dump())


@router.put("/villages/{region_code}/figures", response_model=VillageFigurePublic)
def set_village_figures(
    region_code: Village, body: VillageFigureSet, session: SessionDep, principal: County
) -> VillageFigurePublic:
    """The village's agricultural population and recognition quota for a year."""
    return VillageFigurePublic.model_validate(service.set_village_figures(session, region_code, body, principal))
