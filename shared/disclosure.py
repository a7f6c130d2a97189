"""Who may see whole ID numbers, phones and bank accounts, the masking everyone else gets, and the audit of
every whole value handed out.

Masked by default for every role. ``?reveal=true`` from a role that may see whole values (county office,
township reviewer, system) hands them out whole, and each such read is recorded in the hash-chained audit log.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.concurrency import run_in_threadpool

from shared import audit
from shared.auth import Principal, Role, require
from shared.errors import Forbidden
from shared.hooks import before_response
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
                "whole ID numbers, phones and bank accounts are shown only to the county office, township reviewers"
                " and the system",
                field="reveal",
            )
        self.request = request
        self.principal = principal
        self.reveal = reveal
        self.handed_out = False  # a whole value went into the response
        self.audited = False

    def id_number(self, value: str) -> str:
        if self.reveal:
            self.handed_out = True
            return value
        return mask_resident_id(value) or ""

    def phone(self, value: str | None) -> str | None:
        if self.reveal and value:
            self.handed_out = True
            return value
        return mask_phone(value)

    def account(self, value: str | None) -> str | None:
        if self.reveal and value:
            self.handed_out = True
            return value
        return mask_account(value)

    def audit(self, resource: str, **detail: Any) -> None:
        """Record the whole read in its own transaction: a read request has no write transaction to join."""
        if not self.reveal or self.audited:
            return
        self.audited = True
        written = getattr(self.request.state, "write_session", None)
        if written is not None:  # a write still open: the audit commits with it, or not at all
            self._record(written, resource, detail)
            return
        with self.request.app.state.db.transaction() as session:
            self._record(session, resource, detail)

    def audit_unrecorded(self) -> None:
        """Audit under the request's path whatever was handed out and not audited by name."""
        if self.handed_out and not self.audited:
            self.audit(self.request.url.path, method=self.request.method)

    def _record(self, session: Any, resource: str, detail: dict[str, Any]) -> None:
        audit.record(
            session,
            actor=self.principal.subject,
            action="personal_data.read",
            resource=resource,
            detail={"roles": sorted(self.principal.roles), "path": self.request.url.path, **detail},
        )


async def disclosure(
    request: Request,
    principal: Reader,
    reveal: Annotated[
        bool, Query(description="whole ID numbers, phones and accounts (audited; county/township/system)")
    ] = False,
) -> Disclosure:
    """The request's disclosure. Whatever route hands out a whole value (a read, a create, an update) and has not
    audited it by name is audited under its path as the response starts, before any of it is sent
    (``shared.hooks``: a masked request, most of them, has nothing to finish and pays nothing for it)."""
    show = Disclosure(request, principal, reveal)
    if reveal:
        request.state.disclosure = show  # a write's transaction audits it in itself (audited_within)

        async def audit_unrecorded() -> None:
            await run_in_threadpool(show.audit_unrecorded)

        before_response(request.scope, audit_unrecorded)
    return show


DisclosureDep = Annotated[Disclosure, Depends(disclosure)]


@contextmanager
def audited_within(request: Request, session: Any) -> Iterator[None]:
    """A write's transaction ``session`` as the one the request's disclosure records in: what the request hands
    out whole is audited in it before it commits (with it, or not at all). For every write transaction a request
    owns (``shared.deps.write_session``, a route's own ``db.transaction()``)."""
    request.state.write_session = session
    try:
        yield
        show = getattr(request.state, "disclosure", None)
        if show is not None:
            show.audit_unrecorded()
    finally:
        request.state.write_session = None
