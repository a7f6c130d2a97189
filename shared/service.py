"""The app factory every service uses: lifespan, database, NATS, relay, consumers, health and metrics."""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
import secrets
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import structlog
from fastapi import APIRouter, FastAPI, Response
from fastapi.responses import JSONResponse
from fastapi.telemetry import TelemetryConfig
from nats.aio.client import Client
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import MetaData
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared import audit, logs
from shared.auth import Role, require
from shared.clock import Clock
from shared.db import Database, upgrade
from shared.deps import ReadSessionDep
from shared.errors import install_problem_handlers, problem
from shared.events.bus import connect, ensure_streams
from shared.events.consumer import EventConsumer, Subscription
from shared.events.relay import OutboxRelay
from shared.hooks import run_before_response
from shared.jobs.api import jobs_router
from shared.jobs.periodic import PeriodicJob, PeriodicRunner
from shared.limits import BodyLimit
from shared.logs import configure_logging
from shared.metrics import ServiceMetrics, exposition
from shared.settings import ServiceSettings, StackSettings, stack_settings

log = logging.getLogger(__name__)
error_log = structlog.get_logger("fupin.error")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


# Our request ids: 48 random bits of this process and a count: unique without a uuid4 (an os.urandom call each).
_ID_PREFIX = f"{secrets.token_hex(6)}-"
_id_count = itertools.count(1)


def _request_id(given: str | None) -> str:
    """The caller's request id if it is a plain token, else one of ours (a header never reaches a log raw)."""
    if given and _REQUEST_ID.match(given):
        return given
    return f"{_ID_PREFIX}{next(_id_count):x}"


@dataclass(frozen=True)
class ServiceSpec:
    """What makes one service: its name, tables, routes, migrations and subscriptions."""

    name: str
    title: str
    metadata: MetaData
    routers: Sequence[APIRouter]
    migrations: Path
    subscriptions: Sequence[Subscription] = field(default_factory=tuple)
    periodic: Sequence[PeriodicJob] = field(default_factory=tuple)


class Runtime:
    """The live parts of a running service, kept on ``app.state``."""

    def __init__(self, spec: ServiceSpec, stack: StackSettings, own: ServiceSettings, clock: Clock | None) -> None:
        self.spec = spec
        self.stack = stack
        self.own = own
        self.db = Database(stack.database_url(spec.name), service=spec.name, clock=clock)
        self.metrics = ServiceMetrics(spec.name)
        self.nc: Client | None = None
        self.relay: OutboxRelay | None = None
        self.consumers: list[EventConsumer] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.periodic = PeriodicRunner(self.db, spec.periodic, tick_seconds=stack.job_tick_seconds)

    async def start(self) -> None:
        if self.own.migrate_on_start:
            await asyncio.to_thread(upgrade, self.spec.migrations, self.db.url, service=self.spec.name)
        if self.own.run_jobs and self.spec.periodic:
            self.tasks.append(asyncio.create_task(self.periodic.run_forever(), name=f"{self.spec.name}-jobs"))
        self.tasks.append(asyncio.create_task(self._messaging(), name=f"{self.spec.name}-messaging"))

    async def _messaging(self) -> None:
        while self.nc is None:
            try:
                self.nc = await connect(self.stack, name=self.spec.name)
            except Exception as exc:  # broker not up yet: keep trying, /readyz says not ready
                log.warning("nats connect failed: %s", exc)
                await asyncio.sleep(1.0)
        js = self.nc.jetstream()
        while True:
            try:
                await ensure_streams(js, self.stack)
                break
            except Exception as exc:
                log.warning("stream setup failed: %s", exc)
                await asyncio.sleep(1.0)
        if self.own.run_relay:
            self.relay = OutboxRelay(self.db, js, self.stack, self.metrics)
            self.db.after_commit.append(self.relay.notify)
            self.tasks.append(asyncio.create_task(self.relay.run(), name=f"{self.spec.name}-relay"))
        if self.own.run_consumers:
            for subscription in self.spec.subscriptions:
                consumer = EventConsumer(subscription, self.db, js, self.stack, self.metrics)
                self.consumers.append(consumer)
                self.tasks.append(asyncio.create_task(consumer.run(), name=consumer.name))

    def ready(self) -> dict[str, bool]:
        try:
            self.db.ping()
            database = True
        except Exception:
            database = False
        return {"database": database, "nats": bool(self.nc and self.nc.is_connected)}

    async def stop(self) -> None:
        self.periodic.stop()
        if self.relay:
            self.relay.stop()
        for consumer in self.consumers:
            consumer.stop()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        if self.nc is not None:
            await self.nc.close()
        self.db.dispose()


# FastAPI's own OpenTelemetry, off: the services count and time requests in Prometheus (shared.metrics) and log them
# (shared.logs). Left on, FastAPI asks OpenTelemetry for its global providers on every request, to learn whether
# anyone configured them.
NO_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}


