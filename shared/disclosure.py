"""Who may see whole ID numbers, phones and bank accounts, the masking everyone else gets, and the audit of
every whole value handed out.

Masked by default for every role. ``?reveal=true`` from a role that may see whole values (county office,
township reviewer, system) hands them out whole, and each such read is recorded in the hash-chained audit log.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query, Request

from shared import audit
from shared.auth import Principal, Role, require
from shared.errors import Forbidden
from shared.masking import mask_account, mask_phone, mask_resident_id

SEES_WHOLE = (Role.county_office, Role.township_reviewer, Role.system)
# Any signed-in caller; one callable, so FastAPI checks it once per request for the route and for Disclosure.
ANYONE = require(*Role)
Reader = Annotated[Principal, Depends(ANYONE)]


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

    def account(self, value: str | None) -> str | None:
        return value if self.reveal else mask_account(value)

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


# async: it does no I/O, and a sync dependency costs a trip to the thread pool on every read.
async def disclosure(
    request: Request,
    principal: Reader,
    reveal: Annotated[bool, Query(description="whole ID numbers and phones (audited; county/township/system)")] = False,
) -> Disclosure:
    return Disclosure(request, principal, reveal)


DisclosureDep = Annotated[Disclosure, Depends(disclosure)]
