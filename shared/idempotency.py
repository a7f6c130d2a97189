"""``Idempotency-Key`` for POSTs: a retried request gets the first response, and nothing is done twice.

The key is stored in the same transaction as the change it guards, so either both commit or
neither does. The same key with a different body is a 422: the client reused a key by mistake.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy import insert, select
from sqlmodel import Session

from shared.clock import session_clock
from shared.errors import ValidationFailed
from shared.events.outbox import INFRA

IDEMPOTENCY = INFRA.idempotency


class Idempotency:
    def __init__(self, key: str | None, route: str, body: bytes, principal: str) -> None:
        self.key = key
        self.route = route
        self.principal = principal
        self.request_hash = hashlib.sha256(route.encode() + b"\n" + body).hexdigest()

    def run(self, session: Session, action: Callable[[], Any], *, status_code: int = 201) -> Any:
        """Run ``action`` once per key; a repeat returns the stored response instead."""
        if not self.key:
            return action()
        stored = session.execute(
            select(IDEMPOTENCY).where(IDEMPOTENCY.c.principal == self.principal, IDEMPOTENCY.c.key == self.key)
        ).first()
        if stored is not None:
            if stored.request_hash != self.request_hash:
                raise ValidationFailed("this Idempotency-Key was used for a different request", field="Idempotency-Key")
            return JSONResponse(
                json.loads(stored.response_body),
                status_code=stored.status_code,
                headers={"Idempotent-Replayed": "true"},
            )
        result = action()
        session.execute(
            insert(IDEMPOTENCY).values(
                principal=self.principal,
                key=self.key,
                route=self.route,
                request_hash=self.request_hash,
                status_code=status_code,
                response_body=json.dumps(jsonable_encoder(result), ensure_ascii=False),
                created_at=session_clock(session).now(),
            )
        )
        return result


async def idempotency(
    request: Request, idempotency_key: Annotated[str | None, Header(max_length=200)] = None
) -> Idempotency:
    principal = getattr(request.state, "principal", None)
    subject = principal.subject if principal else "anonymous"
    return Idempotency(idempotency_key, f"{request.method} {request.url.path}", await request.body(), subject)


IdempotencyDep = Annotated[Idempotency, Depends(idempotency)]
