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


REGION_LENGTHS = (2, 4, 6, 9, 12)  # province, city, county, township, village
# What each refusal of the JWT library means, in our words (its own name the library's internals).
_JWT_REASONS: tuple[tuple[type[Exception], str], ...] = (
    (jwt.ExpiredSignatureError, "the token has expired"),
    (jwt.ImmatureSignatureError, "the token is not valid yet"),
    (jwt.InvalidIssuerError, "the token was not issued by this installation"),
    (jwt.MissingRequiredClaimError, "the token lacks a required claim (sub, exp, iat, iss)"),
    (jwt.InvalidAlgorithmError, "the token is signed with an algorithm this installation does not accept"),
    (jwt.InvalidSignatureError, "the token's signature does not match this installation's key"),
)


def valid_region_claim(region: object, roles: frozenset[Role]) -> str:
    """A token's region: the digits of a division code at one of its levels; only ``system`` may have none."""
    if not isinstance(region, str):
        raise Unauthorized("the token's region must be a division code written as a string of digits")
    if region == "" and Role.system in roles:
        return region
    if not (region.isascii() and region.isdigit() and len(region) in REGION_LENGTHS):
        raise Unauthorized("the token's region is not a division code of 2, 4, 6, 9 or 12 digits")
    return region


# Tokens already checked, with the key and rules that checked them: an HS256 check and the claim rules cost
# ~60 µs a request, and a caller sends the same token many times. A cached principal is only handed out while
# its token has not expired (the one check that changes with time); a refused token is never kept.
_CHECKED: dict[tuple[str, str, str, int], tuple[Principal, int]] = {}
_CHECKED_MAX = 4096


def decode_token(settings: StackSettings, token: str) -> Principal:
    key = (token, settings.secret(), settings.jwt_issuer, settings.jwt_max_ttl_seconds)
    hit = _CHECKED.get(key)
    if hit is not None:
        if time.time() < hit[1]:
            return hit[0]
        _CHECKED.pop(key, None)  # expired: the full check below refuses it in its own words
    principal, expires = _check_token(settings, token)
    if len(_CHECKED) >= _CHECKED_MAX:
        _CHECKED.clear()  # many callers: start again rather than grow
    _CHECKED[key] = (principal, expires)
    return principal


def _check_token(settings: StackSettings, token: str) -> tuple[Principal, int]:
    try:
        claims = jwt.decode(
            token,
            settings.secret(),
            algorithms=["HS256"],
            issuer=settings.jwt_issuer,
            options={"require": ["sub", "exp", "iat", "iss"]},
        )
    except jwt.PyJWTError as exc:
        reason = next((text for kind, text in _JWT_REASONS if isinstance(exc, kind)), "the token is not valid")
        raise Unauthorized(reason) from exc
    try:
        roles = frozenset(Role(r) for r in claims.get("roles", []))
    except (TypeError, ValueError) as exc:
        raise Unauthorized("the token names a role this installation does not have") from exc
    if not isinstance(claims["exp"], int) or not isinstance(claims["iat"], int):
        raise Unauthorized("the token's times are not whole seconds")
    if claims["exp"] - claims["iat"] > settings.jwt_max_ttl_seconds:
        raise Unauthorized(f"the token lives longer than this installation allows ({settings.jwt_max_ttl_seconds} s)")
    region = valid_region_claim(claims.get("region", ""), roles)
    return Principal(subject=str(claims["sub"]), roles=roles, region=region), claims["exp"]


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
