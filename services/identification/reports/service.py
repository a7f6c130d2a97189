"""Reports as of a date, inside the caller's region scope. Nothing here writes.

A case's state on a past day is rebuilt from its recorded transitions (the last one before the day ended). The
registered poor population comes from the registry as it stands today, with our own decisions taken after the
day undone (a household recognised later was not poor then; one that exited later still was).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Select, String, Subquery, and_, func, literal, union
from sqlalchemy import select as table_select
from sqlmodel import Session, col, select

from services.identification.models import (
    WORKFLOW,
    Case,
    Decision,
    Evaluation,
    ExitPlan,
    HouseholdFile,
    VillagePopulation,
)
from services.identification.registry import poor_households
from services.identification.reports.schemas import (
    AgainstAdvice,
    ExitRow,
    IncidenceRow,
    StepCount,
    StepSummary,
    WaitingCase,
)
from services.identification.rules.service import rule_set_for
from shared.auth import Principal
from shared.calls import ServiceClient
from shared.clock import SHANGHAI
from shared.pagination import PageParams, paginate
from shared.scope import in_scope, narrow
from shared.workflow import store
from shared.workflow.template import Template

STUCK_DAYS_DEFAULT = 30
FOUR_PLACES = Decimal("0.0001")


def end_of(day: date) -> datetime:
    """The first instant after ``day`` in business time: 'as of a day' includes all of it."""
    return datetime.combine(day + timedelta(days=1), time(0), SHANGHAI)


def _share(part: int, whole: int | None) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(FOUR_PLACES, rounding=ROUND_HALF_UP)


# -- incidence (贫困发生率) ---------------------------------------------------------------------------------------


def poor_as_of(session: Session, registry: ServiceClient, prefix: str, as_of: date) -> dict[str, tuple[str, int]]:
    """Poor households under ``prefix`` on ``as_of``: the registry's today, less our later decisions."""
    found = poor_households(registry, prefix)
    later = session.exec(
        select(Case, HouseholdFile)
        .join(HouseholdFile, col(HouseholdFile.household_id) == Case.household_id)
        .where(
            Case.status == "done",
            col(Case.closed_at) >= end_of(as_of),
            col(Case.region_code).startswith(prefix, autoescape=True),
        )
        .order_by(col(Case.closed_at).desc())
    ).all()
    for case, household in later:  # newest first, so the earliest decision after the day has the last word
        if case.kind == "exit":
            found[case.household_id] = (household.region_code, household.member_count)
        else:
            found.pop(case.household_id, None)
    return found


def _incidence_row(
    session: Session, *, code: str, level: str, as_of: date, villages: dict[str, int], poor: dict[str, tuple[str, int]]
) -> IncidenceRow:
    counted = [members for village, members in poor.values() if village in villages]
    population = sum(villages.values())
    incidence = _share(sum(counted), population)
    std = rule_set_for(session, code, as_of.year, required=False)
    threshold = Decimal(std.village_exit_incidence) if std else None
    return IncidenceRow(
        region_code=code,
        level=level,
        year=as_of.year,
        as_of=as_of,
        villages=len(villages),
        agricultural_population=population,
        poor_households=len(counted),
        poor_population=sum(counted),
        incidence=incidence,
        exit_threshold=threshold,
        below_threshold=None if incidence is None or threshold is None else incidence < threshold,
    )


def incidence_by_village(
    session: Session,
    principal: Principal,
    registry: ServiceClient,
    *,
    region: str | None,
    as_of: date,
    page: PageParams,
) -> tuple[list[IncidenceRow], str | None]:
    query = select(VillagePopulation).where(
        VillagePopulation.year == as_of.year, in_scope(VillagePopulation.region_code, principal, region)
    )
    rows, cursor = paginate(session, query, order=[VillagePopulation.region_code], page=page)
    out = [
        _incidence_row(
            session,
            code=row.region_code,
            level="village",
            as_of=as_of,
            villages={row.region_code: row.agricultural_population},
            poor=poor_as_of(session, registry, row.region_code, as_of),
        )
        for row in rows
    ]
    return out, cursor


