"""Rule sets, evaluations on registry facts (read over REST, kept as a snapshot), village figures."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from services.identification.domain.facts import from_snapshot, stable_above, with_answers
from services.identification.domain.rules import Advice, Standard, entry_advice, exit_advice, village_exit_advice
from services.identification.models import (
    Case,
    Evaluation,
    ExitPlan,
    HouseholdFile,
    RuleSet,
    VillagePopulation,
    VillageQuota,
)
from services.identification.registry import poor_households
from services.identification.rules.schemas import RuleSetCreate, VillageExitRequest, VillageFigureSet
from shared.auth import Principal
from shared.calls import ServiceClient
from shared.clock import session_clock
from shared.masking import mask_phone, mask_resident_id
from shared.pagination import PageParams, paginate
from shared.refusals import Refusal, Refused
from shared.scope import get_in_scope, in_scope, require_region


def create_rule_set(session: Session, body: RuleSetCreate, principal: Principal) -> RuleSet:
    """The next version of the jurisdiction's rule set for the year; earlier verdicts keep naming theirs."""
    require_region(principal, body.jurisdiction, field="jurisdiction")
    last = session.exec(
        select(func.max(RuleSet.version)).where(RuleSet.jurisdiction == body.jurisdiction, RuleSet.year == body.year)
    ).one()
    data = body.model_dump()
    data["village_exit_conditions"] = [c.model_dump() for c in body.village_exit_conditions]
    data["poverty_line"], data["local_average_income"] = body.poverty_line, body.local_average_income
    rule_set = RuleSet(
        **data, version=(last or 0) + 1, created_by=principal.subject, created_at=session_clock(session).now()
    )
    session.add(rule_set)
    session.flush()
    return rule_set


def list_rule_sets(
    session: Session, principal: Principal, year: int | None, page: PageParams
) -> tuple[list[RuleSet], str | None]:
    # A rule set governs a prefix: the caller sees those of its own region and the wider ones above it.
    prefixes = [principal.region[:n] for n in range(0, len(principal.region) + 1)]
    query = select(RuleSet).where(col(RuleSet.jurisdiction).in_(prefixes) | in_scope(RuleSet.jurisdiction, principal))
    if year:
        query = query.where(RuleSet.year == year)
    return paginate(session, query, order=[RuleSet.id], page=page)


def get_rule_set(session: Session, rule_set_id: str) -> RuleSet:
    from shared.errors import NotFound

    found = session.get(RuleSet, rule_set_id)
    if found is None:
        raise NotFound(f"no rule set {rule_set_id}")
    return found


def rule_set_for(session: Session, region_code: str, year: int, *, required: bool = True) -> RuleSet | None:
    """The newest version of the narrowest rule set governing ``region_code`` in ``year``."""
    prefixes = [region_code[:n] for n in range(2, len(region_code) + 1)]
    candidates = session.exec(
        select(RuleSet).where(RuleSet.year == year, col(RuleSet.jurisdiction).in_(prefixes))
    ).all()
    if not candidates:
        if required:
            raise Refused(Refusal("no_rule_set", f"no rule set governs {region_code} in {year}", "rule_set"))
        return None
    return max(candidates, key=lambda r: (len(r.jurisdiction), r.version))


def standard(rule_set: RuleSet) -> Standard:
    return Standard(
        poverty_line=Decimal(rule_set.poverty_line),
        local_average_income=Decimal(rule_set.local_average_income),
        new_house_cutoff_year=rule_set.new_house_cutoff_year,
        village_exit_incidence=Decimal(rule_set.village_exit_incidence),
        village_exit_conditions=tuple((c["code"], c["label"]) for c in rule_set.village_exit_conditions),
    )


def _masked(household: dict[str, Any]) -> dict[str, Any]:
    """The snapshot kept for explanation years later: whole facts, but no whole ID or phone numbers."""
    members = [
        m | {"id_number": mask_resident_id(m.get("id_number")), "phone": mask_phone(m.get("phone"))}
        for m in household.get("members", [])
    ]
    return household | {"members": members}


