"""Reads of the phone directory: keyset pages ordered by when a row last changed, so that a caller syncing
from it asks for ``updated_since`` its last sync and misses nothing. Nothing here writes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, func, select

from services.registry.models import Helper, Household, Member
from shared.auth import Principal
from shared.pagination import PageParams, paginate
from shared.scope import in_scope

HelperRow = tuple[Helper, datetime]


def helper_changed() -> Any:
    """A helper's last change: its update, else its creation (a helper never edited has no ``updated_at``)."""
    return func.coalesce(col(Helper.updated_at), col(Helper.created_at))


def helpers(
    session: Session, principal: Principal, page: PageParams, *, region: str | None, updated_since: datetime | None
) -> tuple[list[Any], str | None]:
    """Helpers in scope changed at or after ``updated_since``, oldest change first."""
    changed = helper_changed()
    query = select(Helper, changed.label("changed_at")).where(in_scope(col(Helper.region_code), principal, region))
    if updated_since is not None:
        query = query.where(changed >= updated_since)
    return paginate(session, query, order=[changed, col(Helper.id)], page=page, key=lambda r: [r[1], r[0].id])


def household_heads(
    session: Session, principal: Principal, page: PageParams, *, region: str | None, updated_since: datetime | None
) -> tuple[list[Any], str | None]:
    """Each household's head in scope, for households changed at or after ``updated_since`` (a head's new phone
    or a new head is a new household version, which moves ``updated_at``)."""
    query = (
        select(Household, Member)
        .join(Member, col(Member.id) == col(Household.head_member_id))
        .where(in_scope(col(Household.region_code), principal, region))
    )
    if updated_since is not None:
        query = query.where(col(Household.updated_at) >= updated_since)
    order = [col(Household.updated_at), col(Household.id)]
    return paginate(session, query, order=order, page=page, key=lambda r: [r[0].updated_at, r[0].id])
