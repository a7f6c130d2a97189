"""The double-entry ledger (复式记账): balanced transactions over accounts; balances come from entries only."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from shared.money import FEN
from shared.refusals import Refusal

ZERO = Decimal("0.00")


class AccountKind(StrEnum):
    """What an account stands for, and so whether it may go below zero."""

    source = "source"  # 资金来源: money the county receives from a level or donor; its balance is what came in
    budget = "budget"  # 预算 / 资金指标: arrived money of one source and year not yet allocated
    project = "project"  # 项目资金: one budget line of a project
    clearing = "clearing"  # 在途: sent to the bank, not yet confirmed by a statement line
    payee = "payee"  # 收款人: what a household, entity or bank has received
    pool = "pool"  # 风险补偿金: the loan risk-compensation pool


# A source is where money enters the books: its balance is minus what it has delivered.
MAY_GO_NEGATIVE = frozenset({AccountKind.source})


class TransactionKind(StrEnum):
    arrival = "arrival"  # 资金到位: source → budget
    allocation = "allocation"  # 资金分配: budget → project line
    transfer = "transfer"  # 调剂: between two accounts of the same kind
    disbursement = "disbursement"  # 拨付: project line → clearing (the bank file was sent)
    settlement = "settlement"  # 到账: clearing → payee (a statement line says paid)
    refund = "refund"  # 退回: back towards where it came from
    adjustment = "adjustment"  # 调账: any balanced correction, with a reason
    contribution = "contribution"  # 注资: source or budget → pool
    compensation = "compensation"  # 风险补偿: pool → payee (the lending bank)
    recovery = "recovery"  # 追偿回收: payee → pool
    subsidy = "subsidy"  # 贴息: interest-subsidy budget → payee
    reversal = "reversal"  # 冲销: the exact opposite of an earlier transaction


@dataclass(frozen=True)
class Posting:
    """One entry (分录): a signed amount on one account; + is money in, − is money out."""

    account_id: str
    amount: Decimal


def check_postings(
    postings: Sequence[Posting],
    *,
    kinds: Mapping[str, AccountKind],
    balances: Mapping[str, Decimal],
) -> list[Refusal]:
    """Whether ``postings`` make one valid transaction given the accounts' kinds and balances before it."""
    refusals = _shape(postings, kinds)
    if refusals:
        return refusals
    return [
        Refusal(
            code="insufficient_balance",
            field=f"postings.{i}.amount",
            message=f"account {p.account_id} holds {balances.get(p.account_id, ZERO)}, cannot give {-p.amount}",
        )
        for i, p in enumerate(postings)
        if p.amount < 0 and _would_go_negative(p.account_id, postings, kinds, balances)
    ]


def _shape(postings: Sequence[Posting], kinds: Mapping[str, AccountKind]) -> list[Refusal]:
    refusals: list[Refusal] = []
    if len(postings) < 2:
        refusals.append(Refusal(code="too_few_postings", field="postings", message="a transaction needs two entries"))
    for i, p in enumerate(postings):
        if p.account_id not in kinds:
            refusals.append(
                Refusal(code="unknown_account", field=f"postings.{i}.account_id", message="no such account")
            )
        if p.amount == 0 or p.amount != p.amount.quantize(FEN):
            refusals.append(
                Refusal(code="bad_amount", field=f"postings.{i}.amount", message="an entry is a non-zero amount in fen")
            )
    total = sum((p.amount for p in postings), ZERO)
    if total != 0:
        refusals.append(Refusal(code="unbalanced", field="postings", message=f"entries sum to {total}, not 0"))
    return refusals


def _would_go_negative(
    account_id: str, postings: Sequence[Posting], kinds: Mapping[str, AccountKind], balances: Mapping[str, Decimal]
) -> bool:
    if kinds[account_id] in MAY_GO_NEGATIVE:
        return False
    after = balances.get(account_id, ZERO) + sum((p.amount for p in postings if p.account_id == account_id), ZERO)
    return after < 0


def transfer(*, from_account: str, to_account: str, amount: Decimal) -> list[Posting]:
    """The two entries that move ``amount`` from one account to another."""
    return [Posting(from_account, -amount), Posting(to_account, amount)]


def reversing(postings: Iterable[Posting]) -> list[Posting]:
    """The entries of a reversal (冲销): every entry of the original, with the opposite sign."""
    return [Posting(p.account_id, -p.amount) for p in postings]


def check_reversal(*, already_reversed: bool, is_reversal: bool) -> list[Refusal]:
    """A transaction is reversed at most once; a reversal is corrected by a new transaction, not reversed."""
    if already_reversed:
        return [Refusal(code="already_reversed", field="transaction_id", message="this transaction is reversed")]
    if is_reversal:
        return [Refusal(code="reversal_of_reversal", field="transaction_id", message="a reversal cannot be reversed")]
    return []


def balances_of(postings: Iterable[Posting]) -> dict[str, Decimal]:
    """Each account's balance: the sum of its entries."""
    out: dict[str, Decimal] = {}
    for p in postings:
        out[p.account_id] = out.get(p.account_id, ZERO) + p.amount
    return out
