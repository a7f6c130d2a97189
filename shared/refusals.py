"""Rule refusals: how a pure rule says no (a code, the field it concerns, a message), mapped once to problem+json.

A rule in ``domain/`` returns ``list[Refusal]`` (empty when the rule holds) or raises ``Refused``; the service
layer calls ``refuse_if`` on what it got. The problem handler turns ``Refused`` into a 422 (or the status given)
whose ``errors`` list each refusal's field, message and code.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from shared.errors import DomainError


@dataclass(frozen=True)
class Refusal:
    """One broken rule: ``code`` is stable (``七不进-3``, ``over_cap``), ``field`` names the input it concerns."""

    code: str
    message: str
    field: str | None = None

    def as_error(self) -> dict[str, str]:
        return {"field": self.field or "body", "message": self.message, "code": self.code}


class Refused(DomainError):
    status = 422
    code = "rule_refused"
    title = "Refused by a rule"

    def __init__(self, *refusals: Refusal, status: int | None = None) -> None:
        if not refusals:
            raise ValueError("Refused needs at least one refusal")
        super().__init__("; ".join(r.message for r in refusals), field=refusals[0].field)
        self.refusals = refusals
        if status is not None:
            self.status = status

    def errors(self) -> list[dict[str, str]]:
        return [r.as_error() for r in self.refusals]


def refuse_if(refusals: Iterable[Refusal], *, status: int | None = None) -> None:
    """Raise ``Refused`` with every refusal given, if there is any."""
    found = tuple(refusals)
    if found:
        raise Refused(*found, status=status)
