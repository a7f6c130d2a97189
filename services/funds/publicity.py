"""Publicity of fund use (资金公示) for the notice board: a project's budget, beneficiaries and payments, and a
village's receipts for a year; as PDF (Chinese rendered) and XLSX. Account numbers and ids are masked."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date

from sqlmodel import Session, col, select

from services.funds import projects
from services.funds.domain.ledger import ZERO
from services.funds.models import Beneficiary, Budget, FundSource, Payment, Project
from shared.calls import ServiceClient, ServiceUnavailable
from shared.files import pdf, xlsx
from shared.masking import mask_account
from shared.places import place_name

log = logging.getLogger(__name__)

PAYMENT_HEADERS = ["收款人", "账号", "金额(元)", "用途", "发放日期", "状态"]
STATUS_LABELS = {
    "pending": "待发放",
    "sent": "已发送银行",
    "paid": "已到账",
    "failed": "失败",
    "reissued": "已重发",
    "cancelled": "已取消",
}
PROJECT_STATUS_LABELS = {
    "bank": "项目库",
    "approved": "已批复",
    "rejected": "未批准",
    "tender": "招标",
    "construction": "施工",
    "completed": "竣工",
    "accepted": "已验收",
    "cancelled": "已取消",
}
KIND_LABELS = {
    "industry": "产业发展",
    "infrastructure": "基础设施",
    "dangerous_house": "危房改造",
    "relocation": "易地扶贫搬迁",
    "education": "教育(雨露计划)",
    "employment": "就业培训",
    "tourism": "乡村旅游",
    "collective_economy": "村集体经济",
    "health": "健康",
    "ecology": "生态",
    "other": "其他",
}
SUPERVISION = "如有异议，请于公示期内向村委会或县扶贫办反映。监督电话：12317"


def _mask_household(household_id: str) -> str:
    return f"{household_id[:4]}…{household_id[-4:]}"


def _payment_rows(payments: Sequence[Payment]) -> list[list[object]]:
    return [
        [
            p.payee_name,
            mask_account(p.account_number),
            p.amount,
            p.purpose,
            p.pay_date.isoformat(),
            STATUS_LABELS.get(p.status, p.status),
        ]
        for p in payments
    ]


def place_of(registry: ServiceClient, code: str) -> str:
    """The region's name from the registry, for the notice's heading. When the registry does not answer the
    notice is still made, naming the place by its code (exact, if less readable): a notice due on the board is
    not held back by another service's outage."""
    try:
        return place_name(registry, code)
    except ServiceUnavailable:
        log.warning("the registry did not answer: the notice names %s by its code", code)
        return code


def _place(name: str, code: str) -> str:
    """A place as a notice names it: its name, and the code beside it (the code alone when no name is known)."""
    return code if name == code else f"{name}（{code}）"


def _project_parts(
    session: Session, project: Project, place: str
) -> tuple[list[tuple[str, str]], list[list[object]], list[list[object]], list[Payment]]:
    lines = projects.lines_of(session, project.id)
    line_rows = []
    for line in lines:
        budget = session.get(Budget, line.budget_id)
        source = session.get(FundSource, budget.source_id) if budget else None
        line_rows.append([source.name if source else "", budget.name if budget else "", line.planned_amount])
    total = sum((line.planned_amount for line in lines), ZERO)
    facts = [
        ("项目名称", project.name),
        ("项目类型", KIND_LABELS.get(project.kind, project.kind)),
        ("实施地点", _place(place, project.region_code)),
        ("年度", str(project.year)),
        ("项目资金(元)", f"{total:.2f}"),
        ("状态", PROJECT_STATUS_LABELS.get(project.status, project.status)),
    ]
    beneficiaries: list[list[object]] = [
        [_mask_household(b.household_id)]
        for b in session.exec(
            select(Beneficiary).where(Beneficiary.project_id == project.id).order_by(col(Beneficiary.household_id))
        )
    ]
    payments = list(
        session.exec(
            select(Payment).where(Payment.project_id == project.id).order_by(col(Payment.pay_date), col(Payment.id))
        )
    )
    return facts, line_rows, beneficiaries, payments


def project_pdf(session: Session, project: Project, place: str) -> bytes:
    """``place``: the name of the project's region (``shared.places.place_name``), or its code."""
    facts, lines, beneficiaries, payments = _project_parts(session, project, place)
    return pdf.document(
        f"扶贫项目资金公示：{project.name}",
        [
            pdf.Facts(facts),
            pdf.Heading("资金来源"),
            pdf.Grid(["资金来源", "资金指标", "金额(元)"], [[str(c) for c in r] for r in lines]),
            pdf.Heading(f"受益户（{len(beneficiaries)}户）"),
            pdf.Grid(["受益户编号"], [[str(c) for c in r] for r in beneficiaries]),
            pdf.Heading("资金发放"),
            pdf.Grid(PAYMENT_HEADERS, [[str(c) for c in r] for r in _payment_rows(payments)]),
            pdf.Text(SUPERVISION),
        ],
        subject=project.id,
    )


def project_xlsx(session: Session, project: Project, place: str) -> bytes:
    facts, lines, beneficiaries, payments = _project_parts(session, project, place)
    return xlsx.workbook(
        [
            xlsx.Sheet("项目", ["项目", "内容"], facts, title=f"扶贫项目资金公示：{project.name}"),
            xlsx.Sheet("资金来源", ["资金来源", "资金指标", "金额(元)"], lines),
            xlsx.Sheet("受益户", ["受益户编号"], beneficiaries),
            xlsx.Sheet("资金发放", PAYMENT_HEADERS, _payment_rows(payments)),
        ]
    )


def village_payments(session: Session, village: str, year: int) -> list[Payment]:
    """Money the village's households received in a year (paid payments)."""
    return list(
        session.exec(
            select(Payment)
            .where(
                Payment.region_code == village,
                Payment.status == "paid",
                col(Payment.pay_date) >= date(year, 1, 1),
                col(Payment.pay_date) <= date(year, 12, 31),
            )
            .order_by(col(Payment.pay_date), col(Payment.id))
        )
    )


def village_pdf(session: Session, village: str, year: int, place: str) -> bytes:
    """``place``: the village's name with its county and township, or its code."""
    payments = village_payments(session, village, year)
    total = sum((p.amount for p in payments), ZERO)
    facts = [("村", place), ("区划代码", village)] if place != village else [("区划代码", village)]
    return pdf.document(
        f"{year}年度村级扶贫资金到户公示（{place}）",
        [
            pdf.Facts([*facts, ("年度", str(year)), ("笔数", str(len(payments))), ("合计(元)", f"{total:.2f}")]),
            pdf.Grid(PAYMENT_HEADERS, [[str(c) for c in r] for r in _payment_rows(payments)]),
            pdf.Text(SUPERVISION),
        ],
    )


def village_xlsx(session: Session, village: str, year: int, place: str) -> bytes:
    payments = village_payments(session, village, year)
    return xlsx.workbook(
        [
            xlsx.Sheet(
                "到户资金",
                PAYMENT_HEADERS,
                _payment_rows(payments),
                title=f"{year}年度村级扶贫资金到户公示（{place}）",  # the code is in the file's name
            )
        ]
    )
