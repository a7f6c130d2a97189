"""Calls from one service to another's REST API, for reads that events do not carry (a household as of a day).

A service never changes another's data this way; it reads with a short-lived ``system`` token. Connection
errors, timeouts and 5xx answers are retried a few times with a short backoff; when the other service still
does not answer, ``ServiceUnavailable`` becomes a 503 problem+json naming it, never a hang. A 4xx answer is
the other service's verdict and is raised as ``CallRefused`` with its status and problem body.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
from fastapi import Request

from shared.auth import issue_token
from shared.errors import DomainError
from shared.settings import StackSettings

TOKEN_TTL_SECONDS = 300
PAGE_SIZE = 500  # items asked for per page when following a list to its end


class ServiceUnavailable(DomainError):
    status = 503
    code = "service_unavailable"
    title = "A service this needs is not answering"


class CallRefused(DomainError):
    """The other service answered 4xx: ``status`` and ``problem`` are its own."""

    def __init__(self, service: str, status: int, problem: dict[str, Any]) -> None:
        super().__init__(f"{service} answered {status}: {problem.get('detail', '')}")
        self.status = status if status in (404, 409, 422) else 502
        self.code = str(problem.get("code", "upstream_refused"))
        self.problem = problem


class ServiceClient:
    """A client for one other service, as the ``system`` role, from the caller ``caller``."""

    def __init__(
        self,
        stack: StackSettings,
        service: str,
        *,
        caller: str,
        client: httpx.Client | None = None,
        backoff_seconds: float = 0.2,
    ) -> None:
        self.stack = stack
        self.service = service
        self.caller = caller
        self.backoff_seconds = backoff_seconds
        self._client = client or httpx.Client(
            base_url=stack.service_url(service), timeout=stack.service_call_timeout_seconds
        )

    def _headers(self) -> dict[str, str]:
        token = issue_token(
            self.stack, subject=f"service:{self.caller}", roles=["system"], region="", ttl=TOKEN_TTL_SECONDS
        )
        return {"Authorization": f"Bearer {token}"}

    def get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET ``path`` (under ``/api/v1``) and return its JSON body."""
        return self._call("GET", path, params=params).json()

    def pages(self, path: str, params: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Every page of a paged list (``items`` and ``next_cursor``), first to last, cursor by cursor."""
        query = {"limit": PAGE_SIZE, **(params or {})}
        while True:
            page = self.get_json(path, params=query)
            yield page
            if not page.get("next_cursor"):
                return
            query["cursor"] = page["next_cursor"]

    def items(self, path: str, params: dict[str, Any] | None = None) -> Iterator[Any]:
        """Every item of a paged list, page by page (never the whole list in one answer)."""
        for page in self.pages(path, params):
            yield from page["items"]

    def download(self, path: str, target: Path, params: dict[str, Any] | None = None) -> httpx.Headers:
        """GET ``path`` streamed to ``target`` (a snapshot of millions of rows: never whole in memory), with the
        same retries and refusals as ``get_json``; a failed attempt leaves no partial file. Returns the answer's
        headers (a watermark, a checksum)."""
        attempts = max(1, self.stack.service_call_attempts)
        last = ""
        for attempt in range(attempts):
            if attempt:
                time.sleep(self.backoff_seconds * 2 ** (attempt - 1))
            try:
                with self._client.stream("GET", f"/api/v1{path}", params=params, headers=self._headers()) as response:
                    if response.status_code >= 500:
                        last = f"HTTP {response.status_code}"
                        continue
                    if response.status_code >= 400:
                        response.read()
                        raise CallRefused(self.service, response.status_code, _problem(response))
                    with target.open("wb") as out:
                        for chunk in response.iter_bytes(1 << 20):
                            out.write(chunk)
                    return response.headers
            except httpx.TransportError as exc:
                target.unlink(missing_ok=True)
                last = type(exc).__name__
        raise ServiceUnavailable(f"the {self.service} service did not answer ({last}); try again later")

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        attempts = max(1, self.stack.service_call_attempts)
        last = ""
        for attempt in range(attempts):
            if attempt:
                time.sleep(self.backoff_seconds * 2 ** (attempt - 1))
            try:
                response = self._client.request(method, f"/api/v1{path}", headers=self._headers(), **kwargs)
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}"
                continue
            if response.status_code >= 500:
                last = f"HTTP {response.status_code}"
                continue
            if response.status_code >= 400:
                raise CallRefused(self.service, response.status_code, _problem(response))
            return response
        raise ServiceUnavailable(f"the {self.service} service did not answer ({last}); try again later")

    def close(self) -> None:
        self._client.close()


def _problem(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {"detail": response.text[:200]}
    return body if isinstance(body, dict) else {"detail": str(body)[:200]}


def client_of(service: str) -> Callable[[Request], Iterator[ServiceClient]]:
    """A route dependency: ``service``'s REST API as the ``system`` role, from the app's own stack settings,
    closed when the request ends (``Annotated[ServiceClient, Depends(client_of("registry"))]``)."""

    def dependency(request: Request) -> Iterator[ServiceClient]:
        client = ServiceClient(request.app.state.stack, service, caller=request.app.state.db.service)
        try:
            yield client
        finally:
            client.close()

    return dependency
