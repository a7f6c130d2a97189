"""Rules for a household's members: valid resident IDs consistent with sex and birth date, one head; details."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

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


# Member details that change over a member's life and are edited as versions (not identity: name, ID, relation).
DETAIL_FIELDS = (
    "phone",
    "in_hukou",
    "co_resident",
    "labour",
    "health",
    "disability_grade",
    "medical_insurance",
    "family_doctor",
    "education",
    "school",
    "dropout",
    "skills",
    "migrant_place",
    "migrant_months",
    "employment",
    "party_member",
    "public_payroll",
    "village_cadre",
)
# Yes/no facts every member has: they can be switched, never blanked.
FLAGS = frozenset({"in_hukou", "co_resident", "dropout", "party_member", "public_payroll", "village_cadre"})


def check_details(*, edit: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, Any]:
    """The details an edit really changes, checked: a valid mobile, flags never blank, a grade only with 残疾."""
    changed: dict[str, Any] = {}
    for name, value in edit.items():
        if name not in DETAIL_FIELDS:
            raise ValidationFailed(f"{name} is not a member detail that can be edited", field=name)
        if value is None and name in FLAGS:
            raise ValidationFailed(f"{name} is yes or no, never blank", field=name)
        if name == "phone" and value is not None:
            try:
                value = validate_mobile(value)
            except InvalidIdentifier as exc:
                raise ValidationFailed(str(exc), field="phone") from exc
        if current.get(name) != value:
            changed[name] = value
    after = {**current, **changed}
    touched = "health" in changed or "disability_grade" in changed
    if touched and after.get("disability_grade") is not None and after.get("health") != "disabled":
        raise ValidationFailed("a disability grade (残疾等级) goes with health 'disabled'", field="disability_grade")
    if not changed:
        raise ValidationFailed("the edit changes none of the member's details", field="body")
    return changed


def check_details_date(*, effective_date: date, today: date, details_since: date) -> str | None:
    """Why an edit of member details cannot take effect that day: not in the future, not before the details now held."""
    if effective_date > today:
        return f"effective date {effective_date} is in the future"
    if effective_date < details_since:
        return f"the member's details have been as they are since {details_since}; an edit cannot take effect before"
    return None
