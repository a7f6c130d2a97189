"""Project approval (项目审批) on the shared workflow engine: a template per jurisdiction, each step recorded.

The default template (``templates/project_approval.yaml``) is 户申请 → 村审核 (with the village's public notice)
→ 乡镇审查 → 县审批. Taking the step tagged ``approve`` checks the share rules and approves the project.

A notice runs its whole period (公示期, working days as the template says); nobody ends it early. The periodic
job ``project-notices`` ends each one once its period is over: the project goes on, or back to the noticed step
for re-review if an objection was raised during that notice.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from services.funds import projects
from services.funds.domain.notices import notice_days, notice_end
from services.funds.models import WORKFLOW, Project, ProjectObjection
from services.funds.schemas import ObjectionCreate, ProjectCreate, SendBack, StepTake
from shared import audit
from shared.auth import Principal
from shared.clock import session_clock
from shared.db import Database
from shared.errors import Conflict
from shared.jobs import PeriodicJob
from shared.pagination import PageParams, paginate
from shared.scope import require_region
from shared.workflow import engine, store, template
from shared.workflow.engine import Actor, Move, Progress, Status
from shared.workflow.template import Template, TemplateBody

CODE = "project_approval"
APPROVE_TAG = "approve"
NOTICE_ACTOR = "system:notice-period"
BUILTIN = Path(__file__).parent / "templates"


def load_builtin_templates(db: Database) -> int:
    """Publish the built-in template files the database does not hold yet (at start; idempotent)."""
    published = 0
    try:
        with db.transaction() as session:
            now = session_clock(session).now()
            for body in template.load_dir(BUILTIN):
                published += store.ensure(session, WORKFLOW, body, actor="builtin", now=now)
    except IntegrityError:  # another replica published the same version first
        return 0
    return published


def publish_template(session: Session, body: TemplateBody, principal: Principal) -> Template:
    """A jurisdiction's own variant (e.g. a public notice at the township, 区审批 instead of 县审批)."""
    if body.code != CODE:
        raise Conflict(f"funds runs the {CODE} template only", field="code")
    require_region(principal, body.jurisdiction, field="jurisdiction")
    published = store.publish(session, WORKFLOW, body, actor=principal.subject, now=session_clock(session).now())
    audit.record(
        session,
        actor=principal.subject,
        action="template.published",
        resource=f"template/{published.id}",
        detail={"code": body.code, "jurisdiction": body.jurisdiction, "version": published.version},
    )
    return published


def create(session: Session, body: ProjectCreate, principal: Principal) -> Project:
    """A project in the project bank (项目库), on the approval template governing its region today."""
    project = projects.create_project(session, body, principal)
    start(session, project)
    return project


def start(session: Session, project: Project) -> None:
    versions = store.of_code(session, WORKFLOW, CODE)
    chosen = template.select(versions, code=CODE, region_code=project.region_code, on=session_clock(session).today())
    if chosen is None:
        raise Conflict("no project approval template governs this region", field="region_code")
    project.template_id = chosen.id


def _progress(project: Project) -> Progress:
    return Progress(project.step_index, Status(project.workflow_status), project.held_step)


def _template_of(session: Session, project: Project) -> Template:
    assert project.template_id is not None
    return store.get(session, WORKFLOW, project.template_id)


def _apply(session: Session, project: Project, move: Move, actor: str) -> None:
    now = session_clock(session).now()
    store.record(session, WORKFLOW, instance_id=project.id, move=move, actor=actor, now=now)
    project.step_index, project.workflow_status = move.after.step_index, move.after.status.value
    project.held_step = move.after.held_step
    if move.after.status is Status.held and move.before.status is not Status.held:
        spec = engine.step_of(_template_of(session, project), move.step).notice
        assert spec is not None
        project.notice_started_at = now
        project.notice_ends_at = notice_end(now, notice_days(spec.level.value, spec.days))
    elif move.after.status is not Status.held:
        project.notice_started_at = project.notice_ends_at = None
    if move.after.status is Status.rejected:
        project.status = "rejected"
    session.add(project)
    audit.record(
        session,
        actor=actor,
        action=f"project.step.{move.action.value}",
        resource=f"project/{project.id}",
        detail={
            "step": move.step,
            "role": move.role.value if move.role else None,
            "evidence": move.evidence,
            "comment": move.comment,
            "after": move.after.status.value,
        },
    )


