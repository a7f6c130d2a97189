"""The ledger in the database: opening accounts, posting balanced transactions under row locks, reversals.

Nothing here commits. Every transaction goes into the hash-chained audit log with its entries.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from services.funds.domain.ledger import (
    ZERO,
    AccountKind,
    Posting,
    TransactionKind,
    check_postings,
    check_reversal,
    reversing,
)
from services.funds.models import Account, Entry, LedgerTransaction
from shared import audit
from shared.auth import Principal
from shared.clock import session_clock
from shared.errors import NotFound
from shared.refusals import Refusal, refuse_if
from shared.scope import get_in_scope


def open_account(
    session: Session, *, kind: AccountKind, name: str, region_code: str, owner_type: str, owner_id: str
) -> Account:
    account = Account(
        kind=kind.value,
        name=name,
        region_code=region_code,
        owner_type=owner_type,
        owner_id=owner_id,
        created_at=session_clock(session).now(),
    )
    session.add(account)
    session.flush()
    return account


def account_for(
    session: Session, *, kind: AccountKind, name: str, region_code: str, owner_type: str, owner_id: str
) -> Account:
    """The account of an owner, opened on first use (concurrent first uses end with the same account)."""
    query = select(Account).where(
        Account.kind == kind.value, Account.owner_type == owner_type, Account.owner_id == owner_id
    )
    found = session.exec(query).first()
    if found is not None:
        return found
    try:
        with session.begin_nested():
            return open_account(
                session, kind=kind, name=name, region_code=region_code, owner_type=owner_type, owner_id=owner_id
            )
    except IntegrityError:
        return session.exec(query).one()


def balances(session: Session, account_ids: Iterable[str]) -> dict[str, Decimal]:
    """Balances derived from entries (never stored)."""
    ids = list(set(account_ids))
    if not ids:
        return {}
    rows = session.exec(
        select(Entry.account_id, func.sum(Entry.amount))
        .where(col(Entry.account_id).in_(ids))
        .group_by(Entry.account_id)
    ).all()
    out = dict.fromkeys(ids, ZERO)
    for account_id, total in rows:
        out[account_id] = Decimal(total).quantize(Decimal("0.01"))
    return out


def balance(session: Session, account_id: str) -> Decimal:
    return balances(session, [account_id])[account_id]


def _lock(session: Session, account_ids: Sequence[str]) -> dict[str, Account]:
    """Lock the accounts in id order (SELECT … FOR UPDATE on PostgreSQL; SQLite holds the write lock already).

    Two requests spending from one account queue here, so the second sees the first's entries before it checks.
    """
    rows = session.exec(
        select(Account).where(col(Account.id).in_(sorted(set(account_ids)))).order_by(Account.id).with_for_update()
    ).all()
    return {a.id: a for a in rows}


def _region_of(accounts: Iterable[Account]) -> str:
    codes = [a.region_code for a in accounts]
    common = codes[0]
    for code in codes[1:]:
        while not code.startswith(common):
            common = common[:-1]
    return common


def post(
    session: Session,
    *,
    kind: TransactionKind,
    postings: Sequence[Posting],
    memo: str,
    actor: str,
    occurred_on: date | None = None,
    reference: str | None = None,
    reverses_id: str | None = None,
    region_code: str | None = None,
) -> LedgerTransaction:
    """Post one balanced transaction; 422 for a malformed one, 409 when an account would go below zero."""
    accounts = _lock(session, [p.account_id for p in postings])
    kinds = {a.id: AccountKind(a.kind) for a in accounts.values()}
    refusals = check_postings(postings, kinds=kinds, balances=balances(session, accounts))
    short = any(r.code == "insufficient_balance" for r in refusals)
    refuse_if(refusals, status=409 if short else None)
    now = session_clock(session).now()
    tx = LedgerTransaction(
        kind=kind.value,
        region_code=region_code or _region_of(accounts.values()),
        occurred_on=occurred_on or now.date(),
        memo=memo,
        reference=reference,
        reverses_id=reverses_id,
        actor=actor,
        created_at=now,
    )
    session.add(tx)
    session.flush()
    session.add_all(Entry(transaction_id=tx.id, account_id=p.account_id, amount=p.amount) for p in postings)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=f"ledger.{kind.value}",
        resource=f"transaction/{tx.id}",
        detail={
            "memo": memo,
            "reference": reference,
            "reverses": reverses_id,
            "entries": [[p.account_id, str(p.amount)] for p in postings],
        },
    )
    return tx


def entries_of(session: Session, transaction_id: str) -> list[Posting]:
    rows = session.exec(select(Entry).where(Entry.transaction_id == transaction_id).order_by(Entry.id)).all()
    return [Posting(e.account_id, e.amount) for e in rows]


def reverse(session: Session, transaction_id: str, *, reason: str, actor: str) -> LedgerTransaction:
    """Post the reversal (冲销) of a transaction: its entries with opposite signs, naming what it reverses."""
    original = session.get(LedgerTransaction, transaction_id, with_for_update=True)
    if original is None:
        raise NotFound(f"no transaction {transaction_id}", field="transaction_id")
    already = session.exec(select(LedgerTransaction.id).where(LedgerTransaction.reverses_id == original.id)).first()
    refuse_if(
        check_reversal(already_reversed=already is not None, is_reversal=original.reverses_id is not None), status=409
    )
    return post(
        session,
        kind=TransactionKind.reversal,
        postings=reversing(entries_of(session, original.id)),
        memo=f"冲销 {original.id}: {reason}",
        actor=actor,
        reference=original.reference,
        reverses_id=original.id,
        region_code=original.region_code,
    )


def get_account(session: Session, account_id: str, principal: Principal) -> Account:
    return get_in_scope(session, Account, account_id, principal, what="account")


def get_transaction(session: Session, transaction_id: str, principal: Principal) -> LedgerTransaction:
    return get_in_scope(session, LedgerTransaction, transaction_id, principal, what="transaction")


def reversed_by(session: Session, transaction_ids: Sequence[str]) -> dict[str, str]:
    if not transaction_ids:
        return {}
    rows = session.exec(
        select(LedgerTransaction.reverses_id, LedgerTransaction.id).where(
            col(LedgerTransaction.reverses_id).in_(list(transaction_ids))
        )
    ).all()
    return {original: rev for original, rev in rows if original}


def require_accounts_in_scope(session: Session, account_ids: Iterable[str], principal: Principal) -> None:
    """A manual transaction touches only accounts inside the caller's scope; others are unknown to the caller."""
    refusals = []
    for i, account_id in enumerate(account_ids):
        account = session.get(Account, account_id)
        if account is None or not principal.covers(account.region_code):
            refusals.append(
                Refusal(code="unknown_account", field=f"postings.{i}.account_id", message="no such account")
            )
    refuse_if(refusals)
