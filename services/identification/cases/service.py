"""Templates and cases: open, take a step, send back, acknowledge a quota warning. Nothing here commits."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, col, select

from services.identification.cases import events
from services.identification.cases.schemas import CaseCreate, SendBack, StepTake
from services.identification.models import (
    WORKFLOW,
    Attachment,
    Case,
    Decision,
    Evaluation,
    HouseholdFile,
    Objection,
    Sample,
    SampleCheck,
    VillageQuota,
)
from services.identification.rules import service as rules
from shared import audit
from shared.auth import Principal
from shared.calls import ServiceClient
from shared.clock import session_clock
from shared.db import Database
from shared.errors import Conflict
from shared.pagination import PageParams, paginate
from shared.refusals import Refusal, Refused
from shared.scope import get_in_scope, in_scope, require_region
from shared.workflow import engine, store, template
from shared.workflow.engine import Actor, Move, Progress, Status
from shared.workflow.template import StepSpec, Template, TemplateBody

BUILTIN = Path(__file__).resolve().parents[1] / "templates"
TEMPLATE_CODE = {"recognition": "recognition", "return": "return", "exit": "exit"}


def load_builtin_templates(db: Database) -> int:
    """Publish the built-in template files that are not in the database yet (at start; idempotent)."""
    published = 0
    with db.transaction() as session:
        now = session_clock(session).now()
        for body in template.load_dir(BUILTIN):
            published += store.ensure(session, WORKFLOW, body, actor="builtin", now=now)
    return published


def publish_template(session: Session, body: TemplateBody, principal: Principal) -> Template:
    require_region(principal, body.jurisdiction, field="jurisdiction")
    now = session_clock(session).now()
    published = store.publish(session, WORKFLOW, body, actor=principal.subject, now=now)
    audit.record(
        session,
        actor=principal.subject,
        action="template.published",
        resource=f"template/{published.id}",
        detail={"code": published.code, "version": published.version},
    )
    return published


def list_templates(session: Session, code: str | None, page: PageParams) -> tuple[list[Template], str | None]:
    return store.templates_page(session, WORKFLOW, page, code=code)


def get_template(session: Session, template_id: str) -> Template:
    return store.get(session, WORKFLOW, template_id)


def _household(session: Session, household_id: str, principal: Principal, registry: ServiceClient) -> HouseholdFile:
    found = session.get(HouseholdFile, household_id)
    if found is None:
        found = rules.household_file_from_registry(session, household_id, registry)
    require_region(principal, found.region_code, field="household_id")
    return found


def open_case(session: Session, body: CaseCreate, principal: Principal, registry: ServiceClient) -> Case:
    """Open a case on the template version in force for the household's village today."""
    household = _household(session, body.household_id, principal, registry)
    clock = session_clock(session)
    year = body.year or clock.today().year
    kind = body.kind.value
    running = session.exec(
        select(Case).where(Case.household_id == household.household_id, col(Case.status).in_(("open", "held")))
    ).first()
    if running is not None:
        raise Conflict(f"household already has an open {running.kind} case {running.id}", field="household_id")
    if kind == "exit":
        refuse_same_year_exit(session, household.household_id, year)
    versions = store.of_code(session, WORKFLOW, TEMPLATE_CODE[kind])
    chosen = template.select(versions, code=TEMPLATE_CODE[kind], region_code=household.region_code, on=clock.today())
    if chosen is None:
        raise Refused(Refusal("no_template", f"no {kind} template is in force for {household.region_code}", "kind"))
    now = clock.now()
    case = Case(
        kind=kind,
        household_id=household.household_id,
        region_code=household.region_code,
        year=year,
        template_id=chosen.id,
        template_version=chosen.version,
        opened_by=principal.subject,
        opened_at=now,
        moved_at=now,
    )
    session.add(case)
    session.flush()
    return case


def refuse_same_year_exit(session: Session, household_id: str, year: int) -> None:
    """三不出-3: a household recognised or returned this year cannot exit this year."""
    recognised = session.exec(
        select(Case.id).where(
            Case.household_id == household_id,
            col(Case.kind).in_(("recognition", "return")),
            Case.status == "done",
            Case.year == year,
        )
    ).first()
    if recognised is not None:
        raise Refused(Refusal("三不出-3", f"当年新识别或返贫的贫困户不能当年退出 (case {recognised}, {year})", "year"))


def get_case(session: Session, case_id: str, principal: Principal) -> Case:
    return get_in_scope(session, Case, case_id, principal, what="case")


