"""Rules for a household's members."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from shared.errors import ValidationFailed
from shared.identity import InvalidIdentifier, check_consistent, parse_resident_id


@dataclass(frozen=True)
class MemberFacts:
    name: str
    id_number: str
    relation: str
    sex: str | None
    birth_date: date | None


@dataclass(frozen=True)
class CheckedMember:
    name: str
    id_number: str
    relation: str
    sex: str
    birth_date: date


def check_members(members: Sequence[MemberFacts]) -> list[CheckedMember]:
    """Every ID valid and consistent with sex and birth date, one head, no ID twice."""
    heads = [i for i, m in enumerate(members) if m.relation == "head"]
    if len(heads) != 1:
        raise ValidationFailed(f"a household has exactly one head (户主); found {len(heads)}", field="members")
    checked: list[CheckedMember] = []
    seen: set[str] = set()
    for i, member in enumerate(members):
        field = f"members.{i}.id_number"
        try:
            rid = parse_resident_id(member.id_number)
            check_consistent(rid, birth_date=member.birth_date, sex=member.sex)  # type: ignore[arg-type]
        except InvalidIdentifier as exc:
            raise ValidationFailed(str(exc), field=field) from exc
        if rid.number in seen:
            raise ValidationFailed("the same resident ID appears twice in this household", field=field)
        seen.add(rid.number)
        checked.append(CheckedMember(member.name, rid.number, member.relation, rid.sex, rid.birth_date))
    return checked
