"""Projects (扶贫项目): budget lines by source, beneficiaries, approval with the share rules, status, allocation."""

from __future__ import annotations

from decimal import Decimal

from sqlmodel import Session, col, select

from services.funds import accounts, rules
from services.funds.domain.ledger import ZERO, AccountKind, TransactionKind, transfer
from services.funds.domain.policy import AllocationFact, ProjectKind, ShareStatus, SourceKind, share_status
from services.funds.models import WORKFLOW, Beneficiary, Budget, FundSource, Project, ProjectLine
from services.funds.schemas import (
    AllocationCreate,
    BeneficiaryAdd,
    ProjectCreate,
    ProjectLineCreate,
    ProjectLinePublic,
    ProjectPublic,
    StatusMove,
)
from shared import audit
from shared.auth import Principal
from shared.clock import session_clock
from shared.errors import Conflict, NotFound
from shared.events.outbox import emit
from shared.refusals import Refusal
from shared.scope import get_in_scope, require_region
from shared.workflow import store

ORDER = ["bank", "approved", "tender", "construction", "completed", "accepted"]
FUNDED = frozenset(ORDER[1:])


def get_project(session: Session, project_id: str, principal: Principal) -> Project:
    return get_in_scope(session, Project, project_id, principal, what="project")


def create_project(session: Session, body: ProjectCreate, principal: Principal) -> Project:
    require_region(principal, body.region_code)
    project = Project(
        **body.model_dump(mode="json", exclude={"lines"}),
        created_by=principal.subject,
        created_at=session_clock(session).now(),
    )
    session.add(project)
    session.flush()
    for i, line in enumerate(body.lines):
        add_line(session, project, line, principal, field=f"lines.{i}.budget_id")
    return project


def add_line(
    session: Session, project: Project, body: ProjectLineCreate, principal: Principal, *, field: str = "budget_id"
) -> ProjectLine:
    """A budget line (资金来源) of a project still in the project bank."""
    if project.status != "bank":
        raise Conflict("budget lines change only while the project is in the project bank", field="status")
    budget = session.get(Budget, body.budget_id)
    if budget is None or not project.region_code.startswith(budget.region_code):
        raise NotFound(f"no budget {body.budget_id}", field=field)
    if session.exec(
        select(ProjectLine).where(ProjectLine.project_id == project.id, ProjectLine.budget_id == budget.id)
    ).first():
        raise Conflict("the project already has a line from this budget", field=field)
    line = ProjectLine(project_id=project.id, budget_id=budget.id, planned_amount=body.planned_amount, account_id="")
    account = accounts.open_account(
        session,
        kind=AccountKind.project,
        name=f"{project.name} / {budget.name}",
        region_code=project.region_code,
        owner_type="project_line",
        owner_id=line.id,
    )
    line.account_id = account.id
    session.add(line)
    session.flush()
    return line


def lines_of(session: Session, project_id: str) -> list[ProjectLine]:
    return list(session.exec(select(ProjectLine).where(ProjectLine.project_id == project_id).order_by(ProjectLine.id)))


def next_step(session: Session, project: Project) -> str | None:
    """The key of the approval step now due, if the approval is open."""
    if project.template_id is None or project.workflow_status != "open":
        return None
    steps = store.get(session, WORKFLOW, project.template_id).steps
    return steps[project.step_index].key if project.step_index < len(steps) else None


def project_public(session: Session, project: Project) -> ProjectPublic:
    lines = lines_of(session, project.id)
    held = accounts.balances(session, [line.account_id for line in lines])
    return ProjectPublic(
        **project.model_dump(),
        lines=[ProjectLinePublic(**line.model_dump(), balance=held[line.account_id]) for line in lines],
        budget=sum((line.planned_amount for line in lines), ZERO),
        next_step=next_step(session, project),
    )


def _facts(session: Session, *, county: str, year: int, including: str) -> list[AllocationFact]:
    query = (
        select(
            col(ProjectLine.planned_amount), col(FundSource.kind), col(Project.kind), col(Project.direct_to_households)
        )
        .join(Project, col(Project.id) == ProjectLine.project_id)
        .join(Budget, col(Budget.id) == ProjectLine.budget_id)
        .join(FundSource, col(FundSource.id) == Budget.source_id)
        .where(col(Project.region_code).startswith(county), Project.year == year)
        .where((col(Project.status).in_(FUNDED)) | (Project.id == including))
    )
    return [
        AllocationFact(Decimal(amount), SourceKind(source_kind), ProjectKind(project_kind), direct)
        for amount, source_kind, project_kind, direct in session.exec(query)
    ]


