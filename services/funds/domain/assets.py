"""Poverty assets (扶贫资产) and their restrictions: transfer scope, lock-up, disposal only after approval."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from shared.refusals import Refusal


class TransferScope(StrEnum):
    village = "village"  # 只在本村内流转
    township = "township"
    county = "county"
    any = "any"


SCOPE_DIGITS = {TransferScope.village: 12, TransferScope.township: 9, TransferScope.county: 6, TransferScope.any: 0}


class Movement(StrEnum):
    transfer = "transfer"  # to another owner (交易 / 流转)
    disposal = "disposal"  # slaughter, sale out of the scheme, scrapping (处置)
    natural_loss = "natural_loss"  # died of natural causes, destroyed by disaster (自然死亡)


@dataclass(frozen=True)
class Restrictions:
    scope: TransferScope = TransferScope.any
    poor_households_only: bool = False
    locked_until: date | None = None
    disposal_needs_approval: bool = False


@dataclass(frozen=True)
class MovementRequest:
    movement: Movement
    on: date
    asset_region: str
    to_region: str | None = None
    to_is_poor: bool = False
    approved_by: str | None = None
    requested_by: str = ""


def check_movement(rules: Restrictions, request: MovementRequest) -> list[Refusal]:
    """What the asset's restrictions forbid about a movement (the 阳寨 sheep: ewes stay in the village, 3 years)."""
    if request.movement is Movement.natural_loss:
        return []
    if request.movement is Movement.transfer:
        return _check_transfer(rules, request)
    return _check_disposal(rules, request)


def _check_transfer(rules: Restrictions, request: MovementRequest) -> list[Refusal]:
    if request.to_region is None:
        return [Refusal(code="recipient_required", field="to_region_code", message="a transfer names the recipient")]
    refusals: list[Refusal] = []
    digits = SCOPE_DIGITS[rules.scope]
    if request.to_region[:digits] != request.asset_region[:digits]:
        refusals.append(
            Refusal(
                code="outside_transfer_scope",
                field="to_region_code",
                message=f"this asset may change hands only inside its {rules.scope.value}",
            )
        )
    if rules.poor_households_only and not request.to_is_poor:
        refusals.append(
            Refusal(
                code="recipient_not_poor",
                field="to_household_id",
                message="this asset may go only to a recognised poor household",
            )
        )
    return refusals


def _check_disposal(rules: Restrictions, request: MovementRequest) -> list[Refusal]:
    refusals: list[Refusal] = []
    if rules.locked_until is not None and request.on < rules.locked_until:
        refusals.append(
            Refusal(code="locked_up", field="on", message=f"not to be disposed of before {rules.locked_until}")
        )
    if rules.disposal_needs_approval and not request.approved_by:
        refusals.append(
            Refusal(code="approval_required", field="approved_by", message="disposal needs an approval first")
        )
    elif rules.disposal_needs_approval and request.approved_by == request.requested_by:
        refusals.append(
            Refusal(code="self_approval", field="approved_by", message="the approver cannot be the requester")
        )
    return refusals
