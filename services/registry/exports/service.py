"""What each export covers: the household of a card, the village of a register, the township or county of a roll,
each inside the caller's scope. Rendering is ``card`` and ``registers``."""

from __future__ import annotations

from sqlmodel import Session, col, select

from services.registry.domain.codes import GRADE_LABELS, HousingGrade
from services.registry.domain.regions import Level, prefix_of
from services.registry.households.schemas import HouseholdPublic
from services.registry.households.service import read_household
from services.registry.households.views import household_public
from services.registry.models import Helper, IncomeDeclaration, Region
from services.registry.regions.service import ancestors, get_region, require_village
from shared.auth import Principal
from shared.disclosure import Disclosure
from shared.errors import Forbidden, ValidationFailed
from shared.scope import narrow, require_region

ROLL_LEVELS = (Level.township.value, Level.county.value)


def card(
    session: Session, household_id: str, principal: Principal, show: Disclosure
) -> tuple[HouseholdPublic, str, list[tuple[str, str]]]:
    """The household as the caller may see it, where it lives (township, village) for the card's heading, and
    what the national card carries beside it: its helpers, its latest income, housing and land."""
    household = household_public(read_household(session, household_id, principal, as_of=None), show)
    region = get_region(session, household.region_code)
    place = "".join(r.name for r in ancestors(session, region)[2:]) + region.name
    return household, place, card_facts(session, household, show)


def card_facts(session: Session, household: HouseholdPublic, show: Disclosure) -> list[tuple[str, str]]:
    helpers = session.exec(select(Helper).where(col(Helper.id).in_(household.active_helper_ids))).all()
    income = session.exec(
        select(IncomeDeclaration)
        .where(IncomeDeclaration.household_id == household.id)
        .order_by(col(IncomeDeclaration.year).desc(), col(IncomeDeclaration.recorded_at).desc())
        .limit(1)
    ).first()
    grade = household.housing.grade if household.housing else None
    land = household.land.cultivated_mu if household.land else None
    return [
        ("帮扶责任人", "；".join(f"{h.name} {show.phone(h.phone) or ''}".strip() for h in helpers) or "未结对"),
        (
            "人均纯收入",
            f"{income.per_capita_net_income} 元（{income.year}年）" if income is not None else "未申报",
        ),
        ("住房安全等级", GRADE_LABELS[HousingGrade(grade)] if grade else "未评定"),
        ("耕地面积", f"{land} 亩" if land is not None else ""),
    ]


def register_village(session: Session, village: str, principal: Principal) -> Region:
    """The village of a 一村一册: inside the caller's scope (403 on ``village``) and in the region tree."""
    require_region(principal, village, field="village")
    return require_village(session, village, field="village")


def roll_scope(session: Session, code: str, principal: Principal) -> tuple[Region, str]:
    """The township or county of a roll, and the prefix it covers for the caller: the part inside their scope."""
    area = get_region(session, code.ljust(12, "0"))
    if area.level not in ROLL_LEVELS:
        raise ValidationFailed("a roll is for a township or a county", field="region")
    prefix = narrow(principal.region, prefix_of(area.code, Level(area.level)))
    if prefix is None:
        raise Forbidden(f"region {code} is outside your scope", field="region")
    return area, prefix
