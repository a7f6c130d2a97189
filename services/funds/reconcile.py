"""The bank side of a batch: the bank file in an operator-configured layout, and reconciliation from a statement."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

from sqlmodel import Session, col, select

from services.funds import disbursements
from services.funds.domain.payments import BatchStatus, PaymentStatus
from services.funds.domain.reconciliation import LineOutcome, SentPayment, StatementLine, match_lines
from services.funds.models import BankLayout, Batch, Payment, Reconciliation, ReconciliationLine
from services.funds.schemas import LayoutCreate
from shared import audit
from shared.auth import Principal
from shared.clock import session_clock
from shared.errors import Conflict, NotFound, ValidationFailed
from shared.files.tabular import open_table
from shared.files.xlsx import csv_cell
from shared.money import yuan

HEADERS = {
    "reference": ("reference", "业务参考号", "参考号", "流水号", "交易流水号", "备注编号"),
    "amount": ("amount", "金额", "交易金额", "发放金额"),
    "status": ("status", "状态", "交易状态", "处理结果"),
    "note": ("note", "备注", "失败原因", "说明"),
}
DEFAULT_LAYOUT = [
    {"header": "业务参考号", "field": "reference"},
    {"header": "收款人姓名", "field": "payee_name"},
    {"header": "收款账号", "field": "account_number"},
    {"header": "开户行", "field": "bank_name"},
    {"header": "金额", "field": "amount"},
    {"header": "用途", "field": "purpose"},
]


def create_layout(session: Session, body: LayoutCreate) -> BankLayout:
    if session.exec(select(BankLayout).where(BankLayout.name == body.name)).first():
        raise Conflict(f"a layout named {body.name} exists", field="name")
    layout = BankLayout(
        name=body.name, columns=[c.model_dump() for c in body.columns], created_at=session_clock(session).now()
    )
    session.add(layout)
    session.flush()
    return layout


def _cell(payment: Payment, field: str) -> object:
    value = getattr(payment, field)
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return "" if value is None else value


def bank_file(session: Session, batch: Batch, layout_id: str | None, principal: Principal) -> str:
    """The batch as the bank's CSV (whole account numbers: the bank needs them); the export is audited."""
    if batch.status == BatchStatus.draft:
        raise Conflict("send the batch before exporting it for the bank", field="status")
    columns = DEFAULT_LAYOUT
    if layout_id:
        layout = session.get(BankLayout, layout_id)
        if layout is None:
            raise NotFound(f"no layout {layout_id}", field="layout_id")
        columns = layout.columns
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([csv_cell(c["header"]) for c in columns])
    payments = [p for p in disbursements.payments_of(session, batch.id) if p.status == PaymentStatus.sent]
    for p in payments:
        writer.writerow([csv_cell(_cell(p, c["field"])) for c in columns])
    audit.record(
        session,
        actor=principal.subject,
        action="batch.bank_file",
        resource=f"batch/{batch.id}",
        detail={"payments": len(payments), "layout": layout_id},
    )
    return out.getvalue()


def _columns(headers: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    lowered = [h.strip().lower() for h in headers]
    for key, names in HEADERS.items():
        for i, header in enumerate(lowered):
            if header in names:
                found[key] = i
                break
    missing = [k for k in ("reference", "amount", "status") if k not in found]
    if missing:
        raise ValidationFailed(f"the statement has no column for {', '.join(missing)}", field="file")
    return found


def _lines(path: Path) -> list[StatementLine]:
    table = open_table(path)
    at = _columns(table.headers)
    lines = []
    for row, cells in table.rows:

        def cell(key: str, cells: list[str] = cells) -> str:
            i = at.get(key)
            return cells[i] if i is not None and i < len(cells) else ""

        try:
            amount = yuan(cell("amount").replace(",", ""))
        except (ValueError, TypeError):
            amount = Decimal("0.00")
        lines.append(StatementLine(row, cell("reference")[:80], amount, cell("status"), cell("note")[:300]))
    return lines


def reconcile(session: Session, batch: Batch, path: Path, filename: str, principal: Principal) -> Reconciliation:
    """Match each statement line to a sent payment by reference and amount; paid and failed lines settle it."""
    if batch.status == BatchStatus.draft:
        raise Conflict("a draft batch has not gone to the bank", field="status")
    sent = {
        p.reference: SentPayment(p.id, p.reference, p.amount, p.status)
        for p in disbursements.payments_of(session, batch.id)
    }
    results = match_lines(_lines(path), sent)
    recon = Reconciliation(
        batch_id=batch.id,
        region_code=batch.region_code,
        filename=filename[:200],
        created_by=principal.subject,
        created_at=session_clock(session).now(),
    )
    session.add(recon)
    session.flush()
    for r in results:
        if r.payment_id:
            payment = session.get(Payment, r.payment_id)
            assert payment is not None
            if r.outcome is LineOutcome.paid:
                disbursements.settle_paid(session, payment, actor=principal.subject)
            else:
                disbursements.settle_failed(
                    session, payment, reason=r.reason or "bank refused", actor=principal.subject
                )
        session.add(
            ReconciliationLine(
                reconciliation_id=recon.id,
                row=r.row,
                reference=r.reference,
                amount=r.amount,
                outcome=r.outcome.value,
                payment_id=r.payment_id,
                reason=r.reason,
            )
        )
    recon.lines_paid = sum(r.outcome is LineOutcome.paid for r in results)
    recon.lines_failed = sum(r.outcome is LineOutcome.failed for r in results)
    recon.lines_unmatched = sum(r.outcome is LineOutcome.unmatched for r in results)
    session.add(recon)
    disbursements.close_if_done(session, batch)
    audit.record(
        session,
        actor=principal.subject,
        action="batch.reconciled",
        resource=f"batch/{batch.id}",
        detail={"paid": recon.lines_paid, "failed": recon.lines_failed, "unmatched": recon.lines_unmatched},
    )
    return recon


def lines_of(session: Session, recon_id: str) -> list[ReconciliationLine]:
    return list(
        session.exec(
            select(ReconciliationLine)
            .where(ReconciliationLine.reconciliation_id == recon_id)
            .order_by(col(ReconciliationLine.row))
        )
    )
