"""Household routes: register, search, read (now or as of a day), versioned edits and their history."""

from __future__ import annotations

from contextlib import nullcontext
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, TypeAdapter
from starlette.concurrency import run_in_threadpool

from services.registry.domain.codes import Category, Cause, Status
from services.registry.households import service
from services.registry.households.schemas import (
    HouseholdCreate,
    HouseholdPublic,
    HouseholdSummary,
    HouseholdUpdate,
    HouseholdVersionPublic,
)
from services.registry.households.views import household_public
from shared.auth import Principal, Role, require
from shared.db import Database, WriterBusy
from shared.deps import ReadSessionDep, SessionDep
from shared.disclosure import Disclosure, DisclosureDep, Reader, audited_within
from shared.idempotency import Idempotency, IdempotencyDep
from shared.pagination import Page, PageDep, PageParams
from shared.scope import RegionParam

router = APIRouter(tags=["households"])
# Who registers and changes households (and their members): the village, the county office, the system.
Registrar = Annotated[Principal, Depends(require(Role.village_cadre, Role.county_office, Role.system))]


@router.post("/households", status_code=201, response_model=HouseholdPublic)
async def register_household(
    body: HouseholdCreate, request: Request, principal: Registrar, idempotency: IdempotencyDep, show: DisclosureDep
) -> Response:
    """Register a household (建档立卡) with its members; 409 names a household that already holds an ID."""
    # On SQLite the whole registration runs on the event loop when the write lock is free at once: a few indexed
    # reads, four inserts and a COMMIT (its fsync ~0.25 ms) of a local file cost less than the trip to the thread
    # pool and the GIL hand-offs between its threads (POST 218 → 293/s against the same raw insert, load ~1.8).
    # When another writer holds the lock, nothing has been written and it goes to the thread pool to wait there:
    # the loop never waits for a lock. Everything else takes one trip to the pool for the whole transaction (a
    # SessionDep, opened and committed in trips of its own, and a sync handler would make three).
    if request.app.state.db.one_writer:
        try:
            return _register_household(request, body, principal, idempotency, show, wait=False)
        except WriterBusy:
            pass
    return await run_in_threadpool(_register_household, request, body, principal, idempotency, show)


def _register_household(
    request: Request,
    body: HouseholdCreate,
    principal: Principal,
    idempotency: Idempotency,
    show: Disclosure,
    *,
    wait: bool = True,
) -> Response:
    db: Database = request.app.state.db

    def act() -> HouseholdPublic:
        return household_public(service.register_household(session, body, principal, reads=reads), show)

    # On SQLite the checks read on a read connection, before the write lock is taken (see register_household).
    with (
        db.transaction(wait=wait) as session,
        audited_within(request, session),  # what the disclosure records joins the change
        db.connection() if db.one_writer else nullcontext(None) as reads,
    ):
        done = idempotency.run(session, act)
    return done if isinstance(done, Response) else validated(done, status_code=201)  # a replay is a Response


@router.get("/households", response_model=Page[HouseholdSummary])
async def search_households(
    request: Request,
    principal: Reader,
    page: PageDep,
    region: RegionParam = None,
    status: Status | None = None,
    cause: Annotated[Cause | None, Query(description="primary or secondary cause of poverty")] = None,
    category: Category | None = None,
    helper_id: str | None = None,
    q: Annotated[str | None, Query(min_length=1, max_length=60, description="part of a member's name")] = None,
    include_dissolved: bool = False,
    without_helper: Annotated[bool, Query(description="only households that need a helper and have none")] = False,
) -> Response:
    """Households in your region scope, masked, in village and hukou-number order."""
    filters = service.HouseholdFilters(region, status, cause, category, helper_id, q, include_dissolved, without_helper)
    # One trip to the thread pool, the connection opened and closed in it (a ReadSessionDep and a sync handler
    # would make three).
    return await run_in_threadpool(_search_households, request.app.state.db, principal, filters, page)


def _search_households(
    db: Database, principal: Principal, filters: service.HouseholdFilters, page: PageParams
) -> Response:
    with db.connection() as conn:
        items, next_cursor = service.search_households(conn, principal, filters, page)
    return validated(SUMMARY_PAGE.validate_python({"items": items, "next_cursor": next_cursor}))


# The list's page validated in one call (the fifty rows as plain dicts, no model built per row in Python).
SUMMARY_PAGE = TypeAdapter(Page[HouseholdSummary])


def validated(body: BaseModel, *, status_code: int = 200) -> Response:
    """A response body that was validated as it was built, written once: handed back as a model, FastAPI would
    dump it to a dict, validate that against the response model again and then serialise it."""
    return Response(body.model_dump_json(), status_code=status_code, media_type="application/json")


@router.get("/households/{household_id}", response_model=HouseholdPublic)
async def get_household(
    household_id: str,
    request: Request,
    principal: Reader,
    show: DisclosureDep,
    as_of: Annotated[date | None, Query(description="what was true on this day")] = None,
) -> Response:
    """One household with its members; ``as_of`` gives the household as it stood on that day."""
    # The registry's hottest read. On SQLite it runs on the event loop: two indexed reads of a local file, which
    # in WAL mode never wait for a writer (~0.2 ms), cost less than the trip to the thread pool and the GIL
    # hand-offs of 40 threads under load. A read that reveals writes its audit row, which may wait for the write
    # lock: that one, and every read on PostgreSQL (a network round trip per statement), goes to the thread pool
    # in one trip (a ReadSessionDep would cost two more, open and close, and a sync handler one more). It reads
    # through a Core connection: the two statements build no ORM objects, so a session would be pure overhead.
    db: Database = request.app.state.db
    if db.read_engine.dialect.name == "sqlite" and not show.reveal:
        return _read_household(db, household_id, principal, show, as_of)
    return await run_in_threadpool(_read_household, db, household_id, principal, show, as_of)


def _read_household(
    db: Database, household_id: str, principal: Principal, show: Disclosure, as_of: date | None
) -> Response:
    with db.connection() as conn:
        view = service.read_household(conn, household_id, principal, as_of=as_of)
    show.audit(f"household/{household_id}", as_of=str(as_of) if as_of else None)
    return validated(household_public(view, show))


@router.patch("/households/{household_id}", response_model=HouseholdPublic)
def update_household(
    household_id: str, body: HouseholdUpdate, session: SessionDep, principal: Registrar, show: DisclosureDep
) -> HouseholdPublic:
    """A versioned edit of household facts with its reason; membership changes go to ``/changes``."""
    service.update_household(session, household_id, body, principal)
    return household_public(service.read_household(session, household_id, principal, as_of=None), show)


@router.get("/households/{household_id}/versions", response_model=Page[HouseholdVersionPublic])
def household_versions(
    household_id: str, session: ReadSessionDep, principal: Reader, page: PageDep
) -> Page[HouseholdVersionPublic]:
    """Earlier versions of the household: who replaced each (a user, or an identification event), why and when."""
    rows, next_cursor = service.household_versions(session, household_id, principal, page)
    items = [HouseholdVersionPublic.model_validate(r.model_dump() | {"status": r.snapshot.get("status")}) for r in rows]
    return Page(items=items, next_cursor=next_cursor)
