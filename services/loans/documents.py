"""The product brochure (产品宣传册, DOMAIN §4.7) and the per-borrower statement, as A4 PDFs."""

from __future__ import annotations

from decimal import Decimal

from sqlmodel import Session, col, select

from services.loans.models import Installment, Loan, Pool, Product, Repayment
from shared.files.pdf import Block, Facts, Grid, Heading, Text, document

METHODS = {
    "equal_installments": "等额本息",
    "equal_principal": "等额本金",
    "interest_only_then_amortization": "阶段性等额本息（先付息，后等额本息）",
    "periodic_interest_principal_at_maturity": "按期付息、到期还本",
    "bullet": "利随本清",
}
COVERAGE = {"full": "全额贴息", "half": "贴息一半", "benchmark_capped": "按基准利率贴息", "none": "不贴息"}
MODES = {
    "direct_periodic": "按期直接贴息（借款人只付未贴息部分）",
    "direct_at_settlement": "结清时直接贴息",
    "collect_then_reimburse": "先收后贴（借款人先付息，结清后补贴）",
}
FEN = Decimal("0.01")
KINDS = {"household": "建档立卡贫困户", "entity": "带动贫困户的新型农业经营主体"}
STATUSES = {
    "applied": "已申请",
    "approved": "已审批",
    "rejected": "未批准",
    "active": "还款中",
    "settled": "已结清",
    "defaulted": "已认定违约",
    "compensated": "已代偿",
}
ENTRIES = {
    "repayment": "还款",
    "reversal": "冲正",
    "extension": "展期",
    "renewal": "续贷",
    "compensation": "风险补偿",
    "recovery": "追偿回收",
}


def brochure(product: Product, pool: Pool) -> bytes:
    """Terms, process, subsidy, compensation and the supervision hotline, from the product's configuration."""
    c = product.conventions
    gov = product.government_share
    blocks: list[Block] = [
        Heading("产品要素"),
        Facts(
            [
                ("贷款对象", KINDS[product.borrower_kind]),
                ("贷款额度", f"{product.min_amount} 至 {product.max_amount} 元（按实际经营需要，不顶格放款）"),
                ("贷款期限", f"最长 {product.max_term_months} 个月"),
                (
                    "担保抵押",
                    "需要抵押"
                    if product.collateral_required
                    else "免抵押" + ("，需要担保" if product.guarantee_required else "，免担保"),
                ),
                ("贷款利率", f"年利率 {_pct(product.annual_rate)}%（{product.rate_basis}，合同期内固定）"),
                ("还款方式", METHODS.get(c.get("repayment_method") or "", c.get("amortization_type", ""))),
                (
                    "逾期",
                    f"宽限 {product.grace_days} 天；罚息为合同利率上浮 {_pct(product.penalty_uplift)}%，罚息不贴息",
                ),
                ("贷款银行", product.bank),
            ]
        ),
        Heading("办理流程"),
        Text(
            "1. 向村委会或驻村工作队提出申请（自愿申请）；2. 银行上门调查、评级授信；3. 审批；4. 签订合同并放款；"
            "5. 按期还息、到期还本，帮扶责任人提醒按时还款。"
        ),
        Text("这是银行的商业贷款，必须按期归还，不是民政部门发放的扶贫款。", small=False),
        Heading("贴息政策"),
        Facts(
            [
                ("贴息比例", COVERAGE[product.subsidy_coverage]),
                ("贴息方式", MODES[product.subsidy_mode]),
                ("贴息周期", f"每 {product.subsidy_period_months} 个月"),
                ("条件", "按时还款的利息才贴息；逾期贷款不享受贴息"),
            ]
        ),
        Heading("风险补偿"),
        Facts(
            [
                ("补偿资金", f"{pool.name}（{pool.bank}）"),
                ("分担比例", f"政府 {_pct(gov)}% : 银行 {_pct(100 - gov)}%"),
                ("放大倍数", f"贷款余额不超过补偿金的 {_pct(pool.leverage_multiple)} 倍"),
                ("代偿条件", f"逾期超过 {product.default_after_days} 天"),
            ]
        ),
        Heading("监督电话"),
        Text(product.hotline or "—"),
    ]
    return document(f"{product.name}（第 {product.version} 版）", blocks, subject="扶贫小额信贷产品说明")


def statement(session: Session, loan: Loan, *, id_number: str | None) -> bytes:
    """A borrower's statement: the loan, its schedule with what was paid, and every repayment and reversal."""
    installments = session.exec(
        select(Installment)
        .where(Installment.loan_id == loan.id, Installment.schedule_version == loan.schedule_version)
        .order_by(col(Installment.number))
    ).all()
    repayments = session.exec(select(Repayment).where(Repayment.loan_id == loan.id).order_by(Repayment.id)).all()
    blocks: list[Block] = [
        Facts(
            [
                ("借款人", loan.borrower_name),
                ("身份证号", id_number or "—"),
                ("合同编号", loan.contract_no or "—"),
                ("贷款金额", f"{loan.amount} 元"),
                ("放款日", str(loan.disbursed_on or "—")),
                ("到期日", str(loan.maturity_date or "—")),
                ("本金余额", f"{loan.principal_outstanding} 元"),
                ("状态", STATUSES.get(loan.status, loan.status)),
                ("逾期天数", str(loan.days_past_due)),
            ]
        ),
        Heading("还款计划"),
        Grid(
            ["期", "到期日", "本金", "利息", "贴息", "应付利息", "已还本金", "已还利息", "罚息", "结清日"],
            [
                [
                    str(i.number),
                    str(i.due_date),
                    str(i.principal_due),
                    str(i.interest_due),
                    str(i.subsidy_due),
                    str(i.borrower_interest_due),
                    str(i.principal_paid),
                    str(i.interest_paid),
                    str(i.penalty_accrued.quantize(FEN)),
                    str(i.paid_on or ""),
                ]
                for i in installments
            ],
        ),
        Heading("还款记录"),
        Grid(
            ["日期", "类型", "金额", "罚息", "利息", "本金", "说明"],
            [
                [
                    str(r.paid_on),
                    ENTRIES.get(r.kind, r.kind),
                    str(r.amount),
                    str(r.penalty),
                    str(r.interest),
                    str(r.principal),
                    r.reason or r.reference,
                ]
                for r in repayments
            ],
        ),
    ]
    return document("扶贫小额信贷对账单", blocks, subject=f"loan {loan.id}")


def _pct(value: Decimal) -> str:
    """4.3500 → 4.35, 70.0000 → 70."""
    return f"{value.normalize():f}"