def list_cases(
    session: Session,
    principal: Principal,
    *,
    region: str | None,
    kind: str | None,
    status: str | None,
    step: str | None,
    page: PageParams,
) -> tuple[list[Case], str | None]:
    query = select(Case).where(in_scope(Case.region_code, principal, region))
    if kind:
        query = query.where(Case.kind == kind)
    if status:
        query = query.where(Case.status == status)
    if step:
        query = query.where(Case.held_step == step)
    return paginate(session, query, order=[Case.id], page=page)


def progress_of(case: Case) -> Progress:
    return Progress(case.step_index, Status(case.status), case.held_step)


def actor_of(principal: Principal) -> Actor:
    return Actor(subject=principal.subject, roles=principal.roles, region=principal.region)


def _extra_refusals(session: Session, case: Case, spec: StepSpec, body: StepTake) -> Iterator[Refusal]:
    for attachment_id in engine.attachment_ids(spec, body.evidence):
        found = session.get(Attachment, attachment_id)
        if found is None or found.case_id != case.id:
            yield Refusal("attachment_unknown", f"attachment {attachment_id} is not one of this case's", "evidence")
    if spec.notice is not None and unresolved_objections(session, case.id):
        yield Refusal(
            "objection_unresolved", "an objection to this name needs a recorded resolution first", "objections"
        )
    if "quota_ack" in spec.tags and case.quota_warning and not case.quota_acknowledged_by:
        yield Refusal(
            "quota_unacknowledged",
            f"quota warning needs a county officer's acknowledgement: {case.quota_warning}",
            "quota",
        )
    if "sampled" in spec.tags:
        yield from _sampling_refusals(session, case, spec)
    if "decides" in spec.tags:
        yield from _advice_refusals(session, case, body)


def unresolved_objections(session: Session, case_id: str) -> list[Objection]:
    return list(
        session.exec(select(Objection).where(Objection.case_id == case_id, col(Objection.resolved_at).is_(None)))
    )


def _sampling_refusals(session: Session, case: Case, spec: StepSpec) -> Iterator[Refusal]:
    samples = session.exec(
        select(Sample).where(
            Sample.township_code == case.region_code[:9], Sample.step == spec.key, Sample.kind == case.kind
        )
    ).all()
    sample = next((s for s in samples if case.id in s.batch_case_ids), None)
    if sample is None:
        yield Refusal("sample_missing", "the county must draw a sample of this township's batch first", "sample")
        return
    checks = {c.case_id: c for c in session.exec(select(SampleCheck).where(SampleCheck.sample_id == sample.id))}
    unchecked = [c for c in sample.sampled_case_ids if c not in checks]
    failed = [c for c, check in checks.items() if not check.passed]
    if unchecked:
        yield Refusal("sample_unchecked", f"sampled cases not re-checked yet: {', '.join(unchecked)}", "sample")
    if failed:
        yield Refusal(
            "sample_failed", f"the township's sample failed its re-check ({', '.join(failed)}): rectify first", "sample"
        )


def latest_evaluation(session: Session, case_id: str) -> Evaluation | None:
    return session.exec(
        select(Evaluation).where(Evaluation.case_id == case_id).order_by(col(Evaluation.id).desc())
    ).first()


def _advice_refusals(session: Session, case: Case, body: StepTake) -> Iterator[Refusal]:
    evaluation = latest_evaluation(session, case.id)
    if evaluation is None or evaluation.verdict == "undecided":
        return
    against = (evaluation.verdict == "qualifies") == body.reject
    if against and not (body.justification or "").strip():
        yield Refusal(
            "justification_missing",
            f"the rules advise {evaluation.verdict} (rule set v{evaluation.rule_set_version}); "
            "deciding otherwise needs a written justification",
            "justification",
        )


def take_step(session: Session, case_id: str, body: StepTake, principal: Principal, registry: ServiceClient) -> Case:
    """Take the step due now, on its evidence; evaluates, warns on quota and decides where the template says."""
    case = get_case(session, case_id, principal)
    tpl = store.get(session, WORKFLOW, case.template_id)
    spec = engine.step_of(tpl, body.step)
    move = engine.take(
        tpl,
        progress_of(case),
        step=body.step,
        actor=actor_of(principal),
        region_code=case.region_code,
        evidence=body.evidence,
        reject=body.reject,
        comment=body.comment,
        refusals=list(_extra_refusals(session, case, spec, body)),
    )
    if spec.evaluates:
        rules.evaluate_case(session, case, answers=_answers(body.evidence), actor=principal.subject, registry=registry)
    if "decides" in spec.tags:
        _record_decision(session, case, spec, body, principal)
    apply_move(session, case, move, actor=principal.subject)
    if "quota" in spec.tags and move.after.status is not Status.rejected:
        case.quota_warning = quota_warning(session, case)
    return case


