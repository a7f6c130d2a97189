"""``Idempotency-Key`` for POSTs: a retried request gets the first response, and nothing is done twice.

The key is claimed first, in the same transaction as the change it guards, so either both commit or
neither does. Two requests with one key at once: the second waits on the claim's unique index until the first
commits, then replays its response (or, if the first is still running on SQLite's other connection, gets a
409 to retry). The same key with a different body is a 422: the client reused a key by mistake.
The caller is an explicit dependency, so the key is always filed under the authenticated principal.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from functools import cached_property
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from shared.auth import CurrentPrincipal, Principal
from shared.clock import session_clock
from shared.errors import Conflict, ValidationFailed
from shared.events.outbox import INFRA
from shared.masking import mask_text

IDEMPOTENCY = INFRA.idempotency


class Idempotency:
    def __init__(self, key: str | None, route: str, body: bytes, principal: str) -> None:
        self.key = key
        self.route = route
        self.principal = principal
        self.body = body

    @cached_property
    def request_hash(self) -> str:
        """What the key's first request was, to tell a retry from a reuse; worked out only when a key is sent."""
        return hashlib.sha256(self.route.encode() + b"\n" + canonical(self.body)).hexdigest()

    def run(self, session: Session, action: Callable[[], Any], *, status_code: int = 201) -> Any:
        """Run ``action`` once per key; a repeat returns the stored response instead."""
        if not self.key:
            return action()
        stored = self._stored(session)
        if stored is not None:
            return self._replay(stored)
        try:
            with session.begin_nested():
                session.execute(
                    insert(IDEMPOTENCY).values(
                        principal=self.principal,
                        key=self.key,
                        route=self.route,
                        request_hash=self.request_hash,
                        status_code=0,
                        response_body="",
                        created_at=session_clock(session).now(),
                    )
                )
        except IntegrityError:
            stored = self._stored(session)
            if stored is None or stored.status_code == 0:
                raise Conflict(
                    "a request with this Idempotency-Key is being processed; retry to get its response",
                    field="Idempotency-Key",
                ) from None
            return self._replay(stored)
        result = action()
        session.execute(
            update(IDEMPOTENCY)
            .where(IDEMPOTENCY.c.principal == self.principal, IDEMPOTENCY.c.key == self.key)
            .values(
                status_code=status_code,
                # Stored masked: a replay never hands out whole IDs or phones (GET with reveal=true does, audited).
                response_body=json.dumps(masked(jsonable_encoder(result)), ensure_ascii=False),
            )
        )
        return result

    def _stored(self, session: Session) -> Any:
        return session.execute(
            select(IDEMPOTENCY).where(IDEMPOTENCY.c.principal == self.principal, IDEMPOTENCY.c.key == self.key)
        ).first()

    def _replay(self, stored: Any) -> JSONResponse:
        if stored.request_hash != self.request_hash:
            raise ValidationFailed("this Idempotency-Key was used for a different request", field="Idempotency-Key")
        return JSONResponse(
            json.loads(stored.response_body), status_code=stored.status_code, headers={"Idempotent-Replayed": "true"}
        )


async def idempotency(
    request: Request,
    principal: CurrentPrincipal,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> Idempotency:
    if idempotency_key is None:  # most requests: nothing to claim, so nothing to work out
        return Idempotency(None, "", b"", "")
    route = f"{request.method} {request.url.path}"
    return Idempotency(idempotency_key, route, await request.body(), principal_key(principal))


def principal_key(principal: Principal) -> str:
    """Who a key belongs to: the subject with its roles and scope, so a token of the same name with other
    roles or another region never replays a response made for the first."""
    grant = "|".join([*sorted(principal.roles), principal.region])
    return f"{principal.subject[:80]}#{hashlib.sha256(grant.encode()).hexdigest()[:32]}"


# An id: never personal data, though its random hex can hold eleven digits in a row that read as a mobile.
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def masked(value: Any) -> Any:
    """A JSON value with every resident ID and mobile in its texts masked, ids left whole (masking the JSON text
    as one string once turned ``…-c13812345678`` into ``…-c138****5678``, and the replay named another record)."""
    if isinstance(value, str):
        return value if _UUID.match(value) else mask_text(value)
    if isinstance(value, list):
        return [masked(v) for v in value]
    if isinstance(value, dict):
        return {k: masked(v) for k, v in value.items()}
    return value


def canonical(body: bytes) -> bytes:
    """The request as parsed, not as typed: the same JSON re-indented or with its keys reordered is the same."""
    try:
        return json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    except (ValueError, RecursionError):
        return body


IdempotencyDep = Annotated[Idempotency, Depends(idempotency)]
