"""Bearer JWT with roles and a region-code scope (a prefix of the 12-digit division code)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

import jwt
from fastapi import Depends, Request

from shared.errors import Forbidden, Unauthorized
from shared.settings import StackSettings


class Role(StrEnum):
    village_cadre = "village_cadre"
    township_reviewer = "township_reviewer"
    county_office = "county_office"
    bank_officer = "bank_officer"
    auditor = "auditor"
    helper = "helper"
    system = "system"


@dataclass(frozen=True)
class Principal:
    subject: str
    roles: frozenset[Role]
    region: str

    def has(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))

    def covers(self, region_code: str) -> bool:
        """Whether a region code lies inside this principal's scope."""
        return region_code.startswith(self.region)

    def require_region(self, region_code: str, *, field: str = "region_code") -> None:
        if not self.covers(region_code):
            raise Forbidden(f"region {region_code} is outside your scope {self.region or '(all)'}", field=field)


def issue_token(settings: StackSettings, *, subject: str, roles: list[str], region: str, ttl: int | None = None) -> str:
    now = int(time.time())
    claims = {
        "sub": subject,
        "roles": [Role(r).value for r in roles],
        "region": region,
        "iss": settings.jwt_issuer,
        "iat": now,
        "exp": now + (ttl or settings.jwt_ttl_seconds),
    }
    return jwt.encode(claims, settings.secret(), algorithm="HS256")


def decode_token(settings: StackSettings, token: str) -> Principal:
    try:
        claims = jwt.decode(
            token,
            settings.secret(),
            algorithms=["HS256"],
            issuer=settings.jwt_issuer,
            options={"require": ["sub", "exp"]},
        )
        roles = frozenset(Role(r) for r in claims.get("roles", []))
    except (jwt.PyJWTError, ValueError) as exc:
        raise Unauthorized(f"invalid token: {exc}") from exc
    region = str(claims.get("region", ""))
    if not region and Role.system not in roles:
        raise Unauthorized("token has no region scope")
    return Principal(subject=str(claims["sub"]), roles=roles, region=region)


# The dependencies below are ``async def`` on purpose: they do no I/O (an HS256 check is microseconds), and a
# sync dependency costs a trip to the thread pool on every request.
async def current_principal(request: Request) -> Principal:
    """The caller, decoded from the bearer token once per request and kept on ``request.state``."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("a bearer token is required")
    principal = decode_token(request.app.state.stack, token)
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that lets through principals holding any of ``roles``."""
    wanted = frozenset(roles)
    names = ", ".join(r.value for r in roles)

    async def _check(principal: CurrentPrincipal) -> Principal:
        if not principal.roles & wanted:
            raise Forbidden(f"this needs one of the roles: {names}")
        return principal

    return _check
