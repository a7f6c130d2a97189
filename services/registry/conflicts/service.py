"""Cross-region conflicts (跨区域重复登记): listed inside the county office's scope, resolved once."""

from __future__ import annotations

from sqlalchemy import or_
from sqlmodel import Session, col, select

from services.registry.models import CrossRegionConflict
from shared.auth import Principal
from shared.clock import session_clock
from shared.errors import Conflict
from shared.pagination import PageParams, paginate
from shared.scope import check_in_scope, in_scope


def list_conflicts(
    session: Session, principal: Principal, *, open_only: bool, page: PageParams
) -> tuple[list[CrossRegionConflict], str | None]:
    """Conflicts whose existing household or attempted registration lies inside the caller's scope."""
    query = select(CrossRegionConflict).where(
        or_(
            in_scope(col(CrossRegionConflict.existing_region_code), principal),
            in_scope(col(CrossRegionConflict.attempted_region_code), principal),
        )
    )
    if open_only:
        query = query.where(col(CrossRegionConflict.resolved_at).is_(None))
    return paginate(session, query, order=[col(CrossRegionConflict.id)], page=page)


def resolve(session: Session, conflict_id: str, resolution: str, principal: Principal) -> CrossRegionConflict:
    found = session.get(CrossRegionConflict, conflict_id)
    region = found.existing_region_code if found else None
    conflict = check_in_scope(found, principal, region, what="conflict", key=conflict_id)
    if conflict.resolved_at is not None:
        raise Conflict(f"conflict {conflict_id} was resolved already", field="resolution")
    conflict.resolved_at = session_clock(session).now()
    conflict.resolved_by = principal.subject
    conflict.resolution = resolution
    session.add(conflict)
    return conflict