def take(session: Session, project: Project, body: StepTake, principal: Principal) -> list[object]:
    """Take the next step; the ``approve`` step checks the share rules and approves. The warnings it recorded."""
    tpl = _template_of(session, project)
    spec = engine.step_of(tpl, body.step)
    approving = APPROVE_TAG in spec.tags and not body.reject
    warnings = projects.share_warnings(session, project) if approving else []
    refusals = (
        projects.approval_refusals(session, project, warnings, acknowledged=body.acknowledge_warnings)
        if (approving)
        else []
    )
    actor = Actor(principal.subject, principal.roles, principal.region)
    move = engine.take(
        tpl,
        _progress(project),
        step=body.step,
        actor=actor,
        region_code=project.region_code,
        evidence=body.evidence,
        reject=body.reject,
        comment=body.comment,
        refusals=refusals,
    )
    _apply(session, project, move, principal.subject)
    if approving:
        projects.mark_approved(session, project, warnings, principal, note=body.comment)
    return list(warnings)


def send_back(session: Session, project: Project, body: SendBack, principal: Principal) -> None:
    actor = Actor(principal.subject, principal.roles, principal.region)
    move = engine.send_back(
        _template_of(session, project),
        _progress(project),
        to_step=body.to_step,
        actor=actor,
        region_code=project.region_code,
        reason=body.reason,
    )
    _apply(session, project, move, principal.subject)


def file_objection(session: Session, project: Project, body: ObjectionCreate, principal: Principal) -> ProjectObjection:
    """An objection raised while the notice runs; at the period's end it sends the project back for re-review."""
    session.refresh(project, with_for_update=True)  # the job ending this notice waits, or this sees it ended
    now = session_clock(session).now()
    if project.held_step is None or project.notice_ends_at is None or project.status != "bank":
        raise Conflict("no public notice of this project is running", field="project_id")
    if now >= project.notice_ends_at:
        raise Conflict(f"the notice ended at {project.notice_ends_at.isoformat()}", field="project_id")
    objection = ProjectObjection(
        project_id=project.id,
        region_code=project.region_code,
        step=project.held_step,
        notice_ends_at=project.notice_ends_at,
        objector=body.objector,
        content=body.content,
        filed_by=principal.subject,
        filed_at=now,
    )
    session.add(objection)
    session.flush()
    audit.record(
        session,
        actor=principal.subject,
        action="project.objection",
        resource=f"project/{project.id}",
        detail={"objection_id": objection.id, "step": objection.step, "objector": objection.objector},
    )
    return objection


def objections(session: Session, project: Project, page: PageParams) -> tuple[list[ProjectObjection], str | None]:
    query = select(ProjectObjection).where(ProjectObjection.project_id == project.id)
    return paginate(session, query, order=[col(ProjectObjection.id)], page=page)


def _objections_to(session: Session, project: Project) -> list[ProjectObjection]:
    """The objections raised during the project's running notice (an earlier notice's do not count again)."""
    query = select(ProjectObjection).where(
        ProjectObjection.project_id == project.id, ProjectObjection.notice_ends_at == project.notice_ends_at
    )
    return list(session.exec(query.order_by(col(ProjectObjection.id))))


def end_notice(session: Session, project: Project) -> None:
    """The notice's period is over (公示期满): on to the next step, or back to re-review after an objection."""
    raised = _objections_to(session, project)
    move = engine.end_notice(_template_of(session, project), _progress(project), objected=bool(raised))
    note = "；".join(f"{o.objector}：{o.content}" for o in raised) if raised else "公示期满无异议"
    _apply(session, project, Move(move.action, move.step, move.before, move.after, None, {}, note[:1000]), NOTICE_ACTOR)


def end_due_notices(session: Session, day: date) -> str:
    """The periodic job: every project notice whose period is over by now ends (a re-run finds nothing left).

    ``day`` is the runner's period; the cut-off is the clock's now, so a re-run of a past day never ends a
    notice early and ends only what a missed run left."""
    now = session_clock(session).now()
    query = select(Project).where(
        Project.status == "bank",  # a project cancelled during its notice keeps it as it stood
        Project.workflow_status == Status.held.value,
        col(Project.notice_ends_at).is_not(None),
        col(Project.notice_ends_at) <= now,
    )
    due = list(session.exec(query.order_by(col(Project.id)).with_for_update()))
    for project in due:
        end_notice(session, project)
    return f"ended {len(due)} project notice(s)"


NOTICE_JOB = PeriodicJob(
    name="project-notices",
    run=end_due_notices,
    every=timedelta(minutes=1),
    description="end the project notices whose period is over (公示期满)",
)


def history(session: Session, project: Project, page: PageParams) -> tuple[list[store.Transition], str | None]:
    return store.history_page(session, WORKFLOW, project.id, page)
