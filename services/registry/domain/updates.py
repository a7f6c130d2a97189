"""Partial updates (PATCH): a field may be left out, never blanked when the record always has it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from shared.refusals import Refusal


def blank_refusals(*, changes: Mapping[str, Any], required: Iterable[str]) -> list[Refusal]:
    """One refusal for each always-present field the update sends as null."""
    return [
        Refusal("blank", f"{name} cannot be blank", name)
        for name in required
        if name in changes and changes[name] is None
    ]
