"""Export routes: household cards, village registers, township and county rolls."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query
from fastapi.responses import FileResponse, Response

from services.registry import regions, service
from services.registry.disclosure import household_public
from services.registry.domain.regions import Level, prefix_of
from services.registry.exports.card import card_pdf, card_xlsx
from services.registry.exports.registers import roll, village_register
from shared.auth import Principal
from shared.deps import ReadSessionDep
from shared.disclosure import DisclosureDep, Reader
from shared.errors import Forbidden, ValidationFailed
from shared.files.mime import PDF, XLSX, attachment

router = APIRouter(tags=["exports"])


def _card(household_id: str, session, principal: Principal, show) -> tuple:  # type: ignore[no-untyped-def]
    view = service.read_household(session, household_id, principal, as_of=None)
    card = household_public(view, show)
    region = regions.get_region(session, card.region_code)
    place = "".join(r.name for r in regions.ancestors(session, region)[2:]) + region.name
    show.audit(f"household/{household_id}/card")
    return card, place


@router.get("/households/{household_id}/card.pdf", response_class=Response)
def household_card_pdf(household_id: str, session: ReadSessionDep, principal: Reader, show: DisclosureDep) -> Response:
    """一户一卡 as PDF; IDs and phones masked unless ``reveal=true`` (audited)."""
    card, place = _card(household_id, session, principal, show)
    return Response(card_pdf(card, place), media_type=PDF, headers=attachment(f"一户一卡-{card.hukou_number}.pdf"))


@router.get("/households/{household_id}/card.xlsx", response_class=Response)
def household_card_xlsx(household_id: str, session: ReadSessionDep, principal: Reader, show: DisclosureDep) -> Response:
    card, place = _card(household_id, session, principal, show)
    return Response(card_xlsx(card, place), media_type=XLSX, headers=attachment(f"一户一卡-{card.hukou_number}.xlsx"))


@router.get("/exports/village-register.xlsx", response_class=FileResponse)
def village_register_xlsx(
    session: ReadSessionDep,
    principal: Reader,
    show: DisclosureDep,
    cleanup: BackgroundTasks,
    village: Annotated[str, Query(pattern=r"^\d{12}$")],
) -> FileResponse:
    """一村一册: every member of every household of one village."""
    if not principal.covers(village):
        raise Forbidden(f"village {village} is outside your scope", field="village")
    region = regions.require_village(session, village, field="village")
    path = village_register(session, village, show, f"一村一册 {region.name}")
    show.audit(f"region/{village}/register")
    return _file(path, f"一村一册-{region.name}.xlsx", cleanup)


@router.get("/exports/roll.xlsx", response_class=FileResponse)
def region_roll_xlsx(
    session: ReadSessionDep,
    principal: Reader,
    show: DisclosureDep,
    cleanup: BackgroundTasks,
    region: Annotated[str, Query(pattern=r"^\d{12}$", description="a township or county code")],
) -> FileResponse:
    """一乡一簿 / 一县一库: one row per household of a township or county."""
    area = regions.get_region(session, region)
    if area.level not in (Level.township.value, Level.county.value):
        raise ValidationFailed("a roll is for a township or a county", field="region")
    prefix = prefix_of(area.code, Level(area.level))
    if not (prefix.startswith(principal.region) or principal.region.startswith(prefix)):
        raise Forbidden(f"region {region} is outside your scope", field="region")
    scoped = principal.region if principal.region.startswith(prefix) else prefix
    path = roll(session, scoped, show, f"花名册 {area.name}")
    show.audit(f"region/{region}/roll")
    return _file(path, f"花名册-{area.name}.xlsx", cleanup)


def _file(path: Path, filename: str, cleanup: BackgroundTasks) -> FileResponse:
    cleanup.add_task(path.unlink, missing_ok=True)
    return FileResponse(path, media_type=XLSX, headers=attachment(filename))
