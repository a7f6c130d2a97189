"""Project approval (项目审批) on the shared workflow engine: a template per jurisdiction, each step recorded.

The default template (``templates/project_approval.yaml``) is 户申请 → 村审核 (with the village's public notice)
→ 乡镇审查 → 县审批. Taking the step tagged ``approve`` checks the share rules and approves the project.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from services.funds import projects
from services.funds.models import WORKFLOW, Project
from services.funds.schemas import NoticeEnd, ProjectCreate, SendBack, StepTake
from shared import audit
from shared.auth import Principal
from shared.clock import session_clock
from shared.db import Database
from shared.errors import Conflict
from shared.pagination import PageParams
from shared.refusals import Refusal, Refused
from shared.scope import require_region
from shared.workflow import engine, store, template
from shared.workflow.engine import Actor, Move, Progress, Status
from shared.workflow.template import Template, TemplateBody

CODE = "project_approval"
APPROVE_TAG = "approve"
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


def _apply(session: Session, project: Project, move: Move, principal: Principal) -> None:
    store.record(
        session, WORKFLOW, instance_id=project.id, move=move, actor=principal.subject, now=session_clock(session).now()
    )
    project.step_index, project.workflow_status = move.after.step_index, move.after.status.value
    project.held_step = move.after.held_step
    if move.after.status is Status.rejected:
        project.status = "rejected"
    session.add(project)
    audit.record(
        session,
        actor=principal.subject,
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
    _apply(session, project, move, principal)
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
    _apply(session, project, move, principal)


def end_notice(session: Session, project: Project, body: NoticeEnd, principal: Principal) -> None:
    """The village notice ended (公示期满): on to the next step, or back to re-review after an objection."""
    if body.objected and not (body.note or "").strip():
        raise Refused(Refusal(code="reason_missing", field="note", message="an objection needs its content"))
    move = engine.end_notice(_template_of(session, project), _progress(project), objected=body.objected)
    move = Move(move.action, move.step, move.before, move.after, None, {}, body.note)
    _apply(session, project, move, principal)


def history(session: Session, project: Project, page: PageParams) -> tuple[list[store.Transition], str | None]:
    return store.history_page(session, WORKFLOW, project.id, page)
