"""Poverty assets (扶贫资产): registered with owner, funding shares and restrictions; a movement log that refuses
what the restrictions forbid (the 阳寨 sheep: ewes stay with poor households in the village, 3-year lock-up,
disposal only after a village cadre's inspection)."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, select

from services.funds.disbursements import status_events
from services.funds.domain.assets import Movement, MovementRequest, Restrictions, TransferScope, check_movement
from services.funds.domain.eligibility import recognised_on
from services.funds.models import Asset, AssetMovement, HouseholdStatus
from services.funds.projects import get_project
from services.funds.schemas import AssetCreate, DisposalApproval, MovementCreate
from shared import audit
from shared.auth import Principal
from shared.clock import session_clock
from shared.errors import Conflict
from shared.refusals import refuse_if
from shared.scope import get_in_scope

APPROVAL = "disposal_approved"


def get_asset(session: Session, asset_id: str, principal: Principal) -> Asset:
    return get_in_scope(session, Asset, asset_id, principal, what="asset")


def register(session: Session, body: AssetCreate, principal: Principal) -> Asset:
    project = get_project(session, body.project_id, principal)
    if session.exec(select(Asset).where(Asset.tag == body.tag)).first():
        raise Conflict(f"an asset is registered under tag {body.tag}", field="tag")
    asset = Asset(
        **body.values(exclude={"funding_shares", "restrictions"}),
        region_code=project.region_code,
        funding_shares=[s.model_dump(mode="json") for s in body.funding_shares],
        **body.restrictions.model_dump(),
        created_at=session_clock(session).now(),
    )
    session.add(asset)
    session.flush()
    audit.record(
        session,
        actor=principal.subject,
        action="asset.registered",
        resource=f"asset/{asset.id}",
        detail={"tag": asset.tag, "project": project.id, "value": str(asset.value)},
    )
    return asset


def _pending_approval(session: Session, asset: Asset) -> AssetMovement | None:
    """The latest disposal approval not yet used by a disposal."""
    rows = list(
        session.exec(
            select(AssetMovement)
            .where(AssetMovement.asset_id == asset.id)
            .order_by(col(AssetMovement.created_at), col(AssetMovement.id))
        )
    )
    latest = None
    for row in rows:
        latest = row if row.movement == APPROVAL else (None if row.movement == Movement.disposal else latest)
    return latest


def approve_disposal(session: Session, asset: Asset, body: DisposalApproval, principal: Principal) -> AssetMovement:
    """A village cadre's inspection (村干部查验) that allows one disposal."""
    if asset.status != "held":
        raise Conflict(f"the asset is {asset.status}", field="status")
    return _log(session, asset, principal, movement=APPROVAL, on=body.on, note=body.note)


def move(session: Session, asset: Asset, body: MovementCreate, principal: Principal) -> AssetMovement:
    """Transfer, dispose of or write off an asset, if its restrictions allow it."""
    if asset.status != "held":
        raise Conflict(f"the asset is {asset.status}", field="status")
    approval = _pending_approval(session, asset) if body.movement is Movement.disposal else None
    to_poor = bool(body.to_household_id) and recognised_on(status_events(session, body.to_household_id or ""), body.on)
    rules = Restrictions(
        TransferScope(asset.scope), asset.poor_households_only, asset.locked_until, asset.disposal_needs_approval
    )
    to_region = body.to_region_code or _household_region(session, body.to_household_id)
    request = MovementRequest(
        body.movement,
        body.on,
        asset.region_code,
        to_region,
        to_poor,
        approval.actor if approval else None,
        principal.subject,
    )
    refuse_if(check_movement(rules, request))
    row = _log(
        session,
        asset,
        principal,
        movement=body.movement.value,
        on=body.on,
        note=body.note,
        to_household_id=body.to_household_id,
        to_region_code=to_region,
        approved_by=approval.actor if approval else None,
    )
    if body.movement is Movement.transfer:
        asset.owner_household_id, asset.owner_entity = body.to_household_id, body.to_entity
        asset.region_code = to_region or asset.region_code
    else:
        asset.status = "disposed" if body.movement is Movement.disposal else "lost"
    session.add(asset)
    return row


def _household_region(session: Session, household_id: str | None) -> str | None:
    """Where a household is registered, from identification's decisions (the read model)."""
    if not household_id:
        return None
    row = session.exec(select(HouseholdStatus).where(HouseholdStatus.household_id == household_id)).first()
    return row.region_code if row else None


def _log(
    session: Session,
    asset: Asset,
    principal: Principal,
    *,
    movement: str,
    on: date,
    note: str,
    to_household_id: str | None = None,
    to_region_code: str | None = None,
    approved_by: str | None = None,
) -> AssetMovement:
    row = AssetMovement(
        asset_id=asset.id,
        movement=movement,
        on=on,
        from_household_id=asset.owner_household_id,
        to_household_id=to_household_id,
        to_region_code=to_region_code,
        approved_by=approved_by,
        note=note,
        actor=principal.subject,
        created_at=session_clock(session).now(),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=principal.subject,
        action=f"asset.{movement}",
        resource=f"asset/{asset.id}",
        detail={"movement": row.id, "to": to_household_id, "note": note},
    )
    return row
