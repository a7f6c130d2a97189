"""Reconciliation (对账): each bank statement line matched to a sent payment by reference and amount."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

PAID_WORDS = frozenset({"paid", "success", "ok", "成功", "已入账", "入账成功", "已支付"})
FAILED_WORDS = frozenset({"failed", "fail", "rejected", "失败", "退回", "退票", "账户不存在", "户名不符"})


class LineOutcome(StrEnum):
    paid = "paid"
    failed = "failed"
    unmatched = "unmatched"


@dataclass(frozen=True)
class StatementLine:
    row: int
    reference: str
    amount: Decimal
    status: str
    note: str = ""


@dataclass(frozen=True)
class SentPayment:
    payment_id: str
    reference: str
    amount: Decimal
    status: str


@dataclass(frozen=True)
class LineResult:
    row: int
    reference: str
    amount: Decimal
    outcome: LineOutcome
    payment_id: str | None
    reason: str


def bank_status(word: str) -> LineOutcome | None:
    """What a bank's status word means: paid, failed, or not understood (None)."""
    cleaned = word.strip().lower()
    if cleaned in PAID_WORDS:
        return LineOutcome.paid
    if cleaned in FAILED_WORDS:
        return LineOutcome.failed
    return None


def match_lines(lines: Iterable[StatementLine], sent: Mapping[str, SentPayment]) -> list[LineResult]:
    """Each line's outcome; a payment is settled once, and only a line with its reference and amount settles it."""
    seen: set[str] = set()
    return [_match(line, sent, seen) for line in lines]


def _match(line: StatementLine, sent: Mapping[str, SentPayment], seen: set[str]) -> LineResult:
    payment = sent.get(line.reference)

    def unmatched(reason: str) -> LineResult:
        return LineResult(line.row, line.reference, line.amount, LineOutcome.unmatched, None, reason)

    if payment is None:
        return unmatched("no sent payment has this reference")
    if payment.payment_id in seen:
        return unmatched("this payment already has a line in the statement")
    if payment.status != "sent":
        return unmatched(f"the payment is {payment.status}, not awaiting the bank")
    if payment.amount != line.amount:
        return unmatched(f"amount {line.amount} differs from the payment's {payment.amount}")
    outcome = bank_status(line.status)
    if outcome is None:
        return unmatched(f"status {line.status!r} is not a bank outcome we know")
    seen.add(payment.payment_id)
    return LineResult(line.row, line.reference, line.amount, outcome, payment.payment_id, line.note)