def share_report(session: Session, *, region_code: str, year: int, including: str = "") -> list[ShareStatus]:
    """Each share rule of the jurisdiction and year, measured over approved projects (and ``including``)."""
    body = rules.rules_for(session, region_code=region_code, year=year)
    facts = _facts(session, county=region_code[:6], year=year, including=including)
    return [share_status(rule, facts) for rule in body.shares]


def share_warnings(session: Session, project: Project) -> list[ShareStatus]:
    """The share rules this project's approval would breach (报批前预警)."""
    report = share_report(session, region_code=project.region_code, year=project.year, including=project.id)
    return [s for s in report if s.breached]


def approval_refusals(
    session: Session, project: Project, warnings: list[ShareStatus], *, acknowledged: bool
) -> list[Refusal]:
    """What stops an approval: no budget line, or a share rule breached and not acknowledged."""
    refusals = []
    if not lines_of(session, project.id):
        refusals.append(Refusal(code="no_budget_lines", field="lines", message="a project needs a budget line"))
    if not acknowledged:
        refusals += [
            Refusal(
                code=f"share_rule:{w.code}",
                field="acknowledge_warnings",
                message=f"{w.label or w.code}: {w.ratio} is below {w.min_ratio}",
            )
            for w in warnings
        ]
    return refusals


def mark_approved(
    session: Session, project: Project, warnings: list[ShareStatus], principal: Principal, *, note: str | None
) -> None:
    """The project is approved (批复): recorded, audited, and ``project.approved`` emitted."""
    if project.status != "bank":
        raise Conflict(f"the project is {project.status}, not in the project bank", field="status")
    now = session_clock(session).now()
    project.status, project.approved_at, project.approved_by = "approved", now, principal.subject
    session.add(project)
    amount = sum((line.planned_amount for line in lines_of(session, project.id)), ZERO)
    audit.record(
        session,
        actor=principal.subject,
        action="project.approved",
        resource=f"project/{project.id}",
        detail={"amount": str(amount), "warnings": [w.code for w in warnings], "note": note},
    )
    emit(
        session,
        "project.approved",
        project.id,
        {
            "project_id": project.id,
            "region_code": project.region_code,
            "amount": f"{amount:.2f}",
            "kind": project.kind,
            "year": project.year,
            "share_warnings": [w.code for w in warnings],
        },
    )


def move(session: Session, project: Project, body: StatusMove, principal: Principal) -> Project:
    """Tender, construction, completion, acceptance (招标→施工→竣工→验收), one step at a time; or cancel."""
    if body.status == "cancelled":
        allowed = project.status in {"bank", "approved"}
    else:
        allowed = project.status in ORDER and ORDER.index(body.status) == ORDER.index(project.status) + 1
    if not allowed:
        raise Conflict(f"a project that is {project.status} cannot become {body.status}", field="status")
    audit.record(
        session,
        actor=principal.subject,
        action=f"project.{body.status}",
        resource=f"project/{project.id}",
        detail={"from": project.status, "note": body.note},
    )
    project.status = body.status
    session.add(project)
    return project


def allocate(session: Session, project: Project, body: AllocationCreate, principal: Principal) -> str:
    """Allocate (分配) arrived budget money to an approved project's line: budget → project line."""
    if project.status not in FUNDED:
        raise Conflict("money is allocated only to an approved project", field="status")
    line = session.get(ProjectLine, body.line_id)
    if line is None or line.project_id != project.id:
        raise NotFound(f"no line {body.line_id} on this project", field="line_id")
    budget = session.get(Budget, line.budget_id)
    assert budget is not None
    tx = accounts.post(
        session,
        kind=TransactionKind.allocation,
        postings=transfer(from_account=budget.account_id, to_account=line.account_id, amount=body.amount),
        memo=f"资金分配 {project.name}",
        actor=principal.subject,
        occurred_on=body.occurred_on,
        reference=project.id,
    )
    return tx.id


def add_beneficiary(session: Session, project: Project, body: BeneficiaryAdd) -> Beneficiary:
    if session.get(Beneficiary, (project.id, body.household_id)) is not None:
        raise Conflict("the household is already on the list", field="household_id")
    row = Beneficiary(project_id=project.id, **body.values(), added_at=session_clock(session).now())
    session.add(row)
    session.flush()
    return row
