"""Rules for a household's members: valid resident IDs consistent with sex and birth date, one head."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from shared.errors import ValidationFailed
from shared.identity import InvalidIdentifier, ResidentId, check_consistent, parse_resident_id, validate_mobile


@dataclass(frozen=True)
class MemberFacts:
    id_number: str
    relation: str
    sex: str | None
    birth_date: date | None
    phone: str | None = None


@dataclass(frozen=True)
class CheckedMember:
    id_number: str
    sex: str
    birth_date: date
    phone: str | None


def check_identity(*, facts: MemberFacts, field: str) -> CheckedMember:
    """The member's resident ID validated (GB 11643 checksum) and agreeing with the stated sex and birth date."""
    try:
        rid: ResidentId = parse_resident_id(facts.id_number)
        check_consistent(rid, birth_date=facts.birth_date, sex=facts.sex)  # type: ignore[arg-type]
    except InvalidIdentifier as exc:
        raise ValidationFailed(str(exc), field=f"{field}.id_number") from exc
    phone = None
    if facts.phone:
        try:
            phone = validate_mobile(facts.phone)
        except InvalidIdentifier as exc:
            raise ValidationFailed(str(exc), field=f"{field}.phone") from exc
    return CheckedMember(id_number=rid.number, sex=rid.sex, birth_date=rid.birth_date, phone=phone)


def check_members(members: Sequence[MemberFacts]) -> list[CheckedMember]:
    """Every ID valid and consistent with sex and birth date, one head (户主), no ID twice."""
    heads = [i for i, m in enumerate(members) if m.relation == "head"]
    if len(heads) != 1:
        raise ValidationFailed(f"a household has exactly one head (户主); found {len(heads)}", field="members")
    checked: list[CheckedMember] = []
    seen: set[str] = set()
    for i, member in enumerate(members):
        one = check_identity(facts=member, field=f"members.{i}")
        if one.id_number in seen:
            raise ValidationFailed(
                "the same resident ID appears twice in this household", field=f"members.{i}.id_number"
            )
        seen.add(one.id_number)
        checked.append(one)
    return checked
