"""Who may borrow (贷款对象) and for how much: the rules an application and an approval must pass."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from shared.refusals import Refusal

POOR = frozenset({"poor", "returned"})


@dataclass(frozen=True)
class Applicant:
    borrower_kind: str
    household_status: str | None
    entity_code_valid: bool
    voluntary: bool
    acknowledged_repayable: bool
    purpose: str


@dataclass(frozen=True)
class ProductLimits:
    borrower_kind: str
    min_amount: Decimal
    max_amount: Decimal
    max_term_months: int
    eligible_purposes: tuple[str, ...]


def check_application(
    applicant: Applicant, product: ProductLimits, *, amount: Decimal, term_months: int
) -> list[Refusal]:
    """A registered poor household not exited (建档立卡, 未脱贫) or a valid entity, voluntary, told it is a loan
    to repay and not a grant, inside the product's limits."""
    found: list[Refusal] = []
    if applicant.borrower_kind != product.borrower_kind:
        found.append(Refusal("wrong_borrower_kind", f"this product lends to {product.borrower_kind}", "borrower_kind"))
    if applicant.borrower_kind == "household" and applicant.household_status not in POOR:
        status = applicant.household_status or "not recognised as poor"
        found.append(Refusal("not_eligible", f"the household is {status} (只贷给建档立卡贫困户)", "household_id"))
    if applicant.borrower_kind == "entity" and not applicant.entity_code_valid:
        found.append(Refusal("bad_credit_code", "not a valid unified social credit code", "entity_code"))
    if not applicant.voluntary:
        found.append(Refusal("not_voluntary", "the application must be voluntary (自愿)", "voluntary"))
    if not applicant.acknowledged_repayable:
        found.append(
            Refusal(
                "not_acknowledged",
                "the borrower must acknowledge a loan to repay, not a grant",
                "acknowledged_repayable",
            )
        )
    if product.eligible_purposes and applicant.purpose not in product.eligible_purposes:
        found.append(Refusal("purpose_not_eligible", f"purposes: {', '.join(product.eligible_purposes)}", "purpose"))
    found += check_limits(product, amount=amount, term_months=term_months)
    return found


def check_limits(product: ProductLimits, *, amount: Decimal, term_months: int) -> list[Refusal]:
    found: list[Refusal] = []
    if not product.min_amount <= amount <= product.max_amount:
        found.append(
            Refusal("outside_product_limits", f"amount {product.min_amount} to {product.max_amount}", "amount")
        )
    if term_months > product.max_term_months:
        found.append(Refusal("term_too_long", f"at most {product.max_term_months} months", "number_of_repayments"))
    return found


def check_credit_line(
    *, amount: Decimal, line: Decimal | None, valid_to: date | None, on: date, outstanding: Decimal
) -> list[Refusal]:
    """An approval stays within the borrower's rated credit line (评级授信), still valid, less what it owes."""
    if line is None or valid_to is None:
        return [Refusal("no_credit_line", "the borrower has no credit rating and line (评级授信)", "rating_id")]
    if valid_to < on:
        return [Refusal("credit_line_expired", f"the credit line ended on {valid_to}", "rating_id")]
    room = line - outstanding
    if amount > room:
        return [Refusal("over_credit_line", f"the credit line leaves {room}", "amount")]
    return []