def incidence_by_township(
    session: Session,
    principal: Principal,
    registry: ServiceClient,
    *,
    region: str | None,
    as_of: date,
    page: PageParams,
) -> tuple[list[IncidenceRow], str | None]:
    township = func.substr(VillagePopulation.region_code, 1, 9).label("township")
    query = (
        table_select(township)
        .where(col(VillagePopulation.year) == as_of.year, in_scope(VillagePopulation.region_code, principal, region))
        .group_by(township)
    )
    codes, cursor = paginate(session, query, order=[township], page=page, key=lambda r: [r.township])
    out = []
    for (code,) in codes:
        figures = session.exec(
            select(VillagePopulation).where(
                VillagePopulation.year == as_of.year,
                col(VillagePopulation.region_code).startswith(code, autoescape=True),
                in_scope(VillagePopulation.region_code, principal, region),
            )
        ).all()
        villages = {f.region_code: f.agricultural_population for f in figures}
        poor = poor_as_of(session, registry, narrow(code, narrow(principal.region, region)) or code, as_of)
        out.append(_incidence_row(session, code=code, level="township", as_of=as_of, villages=villages, poor=poor))
    return out, cursor


# -- cases by step, waiting, stuck ---------------------------------------------------------------------------------


def states_as_of(principal: Principal, *, region: str | None, kind: str | None, as_of: date) -> Subquery:
    """Every case opened by the end of ``as_of`` with where it stood then (step index, status, since when)."""
    t = WORKFLOW.transition
    boundary = end_of(as_of)
    last = (
        table_select(t.c.instance_id, func.max(t.c.seq).label("seq"))
        .where(t.c.at < boundary)
        .group_by(t.c.instance_id)
        .subquery("last_move")
    )
    move = t.alias("move")
    query = (
        table_select(
            col(Case.id),
            col(Case.kind),
            col(Case.household_id),
            col(Case.region_code),
            col(Case.year),
            col(Case.template_id),
            func.coalesce(move.c.to_index, 0).label("step_index"),
            func.coalesce(move.c.status_after, literal("open", String)).label("status"),
            move.c.step.label("last_step"),
            func.coalesce(move.c.at, Case.opened_at).label("since"),
        )
        .select_from(Case)
        .outerjoin(last, last.c.instance_id == Case.id)
        .outerjoin(move, move.c.seq == last.c.seq)
        .where(col(Case.opened_at) < boundary, in_scope(Case.region_code, principal, region))
    )
    if kind:
        query = query.where(col(Case.kind) == kind)
    return query.subquery("state")


class Templates:
    """Template versions read once per report."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.seen: dict[str, Template] = {}

    def step(self, template_id: str, index: int, status: str, last_step: str | None) -> tuple[str, str]:
        tpl = self.seen.get(template_id) or store.get(self.session, WORKFLOW, template_id)
        self.seen[template_id] = tpl
        if status == "held" and last_step:
            spec = next(s for s in tpl.steps if s.key == last_step)
        else:
            spec = tpl.steps[min(index, len(tpl.steps) - 1)]
        return spec.key, spec.label


def _waited(since: datetime, as_of: date) -> int:
    return max(0, (end_of(as_of) - since).days)


def cases_by_step(
    session: Session, principal: Principal, *, region: str | None, kind: str | None, as_of: date
) -> StepSummary:
    """Running cases per step and status on ``as_of``, and the longest any of them had waited there."""
    state = states_as_of(principal, region=region, kind=kind, as_of=as_of)
    grouped = session.execute(
        table_select(
            state.c.kind,
            state.c.template_id,
            state.c.step_index,
            state.c.status,
            state.c.last_step,
            func.count().label("cases"),
            func.min(state.c.since).label("oldest"),
        )
        .where(state.c.status.in_(("open", "held")))
        .group_by(state.c.kind, state.c.template_id, state.c.step_index, state.c.status, state.c.last_step)
    ).all()
    templates = Templates(session)
    merged: dict[tuple[str, str, str], list[Any]] = defaultdict(lambda: ["", 0, 0])
    for row in grouped:
        key, label = templates.step(row.template_id, row.step_index, row.status, row.last_step)
        entry = merged[(row.kind, key, row.status)]
        oldest = _waited(_aware(row.oldest), as_of)
        entry[0], entry[1], entry[2] = label, entry[1] + row.cases, max(entry[2], oldest)
    steps = [
        StepCount(kind=k, step=s, label=v[0], status=st, cases=v[1], longest_wait_days=v[2])
        for (k, s, st), v in sorted(merged.items())
    ]
    return StepSummary(as_of=as_of, steps=steps)


def _aware(value: Any) -> datetime:
    """An aggregate over an aware column comes back raw (SQLite: a naive UTC string or datetime)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(SHANGHAI)