def _answers(evidence: dict[str, object]) -> dict[str, object]:
    survey = evidence.get("survey")
    return dict(survey) if isinstance(survey, dict) else {}


def _record_decision(session: Session, case: Case, spec: StepSpec, body: StepTake, principal: Principal) -> None:
    evaluation = latest_evaluation(session, case.id)
    advice = evaluation.verdict if evaluation else None
    decision = "reject" if body.reject else "pass"
    against = advice in ("qualifies", "excluded") and (advice == "qualifies") == body.reject
    session.add(
        Decision(
            case_id=case.id,
            region_code=case.region_code,
            step=spec.key,
            decision=decision,
            evaluation_id=evaluation.id if evaluation else None,
            advice=advice,
            against_advice=against,
            justification=body.justification,
            actor=principal.subject,
            at=session_clock(session).now(),
        )
    )
    audit.record(
        session,
        actor=principal.subject,
        action=f"case.{decision}",
        resource=f"case/{case.id}",
        detail={"step": spec.key, "advice": advice, "against_advice": against},
    )


def apply_move(session: Session, case: Case, move: Move, *, actor: str) -> None:
    """Keep the move: the case's progress, the transition, case.advanced, and the decision when it closes."""
    now = session_clock(session).now()
    case.step_index, case.status, case.held_step = move.after.step_index, move.after.status.value, move.after.held_step
    case.moved_at = now
    store.record(session, WORKFLOW, instance_id=case.id, move=move, actor=actor, now=now)
    events.case_advanced(
        session, case, step=move.step, action=move.action.value, actor_role=move.role.value if move.role else "system"
    )
    if move.after.status in (Status.done, Status.rejected):
        case.closed_at = now
        case.outcome = {"done": {"exit": "exited"}.get(case.kind, "approved"), "rejected": "rejected"}[case.status]
        events.case_closed(session, case)
    session.add(case)


def send_back(session: Session, case_id: str, body: SendBack, principal: Principal) -> Case:
    case = get_case(session, case_id, principal)
    tpl = store.get(session, WORKFLOW, case.template_id)
    move = engine.send_back(
        tpl,
        progress_of(case),
        to_step=body.to_step,
        actor=actor_of(principal),
        region_code=case.region_code,
        reason=body.reason,
    )
    apply_move(session, case, move, actor=principal.subject)
    return case


def quota_warning(session: Session, case: Case) -> str | None:
    """Recognitions of the village this year beyond its quota plus the float (规模控制): a warning, not a block."""
    if case.kind == "exit":
        return None
    quota = session.get(VillageQuota, (case.region_code, case.year))
    if quota is None:
        return None
    std = rules.rule_set_for(session, case.region_code, case.year, required=False)
    allowed = int(quota.households * (1 + (std.quota_float if std else 0)))
    counted = session.exec(
        select(func.count())
        .select_from(Case)
        .where(
            Case.region_code == case.region_code,
            Case.year == case.year,
            col(Case.kind).in_(("recognition", "return")),
            Case.status != "rejected",
            Case.step_index >= case.step_index,
        )
    ).one()
    if counted <= allowed:
        return None
    return (
        f"village {case.region_code} has {counted} recognitions in {case.year}, "
        f"above its quota {quota.households} (with the float: {allowed})"
    )


def acknowledge_quota(session: Session, case_id: str, principal: Principal) -> Case:
    case = get_case(session, case_id, principal)
    if not case.quota_warning:
        raise Conflict("this case carries no quota warning", field="case_id")
    case.quota_acknowledged_by = principal.subject
    case.quota_acknowledged_at = session_clock(session).now()
    audit.record(
        session,
        actor=principal.subject,
        action="quota.acknowledged",
        resource=f"case/{case.id}",
        detail={"warning": case.quota_warning},
    )
    session.add(case)
    return case


def history(session: Session, case: Case, page: PageParams) -> tuple[list[store.Transition], str | None]:
    return store.history_page(session, WORKFLOW, case.id, page)
