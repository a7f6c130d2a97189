"""Who may see whole ID numbers and phones, the masking everyone else gets, and the audit of each whole read."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query, Request

from services.registry.models import Helper, Member
from services.registry.schemas import (
    CategoryPeriod,
    HelperPublic,
    HouseholdPublic,
    MemberPublic,
    unflatten_blocks,
)
from services.registry.service import HouseholdView
from shared import audit
from shared.auth import Principal, Role, require
from shared.errors import Forbidden
from shared.masking import mask_phone, mask_resident_id

SEES_WHOLE = (Role.county_office, Role.township_reviewer, Role.system)


class Disclosure:
    """Masked by default; ``?reveal=true`` from a role that may see whole values, recorded in the audit log."""

    def __init__(self, request: Request, principal: Principal, reveal: bool) -> None:
        if reveal and not principal.has(*SEES_WHOLE):
            raise Forbidden(
                "whole ID numbers and phones are for county, township reviewer and system roles", field="reveal"
            )
        self.request = request
        self.principal = principal
        self.reveal = reveal

    def id_number(self, value: str) -> str:
        return value if self.reveal else (mask_resident_id(value) or "")

    def phone(self, value: str | None) -> str | None:
        return value if self.reveal else mask_phone(value)

    def audit(self, resource: str, **detail: Any) -> None:
        """Record the whole read in its own transaction: a read request has no write transaction to join."""
        if not self.reveal:
            return
        with self.request.app.state.db.transaction() as session:
            audit.record(
                session,
                actor=self.principal.subject,
                action="personal_data.read",
                resource=resource,
                detail={"roles": sorted(self.principal.roles), "path": self.request.url.path, **detail},
            )


def disclosure(
    request: Request,
    principal: Annotated[Principal, Depends(require(*Role))],
    reveal: Annotated[bool, Query(description="whole ID numbers and phones (audited; county/township/system)")] = False,
) -> Disclosure:
    return Disclosure(request, principal, reveal)


DisclosureDep = Annotated[Disclosure, Depends(disclosure)]


def member_public(member: Member, disclosure: Disclosure, *, as_of: Any = None) -> MemberPublic:
    data = member.model_dump(exclude={"household_id"})
    data["id_number"] = disclosure.id_number(member.id_number)
    data["phone"] = disclosure.phone(member.phone)
    if as_of is not None and (member.left_on is None or member.left_on > as_of):
        data |= {"left_on": None, "left_reason": None, "active": True}  # not yet known on that day
    return MemberPublic.model_validate(data)


def household_public(view: HouseholdView, disclosure: Disclosure) -> HouseholdPublic:
    scalars = {k: v for k, v in view.facts.items() if k in HouseholdPublic.model_fields}
    members = [member_public(m, disclosure, as_of=view.as_of) for m in view.members]
    return HouseholdPublic.model_validate(
        scalars
        | unflatten_blocks(view.facts)
        | {
            "members": members,
            "member_count": sum(m.active for m in members),
            "categories": [CategoryPeriod.model_validate(c.model_dump()) for c in view.categories],
            "as_of": view.as_of,
        }
    )


def helper_public(helper: Helper, load: int, disclosure: Disclosure) -> HelperPublic:
    data = helper.model_dump() | {"phone": disclosure.phone(helper.phone), "active_pairings": load}
    return HelperPublic.model_validate(data)
