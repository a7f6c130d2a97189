"""Households: registration, reads (current and as of a date), versioned edits, search. Nothing here commits."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    Select,
    Table,
    Text,
    and_,
    bindparam,
    cast,
    exists,
    func,
    literal,
    null,
    or_,
    union_all,
)
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from services.registry import events
from services.registry.domain.changes import member_on
from services.registry.domain.codes import NEEDS_HELPER, Status
from services.registry.domain.dates import (
    Period,
    current_version_holds,
    edit_date,
    in_force,
    not_in_future,
    period_order,
    version_start,
)
from services.registry.domain.helpers import needs_helper
from services.registry.domain.members import CheckedMember, MemberFacts, check_members
from services.registry.domain.status import StatusChange, decision_day, is_stale
from services.registry.households.schemas import (
    CategoryPeriod,
    HouseholdBase,
    HouseholdCreate,
    HouseholdUpdate,
    flatten_blocks,
)
from services.registry.members.schemas import MemberCreate
from services.registry.models import (
    CrossRegionConflict,
    Household,
    HouseholdCategory,
    HouseholdVersion,
    Member,
    MemberVersion,
    Pairing,
    Region,
)
from services.registry.regions.service import refuse_unless_village, require_village
from shared.auth import Principal
from shared.clock import session_clock
from shared.db import NewRows, Prepared
from shared.errors import Conflict, NotFound, ValidationFailed
from shared.events.outbox import emit
from shared.ids import new_id
from shared.masking import mask_resident_id
from shared.pagination import PageParams, paginate
from shared.refusals import refuse_if
from shared.scope import check_in_scope, get_in_scope, in_scope, require_region

log = logging.getLogger(__name__)
FACT_FIELDS = set(HouseholdBase.model_fields)
# SQLModel sets __table__ when it makes a table class; its stubs do not declare it.
HOUSEHOLD: Table = Household.__table__  # type: ignore[attr-defined]
MEMBER: Table = Member.__table__  # type: ignore[attr-defined]
REGION: Table = Region.__table__  # type: ignore[attr-defined]
CATEGORY: Table = HouseholdCategory.__table__  # type: ignore[attr-defined]
PAIRING: Table = Pairing.__table__  # type: ignore[attr-defined]
MEMBER_VERSION: Table = MemberVersion.__table__  # type: ignore[attr-defined]
HOUSEHOLD_VERSION: Table = HouseholdVersion.__table__  # type: ignore[attr-defined]
NEW_HOUSEHOLD, NEW_MEMBER, NEW_CATEGORY = NewRows(Household), NewRows(Member), NewRows(HouseholdCategory)
INSERT_HOUSEHOLD, INSERT_MEMBER, INSERT_CATEGORY = (Prepared.inserting(t) for t in (HOUSEHOLD, MEMBER, CATEGORY))


def paired_on(day: Any) -> ColumnElement[bool]:
    """A pairing in force on ``day``: started by then and not ended (the end day is no longer counted)."""
    return and_(PAIRING.c.start_date <= day, or_(PAIRING.c.end_date.is_(None), PAIRING.c.end_date > day))


# GET one household is the registry's hottest read: two statements built once (no per-request query building
# or ORM identity map), the household with its categories and active helpers, then its members.
# aggregate_strings is group_concat on SQLite and string_agg on PostgreSQL; helper ids hold no comma.
_HELPERS_ON_DAY = (
    core_select(func.aggregate_strings(PAIRING.c.helper_id, ","))
    .where(PAIRING.c.household_id == HOUSEHOLD.c.id, paired_on(bindparam("day")))
    .scalar_subquery()
)
_HOUSEHOLD_READ = (
    core_select(
        HOUSEHOLD,
        CATEGORY.c.category.label("category_code"),
        CATEGORY.c.start_date.label("category_start"),
        CATEGORY.c.end_date.label("category_end"),
        _HELPERS_ON_DAY.label("active_helpers"),
    )
    .outerjoin(CATEGORY, CATEGORY.c.household_id == HOUSEHOLD.c.id)
    .where(HOUSEHOLD.c.id == bindparam("household_id"))
)
_MEMBERS_READ = (
    core_select(MEMBER).where(MEMBER.c.household_id == bindparam("household_id")).order_by(MEMBER.c.joined_on)
)
_READ_EXTRAS = ("category_code", "category_start", "category_end", "active_helpers")
HOUSEHOLD_READ, MEMBERS_READ = Prepared(_HOUSEHOLD_READ), Prepared(_MEMBERS_READ)  # on the driver's cursor


@dataclass(frozen=True)
class HouseholdView:
    """A household as it stands (``as_of`` None) or as it stood on a past day, as plain column values."""

    facts: dict[str, Any]
    members: list[dict[str, Any]]
    categories: list[dict[str, Any]]
    as_of: date | None
    active_helper_ids: list[str] = field(default_factory=list)
    needs_helper: bool = False


@dataclass(frozen=True)
class HouseholdFilters:
    region: str | None = None
    status: str | None = None
    cause: str | None = None
    category: str | None = None
    helper_id: str | None = None
    q: str | None = None
    include_dissolved: bool = False
    without_helper: bool = False


def register_household(
    session: Session, body: HouseholdCreate, principal: Principal, *, reads: Session | Connection | None = None
) -> HouseholdView:
    """Register a household (建档立卡) with its members, and announce it; the household as written.

    Everything that needs no database (the members' IDs, the dates, the rows themselves) is done before the first
    statement: on SQLite that statement takes the write lock, which every other writer then waits for. So are the
    village, hukou and resident-ID checks when ``reads`` (a read connection) is given: a registration racing between
    the check and the insert still loses, to the unique indexes on ``hukou_number`` and an active ``id_number``
    (409 naming the field). The rows are plain dicts with the tables' defaults (``NewRows``), go in as Core inserts
    (one statement a table) and are the answer too: a new household has no pairings and no versions, so reading it
    back would return the same."""
    require_region(principal, body.region_code)
    clock = session_clock(session)
    today = clock.today()
    checked = check_members([member_facts(m) for m in body.members], today=today)
    registered_on = body.registered_on or today
    refuse_if(not_in_future(day=registered_on, today=today, field="registered_on", what="registration date"))
    now = clock.now()
    household_id = new_id()
    members = [
        NEW_MEMBER(household_id=household_id, joined_on=registered_on, **member_columns(m, c))
        for m, c in zip(body.members, checked, strict=True)
    ]
    household = NEW_HOUSEHOLD(
        id=household_id,
        hukou_number=body.hukou_number,
        region_code=body.region_code,
        **flatten_blocks(body.model_dump(include=FACT_FIELDS)),
        head_member_id=next(m["id"] for m in members if m["relation"] == "head"),
        registered_on=registered_on,
        valid_from=registered_on,
        created_at=now,
        updated_at=now,
    )
    categories = category_rows(household_id, body.categories)
    refuse_registration_clashes(reads or session, body, [c.id_number for c in checked], principal)
    INSERT_HOUSEHOLD.many(session, [household])
    INSERT_MEMBER.many(session, members)
    if categories:
        INSERT_CATEGORY.many(session, categories)
    member_ids = [m["id"] for m in members]
    facts = events.household_facts(
        household_id,
        body.region_code,
        household["head_member_id"],
        member_ids,
        household["version"],
        household["status"],
    )
    emit(session, events.HOUSEHOLD_REGISTERED, household_id, facts)
    lacking = needs_helper(status=Status(household["status"]), dissolved=False, active_helpers=0)
    shown = [{"category": c["category"], "start_date": c["start_date"], "end_date": c["end_date"]} for c in categories]
    return HouseholdView(household, members, shown, None, [], lacking)


def member_facts(member: MemberCreate) -> MemberFacts:
    return MemberFacts(member.id_number, member.relation, member.sex, member.birth_date, member.phone)


def member_columns(member: MemberCreate, checked: CheckedMember) -> dict[str, Any]:
    """A new member's table columns: what was sent, with ID, sex, birth date and phone as checked."""
    return member.model_dump(exclude={"id_number", "sex", "birth_date", "phone"}) | {
        "id_number": checked.id_number,
        "sex": checked.sex,
        "birth_date": checked.birth_date,
        "phone": checked.phone,
        "id_warning": checked.id_warning,
    }


def category_rows(household_id: str, periods: list[CategoryPeriod]) -> list[dict[str, Any]]:
    for i, period in enumerate(periods):
        field = f"categories.{i}.end_date"
        refuse_if(period_order(start=period.start_date, end=period.end_date, field=field, what="a category"))
    return [NEW_CATEGORY(household_id=household_id, **p.model_dump()) for p in periods]


# The registration's two duplicate checks, built once (no statement built and cache-keyed per request).
_HUKOU_HOLDER = Prepared(
    core_select(HOUSEHOLD.c.id, HOUSEHOLD.c.region_code).where(HOUSEHOLD.c.hukou_number == bindparam("hukou_number"))
)
# The active-ID check asks for up to ACTIVE_BATCH IDs in one statement of fixed arity (a shorter list repeats its
# last ID), so that it too is compiled once: an expanding IN list is rendered again on every execution.
ACTIVE_BATCH = 10
_ACTIVE_HOLDER_OF = (
    core_select(MEMBER.c.id_number, MEMBER.c.household_id, HOUSEHOLD.c.region_code)
    .join(HOUSEHOLD, HOUSEHOLD.c.id == MEMBER.c.household_id)
    .where(MEMBER.c.id_number.in_([bindparam(f"id{i}") for i in range(ACTIVE_BATCH)]), MEMBER.c.active)
    .limit(1)
)
_ACTIVE_HOLDER = Prepared(_ACTIVE_HOLDER_OF)


# The registration's three checks in one statement (one round trip): the village's level, the household that holds
# the hukou number, the first of (up to) ACTIVE_BATCH resident IDs that is an active member somewhere. A row each,
# told apart by its first column.
_REGISTRATION_CLASHES = Prepared(
    union_all(
        core_select(literal("village"), REGION.c.level, null(), null()).where(REGION.c.code == bindparam("village")),
        core_select(literal("hukou"), HOUSEHOLD.c.id, HOUSEHOLD.c.region_code, null()).where(
            HOUSEHOLD.c.hukou_number == bindparam("hukou_number")
        ),
        core_select(literal("member"), *_ACTIVE_HOLDER_OF.subquery().c),
    )
)


def refuse_registration_clashes(
    checks: Session | Connection, body: HouseholdCreate, id_numbers: list[str], principal: Principal
) -> None:
    """A new household's village must be a village of the tree, its hukou number and active resident IDs its own
    (the refusals of ``refuse_unless_village``, ``refuse_known_hukou`` and ``refuse_active_elsewhere``, in that
    order)."""
    asked = {"village": body.region_code, "hukou_number": body.hukou_number} | _padded(id_numbers[:ACTIVE_BATCH])
    found = {row[0]: row[1:] for row in _REGISTRATION_CLASHES.rows(checks, asked)}
    refuse_unless_village(body.region_code, found["village"][0] if "village" in found else None, field="region_code")
    if "hukou" in found:
        holder = (found["hukou"][0], found["hukou"][1])
        _refuse_hukou_held(checks, body.hukou_number, holder, principal, "hukou_number", body.region_code)
    clash = found.get("member") or _active_holder(checks, id_numbers[ACTIVE_BATCH:])
    if clash:
        _refuse_active_held(checks, id_numbers, clash, principal, "members", body.region_code)


def _padded(batch: list[str]) -> dict[str, str]:
    """A batch of resident IDs as the active-ID check's fixed parameters (a shorter list repeats its last ID)."""
    padded = batch + [batch[-1]] * (ACTIVE_BATCH - len(batch))
    return {f"id{i}": value for i, value in enumerate(padded)}


def _active_holder(session: Session | Connection, id_numbers: list[str]) -> tuple[Any, ...] | None:
    """The first of ``id_numbers`` that is an active member somewhere: (id_number, household_id, region_code)."""
    for start in range(0, len(id_numbers), ACTIVE_BATCH):
        found = _ACTIVE_HOLDER.rows(session, _padded(id_numbers[start : start + ACTIVE_BATCH]))
        if found:
            return found[0]
    return None


def refuse_known_hukou(
    session: Session | Connection, hukou_number: str, principal: Principal, *, field: str = "hukou_number", region: str
) -> None:
    found = _HUKOU_HOLDER.rows(session, {"hukou_number": hukou_number})
    if found:
        _refuse_hukou_held(session, hukou_number, (found[0][0], found[0][1]), principal, field, region)


def _refuse_hukou_held(
    session: Session | Connection,
    hukou_number: str,
    known: tuple[str, str],
    principal: Principal,
    field: str,
    region: str,
) -> None:
    if principal.covers(known[1]):
        raise Conflict(
            f"hukou number {hukou_number} is already registered as household {known[0]}",
            field=field,
            conflicting_household_id=known[0],
        )
    raise conflict_elsewhere(session, principal, "hukou_number", hukou_number, known, region=region, field=field)


def conflict_elsewhere(
    session: Session | Connection,
    principal: Principal,
    kind: str,
    value: str,
    known: tuple[str, str],
    *,
    region: str,
    field: str,
) -> Conflict:
    """A clash with a household outside the caller's scope: the caller learns that, not which; the county
    office learns which, from the record written once the refused request has rolled back."""
    masked = mask_resident_id(value) if kind == "id_number" else value
    record = CrossRegionConflict(
        kind=kind,
        value_masked=masked or "",
        existing_household_id=known[0],
        existing_region_code=known[1],
        attempted_region_code=region,
        attempted_by=principal.subject,
        attempted_at=session_clock(session).now(),
    )
    db = session.info["database"]

    def remember() -> None:
        with db.transaction() as own:
            own.add(record)

    what = "resident ID" if kind == "id_number" else "hukou number"
    return Conflict(
        f"this {what} is already registered in another region; the county office has been told and will resolve it",
        field=field,
        after=remember,
        conflict_id=record.id,
    )


def refuse_active_elsewhere(
    session: Session | Connection, id_numbers: list[str], principal: Principal, *, field: str = "members", region: str
) -> None:
    """A resident ID is an active member of one household only; the error names the household that has it,
    to a caller who may see that household."""
    clash = _active_holder(session, id_numbers)
    if clash:
        _refuse_active_held(session, id_numbers, clash, principal, field, region)


def _refuse_active_held(
    session: Session | Connection,
    id_numbers: list[str],
    clash: tuple[Any, ...],
    principal: Principal,
    field: str,
    region: str,
) -> None:
    """Refuse ``clash`` (id_number, household_id, region_code), one of ``id_numbers`` active elsewhere."""
    at = f"{field}.{id_numbers.index(clash[0])}.id_number" if len(id_numbers) > 1 else f"{field}.id_number"
    if not principal.covers(clash[2]):
        known = (clash[1], clash[2])
        raise conflict_elsewhere(session, principal, "id_number", clash[0], known, region=region, field=at)
    raise Conflict(
        f"resident ID {mask_resident_id(clash[0])} is already an active member of household {clash[1]}",
        field=at,
        conflicting_household_id=clash[1],
    )


def get_household(session: Session, household_id: str, principal: Principal) -> Household:
    """A household inside the principal's region scope; outside it, as if it did not exist."""
    return get_in_scope(session, Household, household_id, principal, what="household")


def read_household(
    db: Connection | Session,
    household_id: str,
    principal: Principal,
    *,
    as_of: date | None,
) -> HouseholdView:
    """The household now, or what was true on ``as_of``: its facts then, who was a member, their details then.

    ``db`` is the request's session, or a Core connection from ``Database.connection`` for a read that builds no
    ORM objects (the GET: no session to set up and tear down)."""
    day = as_of or session_clock(db).today()
    rows = HOUSEHOLD_READ.dicts(db, {"household_id": household_id, "day": day})
    region = rows[0]["region_code"] if rows else None
    check_in_scope(rows or None, principal, region, what="household", key=household_id)
    facts = rows[0]
    helpers = facts["active_helpers"]
    categories = [
        {"category": r["category_code"], "start_date": r["category_start"], "end_date": r["category_end"]}
        for r in rows
        if r["category_code"] is not None
    ]
    for extra in _READ_EXTRAS:
        del facts[extra]
    members = MEMBERS_READ.dicts(db, {"household_id": household_id})
    if as_of is not None:
        facts = facts_on(db, facts, as_of)
        members = members_on(db, household_id, members, as_of)
        categories = [c for c in categories if in_force(period=Period(c["start_date"], c["end_date"]), day=as_of)]
    helper_ids = sorted(helpers.split(",")) if helpers else []
    dissolved_on = _as_date(facts.get("dissolved_on"))
    lacking = needs_helper(
        status=Status(facts["status"]),
        dissolved=dissolved_on is not None and dissolved_on <= day,
        active_helpers=len(helper_ids),
    )
    return HouseholdView(facts, members, categories, as_of, helper_ids, lacking)


def _as_date(value: date | str | None) -> date | None:
    """A date from a column, or from a version snapshot where it is stored as ISO text."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def facts_on(db: Connection | Session, facts: dict[str, Any], day: date) -> dict[str, Any]:
    """The household's facts in force on ``day``: the current ones, or the snapshot of the version then."""
    if day < facts["registered_on"]:
        raise NotFound(f"household {facts['id']} was not registered yet on {day}")
    if current_version_holds(day=day, in_force_since=facts["valid_from"]):
        return facts
    snapshot: dict[str, Any] | None = db.execute(
        core_select(HOUSEHOLD_VERSION.c.snapshot)
        .where(
            HOUSEHOLD_VERSION.c.household_id == facts["id"],
            HOUSEHOLD_VERSION.c.valid_from <= day,
            HOUSEHOLD_VERSION.c.valid_to > day,
        )
        .order_by(HOUSEHOLD_VERSION.c.version.desc())
        .limit(1)
    ).scalar()
    if snapshot is None:
        raise NotFound(f"no version of household {facts['id']} was in force on {day}")
    return snapshot


def members_on(
    db: Connection | Session, household_id: str, members: list[dict[str, Any]], day: date
) -> list[dict[str, Any]]:
    """Who was a member on ``day``, with the details they had then (an edit since is undone for the read)."""
    present = [m for m in members if member_on(period=Period(m["joined_on"], m["left_on"]), day=day)]
    earlier = dict(
        db.execute(
            core_select(MEMBER_VERSION.c.member_id, MEMBER_VERSION.c.details).where(
                MEMBER_VERSION.c.household_id == household_id,
                MEMBER_VERSION.c.valid_from <= day,
                MEMBER_VERSION.c.valid_to > day,
            )
        ).all()
    )
    return [m | earlier[m["id"]] if m["id"] in earlier else m for m in present]


def new_version(session: Session, household: Household, *, effective: date, actor: str, reason: str) -> None:
    """Keep the version in force until ``effective`` for as-of reads, and start the next one."""
    effective = version_start(effective=effective, in_force_since=household.valid_from)
    clock = session_clock(session)
    session.add(
        HouseholdVersion(
            household_id=household.id,
            version=household.version,
            valid_from=household.valid_from,
            valid_to=effective,
            snapshot=household.model_dump(mode="json"),
            replaced_at=clock.now(),
            replaced_by=actor,
            replace_reason=reason,
        )
    )
    household.version += 1
    household.valid_from = effective
    household.updated_at = clock.now()
    session.add(household)


def update_household(session: Session, household_id: str, body: HouseholdUpdate, principal: Principal) -> Household:
    """A versioned edit of household facts, with its reason and the day it took effect."""
    household = get_household(session, household_id, principal)
    today = session_clock(session).today()
    effective = body.effective_date or today
    refuse_if(edit_date(effective=effective, today=today, in_force_since=household.valid_from))
    if body.region_code and body.region_code != household.region_code:
        require_region(principal, body.region_code)
        require_village(session, body.region_code)
    new_version(session, household, effective=effective, actor=principal.subject, reason=body.reason)
    changes = body.model_dump(exclude_unset=True, exclude={"reason", "effective_date", "categories"})
    if changes.get("status", household.status) != household.status:
        # an office's decision on the status: a late event from identification older than this must not undo it
        household.status_decided_at = session_clock(session).now()
        household.status_case_id = None
    for column, value in flatten_blocks(changes).items():
        setattr(household, column, value)
    if body.categories is not None:
        _replace_categories(session, household.id, body.categories, effective)
    session.add(household)
    session.flush()
    events.household_updated(session, household, active_member_ids(session, household.id))
    return household


def household_versions(
    session: Session, household_id: str, principal: Principal, page: PageParams
) -> tuple[list[HouseholdVersion], str | None]:
    """The household's earlier versions, oldest first, a page at a time: who replaced each, why and when."""
    get_household(session, household_id, principal)
    query = select(HouseholdVersion).where(HouseholdVersion.household_id == household_id)
    return paginate(session, query, order=[col(HouseholdVersion.version)], page=page)


def record_status_decision(
    session: Session, household_id: str, change: StatusChange, *, case_id: str, decided_at: datetime, actor: str
) -> Household | None:
    """Identification's decision as a versioned change of the household's status; a stale or unknown one is ignored."""
    household = session.get(Household, household_id)
    if household is None:
        log.warning("status decision for unknown household %s (case %s) ignored", household_id, case_id)
        return None
    if decided_at.tzinfo is None:
        decided_at = decided_at.replace(tzinfo=UTC)
    if is_stale(event_time=decided_at, decided_at=household.status_decided_at):
        log.info("decision of case %s older than household %s's status: ignored", case_id, household_id)
        return None
    facts: dict[str, Any] = {"status": change.status.value}
    if change.identified_year is not None:
        facts["identified_year"] = change.identified_year
    if change.exit_year is not None:
        facts["exit_year"] = change.exit_year
    if any(getattr(household, name) != value for name, value in facts.items()):
        reason = f"identification decided: {change.status.value} (case {case_id})"
        new_version(session, household, effective=decision_day(decided_at=decided_at), actor=actor, reason=reason)
        for name, value in facts.items():
            setattr(household, name, value)
        household.status_decided_at, household.status_case_id = decided_at, case_id
        session.add(household)
        session.flush()
        events.household_updated(session, household, active_member_ids(session, household.id))
    else:  # already so: only the newer decision is noted, so an older one arriving later stays ignored
        household.status_decided_at, household.status_case_id = decided_at, case_id
        session.add(household)
    return household


def _replace_categories(session: Session, household_id: str, periods: list[CategoryPeriod], day: date) -> None:
    wanted = {p.category for p in periods}
    open_rows = session.exec(
        select(HouseholdCategory).where(
            HouseholdCategory.household_id == household_id, col(HouseholdCategory.end_date).is_(None)
        )
    ).all()
    for row in open_rows:
        if row.category not in wanted:
            row.end_date = day
            session.add(row)
    held = {row.category for row in open_rows}
    session.add_all(HouseholdCategory(**r) for r in category_rows(household_id, periods) if r["category"] not in held)


def active_member_ids(session: Session, household_id: str) -> list[str]:
    """The ids of the household's members now (what its events carry)."""
    return list(session.exec(select(Member.id).where(Member.household_id == household_id, col(Member.active))).all())


# What a list row needs of the household table: the summary's own columns, the head and what says whether the
# household needs a helper; nothing else is read (a full row is some sixty columns).
_SUMMARY_COLUMNS = [
    HOUSEHOLD.c[name]
    for name in ("id", "hukou_number", "region_code", "group_no", "address", "status", "primary_cause", "version")
] + [HOUSEHOLD.c.head_member_id, HOUSEHOLD.c.dissolved_on]


def search_households(
    db: Connection | Session, principal: Principal, filters: HouseholdFilters, page: PageParams
) -> tuple[list[dict[str, Any]], str | None]:
    """Households inside the caller's scope matching the filters, in village and hukou order, a page at a time:
    each a ``HouseholdSummary``'s fields."""
    today = session_clock(db).today()
    query = core_select(*_SUMMARY_COLUMNS).where(in_scope(HOUSEHOLD.c.region_code, principal, filters.region))
    order = [HOUSEHOLD.c.region_code, HOUSEHOLD.c.hukou_number]
    rows, next_cursor = paginate(db, _filtered(query, filters, today), order=order, page=page)
    return summaries(db, rows, today), next_cursor


def _filtered(query: Select[Any], filters: HouseholdFilters, today: date) -> Select[Any]:
    h = HOUSEHOLD.c
    if not filters.include_dissolved:
        query = query.where(h.dissolved_on.is_(None))
    if filters.status:
        query = query.where(h.status == filters.status)
    if filters.cause:
        quoted = f'%"{filters.cause}"%'
        query = query.where(or_(h.primary_cause == filters.cause, cast(h.secondary_causes, Text).like(quoted)))
    if filters.category:
        query = query.where(
            exists().where(
                CATEGORY.c.household_id == h.id,
                CATEGORY.c.category == filters.category,
                CATEGORY.c.end_date.is_(None),
            )
        )
    if filters.helper_id:
        query = query.where(
            exists().where(
                PAIRING.c.household_id == h.id, PAIRING.c.helper_id == filters.helper_id, PAIRING.c.end_date.is_(None)
            )
        )
    if filters.q:
        if not filters.q.isprintable():
            raise ValidationFailed("a name search holds visible characters only", field="q")
        query = query.where(
            exists().where(
                MEMBER.c.household_id == h.id, MEMBER.c.active, MEMBER.c.name.contains(filters.q, autoescape=True)
            )
        )
    if filters.without_helper:
        query = query.where(
            h.status.in_([s.value for s in NEEDS_HELPER]),
            h.dissolved_on.is_(None),
            ~exists().where(PAIRING.c.household_id == h.id, paired_on(today)),
        )
    return query


# The list's three statements about a page, built once (an IN of fifty ids expands at run time).
_PAGE_IDS: BindParameter[list[str]] = bindparam("ids", expanding=True)
_HEADS_READ = core_select(MEMBER.c.id, MEMBER.c.name, MEMBER.c.id_number).where(
    MEMBER.c.id.in_(bindparam("heads", expanding=True))
)
_COUNTS_READ = (
    core_select(MEMBER.c.household_id, func.count())
    .where(MEMBER.c.household_id.in_(_PAGE_IDS), MEMBER.c.active)
    .group_by(MEMBER.c.household_id)
)
_HELPER_COUNTS_READ = (
    core_select(PAIRING.c.household_id, func.count())
    .where(PAIRING.c.household_id.in_(_PAGE_IDS), paired_on(bindparam("day")))
    .group_by(PAIRING.c.household_id)
)


def summaries(db: Connection | Session, households: list[Any], today: date) -> list[dict[str, Any]]:
    """List rows (``HouseholdSummary``'s fields): head name and masked ID, active member count, helper gap; three
    queries for the whole page, Core rows only."""
    ids = [h.id for h in households]
    heads = {m.id: m for m in db.execute(_HEADS_READ, {"heads": [h.head_member_id for h in households]})}
    counts: dict[str, int] = dict(db.execute(_COUNTS_READ, {"ids": ids}).tuples().all())
    helpers: dict[str, int] = dict(db.execute(_HELPER_COUNTS_READ, {"ids": ids, "day": today}).tuples().all())
    names = [c.name for c in _SUMMARY_COLUMNS[:-2]]  # without head_member_id and dissolved_on
    out = []
    for h in households:
        head = heads.get(h.head_member_id)
        item = dict(zip(names, h, strict=False))
        item |= {
            "head_name": head.name if head else None,
            "head_id_number": mask_resident_id(head.id_number) if head else None,
            "member_count": counts.get(h.id, 0),
            "needs_helper": needs_helper(
                status=Status(h.status), dissolved=h.dissolved_on is not None, active_helpers=helpers.get(h.id, 0)
            ),
        }
        out.append(item)
    return out
