"""Export routes: household cards, village registers, township and county rolls."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, BackgroundTasks
from fastapi.responses import FileResponse, Response

from services.registry.exports import service
from services.registry.exports.card import card_pdf, card_xlsx
from services.registry.exports.registers import roll, village_register
from services.registry.exports.schemas import RollRegionParam, VillageParam
from shared.deps import ReadSessionDep
from shared.disclosure import DisclosureDep, Reader
from shared.files.mime import PDF, XLSX, attachment

router = APIRouter(tags=["exports"])


@router.get("/households/{household_id}/card.pdf", response_class=Response)
def household_card_pdf(household_id: str, session: ReadSessionDep, principal: Reader, show: DisclosureDep) -> Response:
    """一户一卡 as PDF; IDs and phones masked unless ``reveal=true`` (audited)."""
    card, place, facts = service.card(session, household_id, principal, show)
    show.audit(f"household/{household_id}/card")
    return Response(
        card_pdf(card, place, facts), media_type=PDF, headers=attachment(f"一户一卡-{card.hukou_number}.pdf")
    )


@router.get("/households/{household_id}/card.xlsx", response_class=Response)
def household_card_xlsx(household_id: str, session: ReadSessionDep, principal: Reader, show: DisclosureDep) -> Response:
    card, place, facts = service.card(session, household_id, principal, show)
    show.audit(f"household/{household_id}/card")
    return Response(
        card_xlsx(card, place, facts), media_type=XLSX, headers=attachment(f"一户一卡-{card.hukou_number}.xlsx")
    )


@router.get("/exports/village-register.xlsx", response_class=FileResponse)
def village_register_xlsx(
    session: ReadSessionDep, principal: Reader, show: DisclosureDep, cleanup: BackgroundTasks, village: VillageParam
) -> FileResponse:
    """一村一册: every member of every household of one village."""
    region = service.register_village(session, village, principal)
    path = village_register(session, village, show, f"一村一册 {region.name}")
    show.audit(f"region/{village}/register")
    return _file(path, f"一村一册-{region.name}.xlsx", cleanup)


@router.get("/exports/roll.xlsx", response_class=FileResponse)
def region_roll_xlsx(
    session: ReadSessionDep, principal: Reader, show: DisclosureDep, cleanup: BackgroundTasks, region: RollRegionParam
) -> FileResponse:
    """一乡一簿 / 一县一库: one row per household of a township or county."""
    area, prefix = service.roll_scope(session, region, principal)
    path = roll(session, prefix, show, f"花名册 {area.name}")
    show.audit(f"region/{region}/roll")
    return _file(path, f"花名册-{area.name}.xlsx", cleanup)


def _file(path: Path, filename: str, cleanup: BackgroundTasks) -> FileResponse:
    cleanup.add_task(path.unlink, missing_ok=True)
    return FileResponse(path, media_type=XLSX, headers=attachment(filename))
