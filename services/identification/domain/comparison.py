"""County data comparison (县级数据比对, 大数据比对): what a dataset kind may say, checked before it is kept.

A dataset kind is a department's file as the county describes it once: the column holding the resident ID,
the columns kept as evidence, the rule a hit touches, and conditions on the evidence that make a row a hit
(a car, not a tricycle; a house bought since the rule set's cut-off year; a payout above an amount).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from shared.refusals import Refusal

# The rule a hit touches: a 七不进 item of the rule engine, or a change of the person's own state.
RULES: dict[str, str] = {
    "七不进-1": "当年家庭年人均纯收入高于当地平均水平",
    "七不进-2": "购房、建新房或高标准装修",
    "七不进-3": "拥有或使用享受型轿车、船舶、工程机械及大型农机具",
    "七不进-4": "办有或投资企业，长期雇用他人",
    "七不进-5": "家庭成员有财政供养人员或村五职干部",
    "七不进-6": "举家外出一年及以上，收入明显高于当地平均水平",
    "七不进-7": "其他明显不符合扶贫开发对象标准的情形",
    "deceased": "登记后死亡 (died after registration)",
    "emigrated": "户口迁出或移居境外 (moved away or emigrated)",
    "imprisoned": "服刑在押 (imprisoned)",
    "pension": "领取养老金或社保待遇 (pension or social-insurance payout)",
    "other": "其他部门信息不符 (other department record)",
}


class Op(StrEnum):
    """How a condition reads an evidence column."""

    in_list = "in"  # the value is one of ``values``
    after = "after"  # a date after ``date``
    since_cutoff_year = "since_cutoff_year"  # a date in or after the rule set's cut-off year (「…年以来」)
    after_registration = "after_registration"  # a date after the household's registration (a death since)
    above = "above"  # an amount above ``amount`` yuan


@dataclass(frozen=True)
class Condition:
    column: str
    op: Op
    values: tuple[str, ...] = ()
    on: date | None = None
    amount: Decimal | None = None


MAX_COLUMNS = 20
MAX_VALUES = 200


def kind_refusals(
    *, key_column: str, evidence_columns: Sequence[str], rule: str, conditions: Sequence[Condition]
) -> list[Refusal]:
    """What is wrong with a dataset kind as described; empty when it can be kept."""
    found: list[Refusal] = []
    if rule not in RULES:
        found.append(Refusal("unknown_rule", f"rule {rule!r} is not one of {', '.join(RULES)}", "rule"))
    columns = list(evidence_columns)
    if len(set(columns)) != len(columns):
        found.append(Refusal("columns_repeat", "an evidence column is named twice", "evidence_columns"))
    if key_column in columns:
        found.append(Refusal("key_is_evidence", "the key column is kept anyway: not evidence", "evidence_columns"))
    for i, condition in enumerate(conditions):
        found.extend(condition_refusals(condition, columns, f"conditions.{i}"))
    return found


def condition_refusals(condition: Condition, columns: Sequence[str], field: str) -> list[Refusal]:
    """A condition must read an evidence column and carry what its operator needs."""
    found = []
    if condition.column not in columns:
        found.append(Refusal("unknown_column", f"{condition.column!r} is not an evidence column", f"{field}.column"))
    if condition.op is Op.in_list and not condition.values:
        found.append(Refusal("values_missing", "an 'in' condition needs its values", f"{field}.values"))
    if condition.op is Op.after and condition.on is None:
        found.append(Refusal("date_missing", "an 'after' condition needs its date", f"{field}.date"))
    if condition.op is Op.above and condition.amount is None:
        found.append(Refusal("amount_missing", "an 'above' condition needs its amount", f"{field}.amount"))
    return found


def condition_of(raw: dict[str, Any]) -> Condition:
    """A stored condition (JSON) back as a ``Condition``."""
    amount = raw.get("amount")
    on = raw.get("date")
    try:
        money = Decimal(str(amount)) if amount is not None else None
    except InvalidOperation:
        money = None
    return Condition(
        column=raw["column"],
        op=Op(raw["op"]),
        values=tuple(raw.get("values") or ()),
        on=date.fromisoformat(on) if on else None,
        amount=money,
    )


class Resolution(StrEnum):
    """What re-verification made of a finding; it never rejects by itself (「不搞一刀切」)."""

    confirmed = "confirmed"  # the department's record holds: the village and township act on it
    dismissed = "dismissed"  # the record does not hold for this person (a namesake, a gift, an exemption)


def resolution_refusals(*, resolution: Resolution, reason: str, already: str | None) -> list[Refusal]:
    found = []
    if already is not None:
        found.append(Refusal("already_resolved", f"this finding is already {already}", "resolution"))
    if not reason.strip():
        found.append(Refusal("reason_missing", "a resolution needs its reason (核实情况)", "reason"))
    return found