def read_registry(
    registry: ServiceClient, household_id: str, as_of: date
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    household = registry.get_json(f"/households/{household_id}", params={"as_of": as_of.isoformat()})
    incomes = list(registry.items(f"/households/{household_id}/incomes"))
    return household, incomes


def household_file_from_registry(session: Session, household_id: str, registry: ServiceClient) -> HouseholdFile:
    """A household the events have not brought yet: read it from the registry and keep the read copy."""
    from shared.calls import CallRefused
    from shared.errors import NotFound

    try:
        data = registry.get_json(f"/households/{household_id}")
    except CallRefused as exc:
        if exc.status == 404:
            raise NotFound(f"the registry knows no household {household_id}", field="household_id") from exc
        raise
    row = HouseholdFile(
        household_id=data["id"],
        region_code=data["region_code"],
        head_member_id=data["head_member_id"],
        member_count=data["member_count"],
        registry_version=data["version"],
        source_event_id="rest",
        received_at=session_clock(session).now(),
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        # household.registered arrived while we read: the consumer's copy is as good as ours.
        found = session.get(HouseholdFile, household_id)
        assert found is not None
        return found
    return row


def evaluate_case(
    session: Session, case: Case, *, answers: dict[str, Any], actor: str, registry: ServiceClient
) -> Evaluation:
    """Read the household as of today from the registry, apply the rule set in force, keep verdict and snapshot."""
    rule_set = rule_set_for(session, case.region_code, case.year)
    assert rule_set is not None
    std = standard(rule_set)
    today = session_clock(session).today()
    household, incomes = read_registry(registry, case.household_id, today)
    facts = with_answers(from_snapshot(household, incomes, year=case.year), answers)
    if case.kind == "exit":
        facts = _own_years(session, case, facts)
        advice = exit_advice(stable_above(facts, std.poverty_line), std, year=case.year)
    else:
        advice = entry_advice(facts, std)
    snapshot = {"household": _masked(household), "incomes": incomes, "answers": answers, "facts": _plain(asdict(facts))}
    return _keep(
        session,
        advice,
        kind="exit" if case.kind == "exit" else "entry",
        case=case,
        rule_set=rule_set,
        as_of=today,
        snapshot=snapshot,
        actor=actor,
    )


def _own_years(session: Session, case: Case, facts: Any) -> Any:
    """Our own decisions count for 三不出-3 even before the registry has caught up."""
    from dataclasses import replace

    done = session.exec(
        select(Case).where(
            Case.household_id == case.household_id, Case.status == "done", col(Case.kind).in_(("recognition", "return"))
        )
    ).all()
    years = {c.kind: c.year for c in done}
    return replace(
        facts,
        identified_year=max(filter(None, [facts.identified_year, years.get("recognition")]), default=None),
        returned_year=max(filter(None, [facts.returned_year, years.get("return")]), default=None),
    )


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, Decimal):
        return str(value)
    return value


def _keep(
    session: Session,
    advice: Advice,
    *,
    kind: str,
    case: Case | None,
    rule_set: RuleSet,
    as_of: date,
    snapshot: dict[str, Any],
    actor: str,
    region_code: str | None = None,
) -> Evaluation:
    reasons = [_plain(asdict(r)) | {"outcome": r.outcome.value} for r in advice.reasons]
    evaluation = Evaluation(
        kind=kind,
        case_id=case.id if case else None,
        household_id=case.household_id if case else None,
        region_code=region_code or (case.region_code if case else ""),
        rule_set_id=rule_set.id,
        rule_set_version=rule_set.version,
        as_of=as_of,
        verdict=advice.verdict.value,
        reasons=reasons,
        snapshot=snapshot,
        evaluated_by=actor,
        evaluated_at=session_clock(session).now(),
    )
    session.add(evaluation)
    session.flush()
    return evaluation


def poor_population(registry: ServiceClient, village: str) -> tuple[int, int]:
    """Registered poor people (贫困户 and 返贫户) of a village, and their households."""
    found = poor_households(registry, village)
    return sum(members for _, members in found.values()), len(found)


def evaluate_village_exit(
    session: Session, body: VillageExitRequest, principal: Principal, registry: ServiceClient
) -> Evaluation:
    """贫困村出列: incidence from the registry's poor population over the county's figure, plus the conditions."""
    require_region(principal, body.region_code)
    rule_set = rule_set_for(session, body.region_code, body.year)
    assert rule_set is not None
    figure = session.get(VillagePopulation, (body.region_code, body.year))
    if figure is None:
        raise Refused(
            Refusal(
                "population_missing",
                f"enter the agricultural population of {body.region_code} for {body.year} first",
                "region_code",
            )
        )
    people, households = poor_population(registry, body.region_code)
    advice = village_exit_advice(
        poor_population=people,
        agricultural_population=figure.agricultural_population,
        conditions=body.conditions,
        std=standard(rule_set),
    )
    snapshot = {
        "poor_population": people,
        "poor_households": households,
        "agricultural_population": figure.agricultural_population,
        "conditions": body.conditions,
    }
    return _keep(
        session,
        advice,
        kind="village_exit",
        case=None,
        rule_set=rule_set,
        as_of=session_clock(session).today(),
        snapshot=snapshot,
        actor=principal.subject,
        region_code=body.region_code,
    )


def get_evaluation(session: Session, evaluation_id: str, principal: Principal) -> Evaluation:
    return get_in_scope(session, Evaluation, evaluation_id, principal, what="evaluation")


def list_evaluations(
    session: Session, principal: Principal, *, case_id: str | None, region: str | None, page: PageParams
) -> tuple[list[Evaluation], str | None]:
    query = select(Evaluation).where(in_scope(Evaluation.region_code, principal, region))
    if case_id:
        query = query.where(Evaluation.case_id == case_id)
    return paginate(session, query, order=[Evaluation.id], page=page)


def set_village_figures(session: Session, village: str, body: VillageFigureSet, principal: Principal) -> dict[str, Any]:
    require_region(principal, village)
    now = session_clock(session).now()
    if body.agricultural_population is not None:
        row = session.get(VillagePopulation, (village, body.year)) or VillagePopulation(
            region_code=village, year=body.year, agricultural_population=0, set_by=principal.subject, set_at=now
        )
        row.agricultural_population, row.set_by, row.set_at = body.agricultural_population, principal.subject, now
        session.add(row)
    if body.quota_households is not None:
        quota = session.get(VillageQuota, (village, body.year)) or VillageQuota(
            region_code=village, year=body.year, households=0, set_by=principal.subject, set_at=now
        )
        quota.households, quota.set_by, quota.set_at = body.quota_households, principal.subject, now
        session.add(quota)
    if body.planned_exit_households is not None or body.planned_exit_people is not None:
        plan = session.get(ExitPlan, (village, body.year)) or ExitPlan(
            region_code=village, year=body.year, households=0, people=0, set_by=principal.subject, set_at=now
        )
        plan.households = _given(body.planned_exit_households, plan.households)
        plan.people = _given(body.planned_exit_people, plan.people)
        plan.set_by, plan.set_at = principal.subject, now
        session.add(plan)
    session.flush()
    return village_figures(session, village, body.year)


def village_figures(session: Session, village: str, year: int) -> dict[str, Any]:
    population = session.get(VillagePopulation, (village, year))
    quota = session.get(VillageQuota, (village, year))
    plan = session.get(ExitPlan, (village, year))
    return {
        "region_code": village,
        "year": year,
        "agricultural_population": population.agricultural_population if population else None,
        "quota_households": quota.households if quota else None,
        "planned_exit_households": plan.households if plan else None,
        "planned_exit_people": plan.people if plan else None,
    }


def _given(value: int | None, current: int) -> int:
    return current if value is None else value