def build_app(spec: ServiceSpec, *, stack: StackSettings | None = None, clock: Clock | None = None) -> FastAPI:
    stack = stack or stack_settings()
    own = ServiceSettings.for_service(spec.name)
    configure_logging(spec.name, stack.log_level)
    runtime = Runtime(spec, stack, own, clock)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        yield
        await runtime.stop()

    app = FastAPI(title=spec.title, version="1", lifespan=lifespan, openapi_url="/openapi.json", telemetry=NO_TELEMETRY)
    app.state.runtime = runtime
    app.state.stack = stack
    app.state.db = runtime.db
    install_problem_handlers(app)
    _install_observability(app, runtime)
    # Outermost: a body too large is refused before any other layer reads it.
    app.add_middleware(BodyLimit, max_body_bytes=stack.max_body_bytes, max_upload_bytes=stack.max_upload_bytes)
    for router in spec.routers:
        app.include_router(router, prefix="/api/v1")
    app.include_router(_audit_router(), prefix="/api/v1")
    if spec.periodic:
        app.include_router(jobs_router(), prefix="/api/v1")
    return app


class Observe:
    """Pure ASGI middleware: the request id (the caller's if it is a plain token, else ours), the metrics per route
    template and status, the access log line, and every uncaught exception turned into a masked log line and a
    500 problem+json (a body that ended early: 400). Unlike ``BaseHTTPMiddleware`` it adds no task, stream or
    response wrapper to a request: it only watches the ``http.response.start`` message go by."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                given = value.decode("latin-1")
                break
        request_id = _request_id(given)
        id_header = (b"x-request-id", request_id.encode())
        status = 500
        started_response = False

        async def observed(message: Message) -> None:
            nonlocal status, started_response
            if message["type"] == "http.response.start":
                await run_before_response(scope)  # may raise: then nothing has been sent, and it is a 500
                started_response = True
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), id_header]}
            await send(message)

        tokens = structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        try:
            await self.app(scope, receive, observed)
        except ClientDisconnect:
            if not started_response:
                answer = problem(400, "bad_request", "Bad request", "the body ended early", instance=scope["path"])
                await answer(scope, receive, observed)
        except Exception:
            # Ours to log (masked, with the request id), never the server's: its traceback would carry the
            # SQL parameters, resident IDs and phones included. Counted and access-logged like any response.
            error_log.exception("unhandled error", method=scope["method"], path=scope["path"])
            if not started_response:
                answer = problem(
                    500,
                    "internal_error",
                    "Internal error",
                    f"an unexpected error; it is logged under request id {request_id}",
                    instance=scope["path"],
                )
                await answer(scope, receive, observed)
            else:  # the status line is gone: the client sees the connection end before the body does
                status = 500
        finally:
            structlog.contextvars.reset_contextvars(**tokens)
        elapsed = time.perf_counter() - started
        route = scope.get("route")
        template = getattr(route, "path", "unmatched")
        method = scope["method"]
        self.metrics.observe_request(method, template, status, elapsed)
        principal = scope.get("state", {}).get("principal")
        logs.access(
            {
                "method": method,
                "route": template,
                "status": status,
                "ms": round(elapsed * 1000, 1),
                "request_id": request_id,
                "principal": principal.subject if principal else None,
            }
        )


def _install_observability(app: FastAPI, runtime: Runtime) -> None:
    metrics = runtime.metrics
    app.add_middleware(Observe, metrics=metrics)

    healthy = {"status": "ok", "service": runtime.spec.name}

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:  # async: no I/O, so no trip to the thread pool
        return healthy

    # First of the routes (FastAPI put its docs routes before it): probes and load balancers call it most.
    app.router.routes.insert(0, app.router.routes.pop())

    @app.get("/readyz", include_in_schema=False)
    def readyz() -> JSONResponse:
        checks = runtime.ready()
        status = 200 if all(checks.values()) else 503
        return JSONResponse({"ready": status == 200, "checks": checks}, status_code=status)

    @app.get("/metrics", include_in_schema=False)
    def prometheus() -> Response:
        return Response(exposition(metrics.registry), media_type=CONTENT_TYPE_LATEST)


def _audit_router() -> APIRouter:
    from fastapi import Depends

    router = APIRouter(tags=["audit"])

    @router.get("/audit/verify", dependencies=[Depends(require(Role.auditor, Role.county_office, Role.system))])
    def verify_audit_chain(session: ReadSessionDep) -> dict[str, object]:
        """Recompute the hash chain of this service's audit log (审计日志校验)."""
        check = audit.verify(session)
        return {"entries": check.entries, "valid": check.valid, "first_bad_seq": check.first_bad_seq}

    return router


def app_factory(spec: ServiceSpec):
    """``create_app`` for a service module: uvicorn calls it with ``--factory``; tests pass settings and a clock."""

    def create_app(stack: StackSettings | None = None, clock: Clock | None = None) -> FastAPI:
        return build_app(spec, stack=stack, clock=clock)

    return create_app
