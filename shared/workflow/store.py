"""Templates and transitions kept in the caller's transaction (nothing here commits)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, literal, or_, select
from sqlmodel import Session

from shared.errors import NotFound
from shared.ids import new_id
from shared.pagination import PageParams, paginate
from shared.scope import prefix_condition
from shared.workflow.engine import Move
from shared.workflow.tables import WorkflowTables
from shared.workflow.template import Template, TemplateBody


def _body_json(body: TemplateBody) -> str:
    return body.model_dump_json(exclude={"id", "version"} if isinstance(body, Template) else None)


def _template(row: Any) -> Template:
    return Template.model_validate(json.loads(row.body) | {"id": row.id, "version": row.version})


def publish(session: Session, tables: WorkflowTables, body: TemplateBody, *, actor: str, now: datetime) -> Template:
    """A new version of ``body.code`` for its jurisdiction; running instances keep the version they started on."""
    t = tables.template
    # Two publishers racing for one number: the unique key refuses the second, whose request fails whole.
    last = session.execute(
        select(func.max(t.c.version)).where(t.c.code == body.code, t.c.jurisdiction == body.jurisdiction)
    ).scalar()
    version = (last or 0) + 1
    template_id = new_id()
    session.execute(
        insert(t).values(
            id=template_id,
            code=body.code,
            jurisdiction=body.jurisdiction,
            version=version,
            effective_from=body.effective_from,
            label=body.label,
            body=_body_json(body),
            published_at=now,
            published_by=actor,
        )
    )
    return Template.model_validate(body.model_dump() | {"id": template_id, "version": version})


def ensure(session: Session, tables: WorkflowTables, body: TemplateBody, *, actor: str, now: datetime) -> bool:
    """Publish a built-in template unless a version with exactly this body exists; True when it published."""
    t = tables.template
    rows = session.execute(
        select(t.c.body).where(t.c.code == body.code, t.c.jurisdiction == body.jurisdiction)
    ).scalars()
    wanted = json.loads(_body_json(body))
    if any(json.loads(existing) == wanted for existing in rows):
        return False
    publish(session, tables, body, actor=actor, now=now)
    return True


def get(session: Session, tables: WorkflowTables, template_id: str) -> Template:
    row = session.execute(select(tables.template).where(tables.template.c.id == template_id)).first()
    if row is None:
        raise NotFound(f"template {template_id} not found", field="template_id")
    return _template(row)


def of_code(session: Session, tables: WorkflowTables, code: str) -> list[Template]:
    """Every version of one template code, for ``template.select``."""
    t = tables.template
    return [_template(r) for r in session.execute(select(t).where(t.c.code == code))]


@dataclass(frozen=True)
class Transition:
    id: str
    instance_id: str
    action: str
    step: str
    role: str | None
    actor: str
    at: datetime
    evidence: dict[str, Any]
    comment: str | None
    from_index: int
    to_index: int
    status_after: str


def record(
    session: Session, tables: WorkflowTables, *, instance_id: str, move: Move, actor: str, now: datetime
) -> Transition:
    """Write one transition: actor, role, time, evidence and comment."""
    values: dict[str, Any] = {
        "id": new_id(),
        "instance_id": instance_id,
        "action": move.action.value,
        "step": move.step,
        "role": move.role.value if move.role else None,
        "actor": actor,
        "at": now,
        "evidence": json.dumps(move.evidence, ensure_ascii=False, sort_keys=True, default=str),
        "comment": move.comment,
        "from_index": move.before.step_index,
        "to_index": move.after.step_index,
        "status_after": move.after.status.value,
    }
    session.execute(insert(tables.transition).values(**values))
    return Transition(**(values | {"evidence": dict(move.evidence)}))


def _transition(r: Any) -> Transition:
    return Transition(
        id=r.id,
        instance_id=r.instance_id,
        action=r.action,
        step=r.step,
        role=r.role,
        actor=r.actor,
        at=r.at,
        evidence=json.loads(r.evidence),
        comment=r.comment,
        from_index=r.from_index,
        to_index=r.to_index,
        status_after=r.status_after,
    )


def history(session: Session, tables: WorkflowTables, instance_id: str) -> list[Transition]:
    t = tables.transition
    return [_transition(r) for r in session.execute(select(t).where(t.c.instance_id == instance_id).order_by(t.c.seq))]


def history_page(
    session: Session, tables: WorkflowTables, instance_id: str, page: PageParams
) -> tuple[list[Transition], str | None]:
    """One page of an instance's transitions, oldest first."""
    t = tables.transition
    rows, cursor = paginate(session, select(t).where(t.c.instance_id == instance_id), order=[t.c.seq], page=page)
    return [_transition(r) for r in rows], cursor


def templates_page(
    session: Session, tables: WorkflowTables, page: PageParams, *, code: str | None = None, region: str | None = None
) -> tuple[list[Template], str | None]:
    """One page of template versions, oldest first; with ``region``, only the jurisdictions that overlap it (a
    county's own variants, its province's, and the national ones)."""
    t = tables.template
    query = select(t)
    if code:
        query = query.where(t.c.code == code)
    if region is not None:
        query = query.where(
            or_(prefix_condition(t.c.jurisdiction, region), literal(region).startswith(t.c.jurisdiction))
        )
    rows, cursor = paginate(session, query, order=[t.c.id], page=page)
    return [_template(r) for r in rows], cursor
