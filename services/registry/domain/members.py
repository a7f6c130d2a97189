"""Rules for a household's members: valid resident IDs consistent with sex and birth date, one head; details.

A malformed identifier (a resident ID with a bad check digit, a number that is no mobile) is invalid input, a
``ValidationFailed`` like any other badly formed field; a broken rule (two heads, an edit that changes nothing)
is a ``Refused`` with its code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from services.registry.domain.dates import not_in_future
from shared.errors import ValidationFailed
from shared.identity import InvalidIdentifier, ResidentId, Sex, check_consistent, parse_resident_id, validate_mobile
from shared.refusals import Refusal, Refused


@dataclass(frozen=True)
class MemberFacts:
    id_number: str
    relation: str
    sex: Sex | None
    birth_date: date | None
    phone: str | None = None


@dataclass(frozen=True)
class CheckedMember:
    id_number: str
    sex: str
    birth_date: date
    phone: str | None
    id_warning: str | None = None  # an area code unknown for the birth year: kept with the member, to verify


def check_identity(*, facts: MemberFacts, field: str, today: date) -> CheckedMember:
    """The member's resident ID validated (checksum, a birth date that exists, not after ``today``) and agreeing
    with the stated sex and birth date."""
    try:
        rid: ResidentId = parse_resident_id(facts.id_number, today=today)
        check_consistent(rid, birth_date=facts.birth_date, sex=facts.sex)
    except InvalidIdentifier as exc:
        raise ValidationFailed(str(exc), field=f"{field}.id_number") from exc
    phone = check_mobile(facts.phone, field=f"{field}.phone") if facts.phone else None
    return CheckedMember(
        id_number=rid.number, sex=rid.sex, birth_date=rid.birth_date, phone=phone, id_warning=rid.warning
    )


def check_members(members: Sequence[MemberFacts], *, today: date) -> list[CheckedMember]:
    """Every ID valid and consistent with sex and birth date, one head (户主), no ID twice."""
    heads = [i for i, m in enumerate(members) if m.relation == "head"]
    if len(heads) != 1:
        raise Refused(Refusal("one_head", f"a household has exactly one head (户主); found {len(heads)}", "members"))
    checked: list[CheckedMember] = []
    seen: set[str] = set()
    for i, member in enumerate(members):
        one = check_identity(facts=member, field=f"members.{i}", today=today)
        if one.id_number in seen:
            message = "the same resident ID appears twice in this household"
            raise Refused(Refusal("id_twice", message, f"members.{i}.id_number"))
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
            raise Refused(Refusal("not_a_detail", f"{name} is not a member detail that can be edited", name))
        if value is None and name in FLAGS:
            raise Refused(Refusal("blank_flag", f"{name} is yes or no, never blank", name))
        if name == "phone" and value is not None:
            value = check_mobile(value, field="phone")
        if current.get(name) != value:
            changed[name] = value
    after = {**current, **changed}
    touched = "health" in changed or "disability_grade" in changed
    if touched and after.get("disability_grade") is not None and after.get("health") != "disabled":
        message = "a disability grade (残疾等级) goes with health 'disabled'"
        raise Refused(Refusal("grade_without_disability", message, "disability_grade"))
    if not changed:
        raise Refused(Refusal("no_change", "the edit changes none of the member's details", "body"))
    return changed


def check_details_date(*, effective_date: date, today: date, details_since: date) -> list[Refusal]:
    """An edit of member details takes effect by today, and not before the details now held took effect."""
    refusals = not_in_future(day=effective_date, today=today, field="effective_date")
    if not refusals and effective_date < details_since:
        message = f"the member's details have been as they are since {details_since}; an edit cannot take effect before"
        refusals.append(Refusal("before_current_details", message, "effective_date"))
    return refusals


def check_mobile(value: str, *, field: str) -> str:
    """A mainland mobile number, as 11 digits."""
    try:
        return validate_mobile(value)
    except InvalidIdentifier as exc:
        raise ValidationFailed(str(exc), field=field) from exc