def waiting_cases(
    session: Session,
    principal: Principal,
    *,
    region: str | None,
    kind: str | None,
    as_of: date,
    min_days: int,
    page: PageParams,
) -> tuple[list[WaitingCase], str | None]:
    """Each running case on ``as_of`` that had waited at its step at least ``min_days``, oldest case first."""
    state = states_as_of(principal, region=region, kind=kind, as_of=as_of)
    query: Select[Any] = table_select(state).where(
        and_(state.c.status.in_(("open", "held")), state.c.since <= end_of(as_of) - timedelta(days=min_days))
    )
    rows, cursor = paginate(session, query, order=[state.c.id], page=page)
    templates = Templates(session)
    out = []
    for row in rows:
        key, label = templates.step(row.template_id, row.step_index, row.status, row.last_step)
        since = _aware(row.since)
        out.append(
            WaitingCase(
                case_id=row.id,
                kind=row.kind,
                household_id=row.household_id,
                region_code=row.region_code,
                year=row.year,
                step=key,
                label=label,
                status=row.status,
                since=since,
                waited_days=_waited(since, as_of),
            )
        )
    return out, cursor


def stuck_days(session: Session, principal: Principal, region: str | None, year: int) -> int:
    """The rule set's stuck_after_days for the caller's region (or the requested one), else 30."""
    code = narrow(principal.region, region) or principal.region
    std = rule_set_for(session, code, year, required=False) if code else None
    return std.stuck_after_days if std else STUCK_DAYS_DEFAULT


# -- exits planned against done ------------------------------------------------------------------------------------


def exits(
    session: Session, principal: Principal, *, region: str | None, year: int, as_of: date, page: PageParams
) -> tuple[list[ExitRow], str | None]:
    """Per village: the county's exit plan for the year against the exit cases done by ``as_of``."""
    done = (
        col(Case.kind) == "exit",
        col(Case.status) == "done",
        col(Case.year) == year,
        col(Case.closed_at) < end_of(as_of),
    )
    villages = union(
        table_select(col(ExitPlan.region_code).label("village")).where(
            col(ExitPlan.year) == year, in_scope(ExitPlan.region_code, principal, region)
        ),
        table_select(col(Case.region_code).label("village")).where(
            *done, in_scope(Case.region_code, principal, region)
        ),
    ).subquery("village")
    codes, cursor = paginate(
        session, table_select(villages.c.village), order=[villages.c.village], page=page, key=lambda r: [r.village]
    )
    out = []
    for (code,) in codes:
        plan = session.get(ExitPlan, (code, year))
        people = session.exec(
            select(func.count(), func.coalesce(func.sum(HouseholdFile.member_count), 0))
            .select_from(Case)
            .join(HouseholdFile, col(HouseholdFile.household_id) == Case.household_id, isouter=True)
            .where(*done, Case.region_code == code)
        ).one()
        out.append(
            ExitRow(
                region_code=code,
                year=year,
                planned_households=plan.households if plan else None,
                planned_people=plan.people if plan else None,
                exited_households=people[0],
                exited_people=people[1],
                done_share=_share(people[0], plan.households if plan else None),
            )
        )
    return out, cursor


# -- decisions against the engine's advice -------------------------------------------------------------------------


def against_advice(
    session: Session, principal: Principal, *, region: str | None, as_of: date, page: PageParams
) -> tuple[list[AgainstAdvice], str | None]:
    query = (
        select(Decision, Case, Evaluation)
        .join(Case, col(Case.id) == Decision.case_id)
        .join(Evaluation, col(Evaluation.id) == Decision.evaluation_id, isouter=True)
        .where(
            Decision.against_advice,
            col(Decision.at) < end_of(as_of),
            in_scope(Decision.region_code, principal, region),
        )
    )
    rows, cursor = paginate(session, query, order=[Decision.id], page=page, key=lambda r: [r[0].id])
    return [
        AgainstAdvice(
            decision_id=d.id,
            case_id=d.case_id,
            household_id=c.household_id,
            region_code=d.region_code,
            kind=c.kind,
            step=d.step,
            advice=d.advice,
            decision=d.decision,
            justification=d.justification,
            rule_set_version=e.rule_set_version if e else None,
            actor=d.actor,
            at=d.at,
        )
        for d, c, e in rows
    ], cursor
