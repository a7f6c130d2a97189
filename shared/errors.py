"""Domain errors, and their one mapping to RFC 9457 problem+json responses with a stable ``code``."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from starlette.background import BackgroundTask
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"


class DomainError(Exception):
    status = 400
    code = "bad_request"
    title = "Bad request"

    def __init__(
        self, detail: str, *, field: str | None = None, after: Callable[[], None] | None = None, **extra: Any
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.after = after  # work to do once the request's own transaction has rolled back (a record of the refusal)
        self.extra = extra


class ValidationFailed(DomainError):
    """Input that is well-formed but breaks a rule (a bad checksum, a date out of range)."""

    status = 422
    code = "validation_error"
    title = "Invalid input"


class NotFound(DomainError):
    status = 404
    code = "not_found"
    title = "Not found"


class Conflict(DomainError):
    status = 409
    code = "conflict"
    title = "Conflict"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    title = "Forbidden"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"
    title = "Authentication required"


def problem(status: int, code: str, title: str, detail: str, *, instance: str = "", **extra: Any) -> JSONResponse:
    body = {
        "type": f"https://fupin.example/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "instance": instance,
        **extra,
    }
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body",)]
    return ".".join(parts) or "body"


_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: ([\w.]+)")
_POSTGRES_KEY = re.compile(r"Key \(([\w, ]+)\)=")


def unique_violation_field(exc: IntegrityError) -> str | None:
    """The column a unique violation is about, from the driver's report (never its values), or None if it is
    not a unique violation (a foreign key, a check)."""
    original = exc.orig
    diag = getattr(original, "diag", None)
    if diag is not None:  # psycopg
        if getattr(original, "sqlstate", None) != "23505":
            return None
        # "Key (id_number)=(…) already exists": the column names only, never the value after them
        key = _POSTGRES_KEY.match(diag.message_detail or "")
        if key:
            return key.group(1).split(",")[0].strip()  # the first, as SQLite names it
        constraint = diag.constraint_name or ""
        table = diag.table_name or ""
        column = constraint.removeprefix(f"uq_{table}_").removeprefix(f"ix_{table}_").removeprefix("pk_")
        return column or "body"
    found = _SQLITE_UNIQUE.search(str(original))
    if found is None:
        return None
    return found.group(1).split(".", 1)[-1]


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        extra = dict(exc.extra)
        errors = getattr(exc, "errors", None)
        if callable(errors):
            extra["errors"] = errors()
        elif exc.field:
            extra["errors"] = [{"field": exc.field, "message": exc.detail}]
        response = problem(exc.status, exc.code, exc.title, exc.detail, instance=request.url.path, **extra)
        if exc.after is not None:
            response.background = BackgroundTask(exc.after)
        return response

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        """Two writers racing for one unique value: the loser learns what clashed, as the pre-checks say it."""
        field = unique_violation_field(exc)
        if field is None:
            raise exc
        detail = f"another record already has this {field}"
        return problem(
            409, "conflict", "Conflict", detail, instance=request.url.path, errors=[{"field": field, "message": detail}]
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"field": _field_path(e["loc"]), "message": e["msg"]} for e in exc.errors()]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return problem(422, "validation_error", "Invalid input", detail, instance=request.url.path, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized", 403: "forbidden"}.get(
            exc.status_code, "http_error"
        )
        return problem(exc.status_code, code, str(exc.detail), str(exc.detail), instance=request.url.path)
