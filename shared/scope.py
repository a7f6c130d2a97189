"""Region scope: a caller sees and acts only inside the region prefix its token carries.

One rule for every service:
- a single record outside the scope is a 404, exactly as if it did not exist (``get_in_scope``);
- a list narrows to the scope (``in_scope``); a requested region wider than the scope narrows to the scope, and
  one that does not overlap it gives an empty list, never somebody else's rows and never an error that tells
  whether they exist;
- a write into a region outside the scope is a 403 naming the field (``require_region``).
Prefix filters escape LIKE metacharacters, so a region can only ever be digits matched as digits.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import Query
from sqlalchemy import false
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from shared.auth import Principal
from shared.errors import NotFound

T = TypeVar("T")

REGION_PATTERN = r"^\d{2,12}$"
RegionParam = Annotated[
    str | None,
    Query(pattern=REGION_PATTERN, description="a region-code prefix (2–12 digits) inside your scope"),
]


def narrow(scope: str, requested: str | None) -> str | None:
    """The prefix a list may use: the request narrowed to the scope; None when the two do not overlap."""
    if not requested:
        return scope
    if requested.startswith(scope):
        return requested
    if scope.startswith(requested):
        return scope
    return None


def prefix_condition(column: Any, prefix: str) -> ColumnElement[bool]:
    """``column`` starts with ``prefix``, with ``%`` and ``_`` taken literally."""
    return column.startswith(prefix, autoescape=True)


def in_scope(column: Any, principal: Principal, requested: str | None = None) -> ColumnElement[bool]:
    """The SQL condition that keeps a list query inside the caller's scope (and the requested region)."""
    prefix = narrow(principal.region, requested)
    if prefix is None:
        return false()
    return prefix_condition(column, prefix)


def get_in_scope(
    session: Session,
    model: type[T],
    key: Any,
    principal: Principal,
    *,
    region_attr: str = "region_code",
    what: str = "",
) -> T:
    """The row with primary key ``key`` if it lies inside the caller's scope; otherwise a 404."""
    row = session.get(model, key)
    if row is None or not principal.covers(str(getattr(row, region_attr))):
        raise NotFound(f"no {what or model.__name__.lower()} {key}")
    return row


def check_in_scope(row: T | None, principal: Principal, region_code: str | None, *, what: str, key: Any) -> T:
    """The same 404 rule for a row fetched some other way (a join, a lookup by another key)."""
    if row is None or region_code is None or not principal.covers(region_code):
        raise NotFound(f"no {what} {key}")
    return row


def require_region(principal: Principal, region_code: str, *, field: str = "region_code") -> None:
    """A write into ``region_code`` must lie inside the caller's scope: 403 naming the field otherwise."""
    principal.require_region(region_code, field=field)
