"""Disbursement (资金拨付) statuses: pending → sent → paid, or sent → failed → reissued."""

from __future__ import annotations

from enum import StrEnum

from shared.refusals import Refusal


class PaymentStatus(StrEnum):
    pending = "pending"
    sent = "sent"
    paid = "paid"
    failed = "failed"
    reissued = "reissued"
    cancelled = "cancelled"


class BatchStatus(StrEnum):
    draft = "draft"  # payments being added
    sent = "sent"  # the bank file went out; every payment is sent
    closed = "closed"  # every payment is paid, or failed and reissued


# Statuses that hold a subsidy for its period: a failed payment frees it for the reissue.
HOLDING = frozenset({PaymentStatus.pending, PaymentStatus.sent, PaymentStatus.paid})

MOVES: dict[PaymentStatus, frozenset[PaymentStatus]] = {
    PaymentStatus.pending: frozenset({PaymentStatus.sent, PaymentStatus.cancelled}),
    PaymentStatus.sent: frozenset({PaymentStatus.paid, PaymentStatus.failed}),
    PaymentStatus.failed: frozenset({PaymentStatus.reissued}),
    PaymentStatus.paid: frozenset(),
    PaymentStatus.reissued: frozenset(),
    PaymentStatus.cancelled: frozenset(),
}


def check_move(current: PaymentStatus, target: PaymentStatus, *, field: str = "status") -> list[Refusal]:
    if target in MOVES[current]:
        return []
    return [Refusal(code="bad_status_move", field=field, message=f"a {current.value} payment cannot become {target}")]


def batch_closed(statuses: list[PaymentStatus]) -> bool:
    """A sent batch is done when nothing in it awaits the bank or a reissue."""
    return all(s in {PaymentStatus.paid, PaymentStatus.reissued, PaymentStatus.cancelled} for s in statuses)
