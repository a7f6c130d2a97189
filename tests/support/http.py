"""Reading our API's answers in tests: a success's body, a problem's body and the fields it names."""

from __future__ import annotations

from typing import Any


def ok(response: Any, status: int = 200) -> Any:
    """The JSON body of a response that must have ``status`` (the body is shown when it has not)."""
    assert response.status_code == status, response.text
    return response.json()


def problem(response: Any, status: int) -> dict[str, Any]:
    """The body of an RFC 9457 problem with ``status``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    body: dict[str, Any] = response.json()
    return body


def field_of(response: Any) -> str:
    """The field the problem's first error names."""
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    return str(response.json()["errors"][0]["field"])


def fields(body: dict[str, Any]) -> set[str]:
    """Every field a problem body names."""
    return {e["field"] for e in body["errors"]}
