"""A household as each caller may see it: the shared disclosure policy (``shared.disclosure``) applied to its
facts and members, nested blocks rebuilt from the table's prefixed columns."""

from __future__ import annotations

from typing import Any

from services.registry.households.schemas import BLOCKS, HouseholdPublic
from services.registry.households.service import HouseholdView
from shared.disclosure import Disclosure

# Which household column goes to which nested block (``housing_grade`` → ``housing.grade``), worked out once.
_BLOCK_OF = {prefix + key: (name, key) for name, (prefix, model) in BLOCKS.items() for key in model.model_fields}
_SCALARS = frozenset(HouseholdPublic.model_fields) - set(BLOCKS)


def member_public(member: dict[str, Any], disclosure: Disclosure, *, as_of: Any = None) -> dict[str, Any]:
    """A member's columns as the caller may see them (validated once, with the household)."""
    data = member | {"id_number": disclosure.id_number(member["id_number"]), "phone": disclosure.phone(member["phone"])}
    if as_of is not None and (member["left_on"] is None or member["left_on"] > as_of):
        data |= {"left_on": None, "left_reason": None, "active": True}  # not yet known on that day
    return data


def household_public(view: HouseholdView, disclosure: Disclosure) -> HouseholdPublic:
    """The household read, masked for the caller, built as one dict and validated once."""
    data: dict[str, Any] = {name: {} for name in BLOCKS}
    for column, value in view.facts.items():
        block = _BLOCK_OF.get(column)
        if block is not None:
            data[block[0]][block[1]] = value
        elif column in _SCALARS:
            data[column] = value
    members = [member_public(m, disclosure, as_of=view.as_of) for m in view.members]
    data |= {
        "members": members,
        "member_count": sum(1 for m in members if m["active"]),
        "categories": view.categories,
        "as_of": view.as_of,
        "active_helper_ids": view.active_helper_ids,
        "needs_helper": view.needs_helper,
    }
    return HouseholdPublic.model_validate(data)
