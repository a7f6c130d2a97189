"""The loans nightly job (日终批处理) over a county's active loans, as a ratio to a bare SQL scan-and-update.

    python bench/loan_batch.py --quick        # 5,000 loans, 2 nights, about a minute
    python bench/loan_batch.py                # 200,000 loans (~5 million installments), 3 nights

Setup (untimed, in a child process so that this process's peak memory is the job's): a migrated loans database
(SQLite, the service's connection settings) with three products, and N active loans with their schedules written
raw: each schedule comes from the domain's ``generate_schedule`` with the product's conventions (as disbursement
computes it), the government's part split off as ``write_schedule`` does. Products: 5-3-0 household loans
(等额本息 monthly, full subsidy, 直接贴息 quarterly, 3 grace days), household loans with quarterly interest and
principal at maturity (按季付息、到期还本, 先收后贴, 5 grace days), and entity loans (等额本金, daily interest on
365 days, benchmark-capped subsidy, direct quarterly, no grace). Disbursements spread over the last three years;
the borrowers: 72 % pay on time (a few still inside the grace days), 10 % pay some installments late (no
subsidy for those), 18 % are in arrears now, aimed at 1-30 / 31-60 / 61-90 / 90+ days in proportions 50/20/12/18,
some with the oldest installment partly paid. The state is as the job left it the night before: interest
accrued, days past due and bucket, penalty interest to yesterday, reminders sent. The file is then copied, one
copy per side.

Then, for consecutive nights from 2025-07-04 (the first night the second quarter's direct subsidies fall due,
June 30 plus the grace days; later nights only find them claimed), alternately (the order flips each night):

- **job**: the service's own ``NIGHTLY`` periodic job, run the way the service runs it: a
  ``shared.jobs.PeriodicRunner`` on a ``shared.db.Database`` whose clock says 01:00:05 of the night, ``tick()``
  (the job's lock, the ``job_run`` row and ``run_nightly`` in one transaction, committed);
- **sql** (the limit): the same night in plain SQL on the other copy, through the same driver (``sqlite3``,
  the service's pragmas: WAL, synchronous=FULL, foreign keys), one transaction: a ``job_run`` row; one scan of
  the active loans' current installments computing days past due, bucket, accrued interest and the overdue
  amount per loan; the penalty interest on overdue principal (exact integer arithmetic, rounded as the
  service's Decimal rounds); reminders marked; ``loan.overdue`` and ``loan.repayment_due`` outbox rows in the
  envelope's shape; the loans updated; the quarter's subsidy claims (only interest paid on time) inserted with
  their ``loan.subsidy_due`` rows; commit. Same rows touched, same values written.

After each night (untimed) the two copies are compared row by row (rowids are the same: one file copied):
every loan's days past due, bucket, interest accrued and accrued-through; every installment's penalty interest,
penalty-through and reminder; the subsidy claims; and the night's events (type, loan, and every data field but
the event and claim ids). Any difference is reported and fails the run (exit 1).

Figures: ``nightly_vs_sql`` is the median over nights of (job seconds / SQL seconds), target <= 3.
``nightly_split`` gives shares of the job's time: ``read`` (the query and its rows: total less the rest),
``loans`` (``_one_loan``: the per-loan Python), ``write`` (``_flush``: the executemany updates and events),
``subsidies`` (``subsidies.claim_due_periods``), each wrapped with a timer. ``schedules_per_s``: the domain's
schedule function (``generate_schedule``, the function behind ``POST /schedules/preview``) for the 5-3-0
product's terms, 12- and 36-month schedules alternating (also each alone). ``peak_rss_mb``: this process (the
job, the SQL side and the checks; the data is made in a child process); ``job_rss_growth_mb``: its peak above
its RSS just before the first night.
"""

from __future__ import annotations

import ast
import cProfile
import io
import json
import multiprocessing
import os
import pstats
import random
import shutil
import sqlite3
import statistics
import sys
import time as _time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from math import gcd
from pathlib import Path
from typing import Any

import _common  # puts the repo root on sys.path; isort keeps it above shared/services
from _common import Timer, emit_result, ratio, say
from pydantic import TypeAdapter

from services.loans import nightly, subsidies
from services.loans.domain.arrears import (
    OpenInstallment,
    accrued_interest,
    bucket,
    days_past_due,
    penalty_increment,
)
from services.loans.domain.calendar import DaysInYearType
from services.loans.domain.schedule import LoanTerms, due_dates, generate_schedule
from services.loans.domain.subsidy import (
    Coverage,
    SubsidyMode,
    borrower_bills_net,
    previous_period,
    subsidised_interest,
)
from services.loans.lending import _terms_json, loan_terms
from services.loans.main import SPEC
from services.loans.models import Pool, Product
from services.loans.nightly import NIGHTLY
from services.loans.repayments import penalty_rule
from services.loans.schemas import Conventions
from shared.clock import SHANGHAI, FrozenClock
from shared.db import Database, upgrade
from shared.ids import new_id
from shared.jobs import PeriodicRunner
from shared.metrics import rss_mb

FIRST_NIGHT = date(2025, 7, 4)
SEED = 20250704
HUNDRED = Decimal(100)
COUNTY = "522323"
VILLAGES = [f"{COUNTY}{t:03d}{v:03d}" for t in range(100, 112) for v in range(1, 9)]  # 96 villages
PRODUCTS: list[dict[str, Any]] = [
    {
        "code": "PA-5-3-0",
        "name": "扶贫小额信贷 (5万元以下、3年以内)",
        "borrower_kind": "household",
        "min_amount": Decimal("1000"),
        "max_amount": Decimal("50000"),
        "max_term_months": 36,
        "annual_rate": Decimal("4.35"),
        "benchmark_rate": Decimal("4.35"),
        "conventions": {"repayment_method": "equal_installments"},
        "subsidy_coverage": "full",
        "subsidy_mode": "direct_periodic",
        "government_share": Decimal("70"),
        "grace_days": 3,
        "penalty_uplift": Decimal("50"),
        "reminder_days": 3,
    },
    {
        "code": "PA-QUARTERLY",
        "name": "扶贫小额信贷 (按季付息、到期还本)",
        "borrower_kind": "household",
        "min_amount": Decimal("1000"),
        "max_amount": Decimal("50000"),
        "max_term_months": 36,
        "annual_rate": Decimal("4.35"),
        "benchmark_rate": Decimal("4.35"),
        "conventions": {"repayment_method": "periodic_interest_principal_at_maturity", "repayment_every": 3},
        "subsidy_coverage": "full",
        "subsidy_mode": "collect_then_reimburse",
        "government_share": Decimal("70"),
        "grace_days": 5,
        "penalty_uplift": Decimal("50"),
        "reminder_days": 7,
    },
    {
        "code": "PA-ENTITY",
        "name": "新型农业经营主体扶贫贷",
        "borrower_kind": "entity",
        "min_amount": Decimal("50000"),
        "max_amount": Decimal("500000"),
        "max_term_months": 36,
        "annual_rate": Decimal("4.75"),
        "benchmark_rate": Decimal("4.35"),
        "conventions": {
            "repayment_method": "equal_principal",
            "interest_calculation_period_type": "daily",
            "days_in_year_type": "days_365",
        },
        "subsidy_coverage": "benchmark_capped",
        "subsidy_mode": "direct_periodic",
        "government_share": Decimal("50"),
        "grace_days": 0,
        "penalty_uplift": Decimal("50"),
        "reminder_days": 5,
    },
]
PRODUCT_WEIGHTS = (55, 30, 15)
AMOUNTS = (
    ((10000, 20000, 30000, 40000, 50000), (5, 10, 20, 15, 50)),
    ((10000, 20000, 30000, 50000), (10, 15, 25, 50)),
    ((100000, 200000, 300000, 500000), (30, 30, 25, 15)),
)
MONTHS = ((12, 24, 36), (30, 20, 50))
TARGET_DPD = (((1, 30), (31, 60), (61, 90), (91, 400)), (50, 20, 12, 18))

LOAN_COLUMNS = (
    "id, contract_no, product_id, pool_id, borrower_kind, household_id, entity_code, entity_poor_households,"
    " borrower_name, id_number, phone, account_no, region_code, purpose, enterprise_use, helper_id, voluntary,"
    " acknowledged_repayable, survey_report, amount_requested, amount, terms, status, decision_reason, applied_by,"
    " applied_at, decided_by, decided_at, disbursed_on, maturity_date, schedule_version, principal_outstanding,"
    " interest_accrued, accrued_through, days_past_due, bucket"
)
INSTALLMENT_COLUMNS = (
    "id, loan_id, schedule_version, number, from_date, due_date, principal_due, interest_due, subsidy_due,"
    " borrower_interest_due, interest_waived, principal_paid, interest_paid, penalty_accrued, penalty_through,"
    " penalty_paid, paid_on, last_paid_on, reminded_on, open"
)


# --- the data ------------------------------------------------------------------------------------------------


def create_products(url: str) -> None:
    """The pool and the three products, through the models (as the API writes them)."""
    upgrade(SPEC.migrations, url, service="loans")
    db = Database(url, service="loans")
    now = datetime(2022, 1, 1, 9, 0, tzinfo=SHANGHAI)
    try:
        with db.transaction() as session:
            pool = Pool(
                name="普安县扶贫小额信贷风险补偿金",
                region_code=COUNTY,
                bank="普安农商行",
                leverage_multiple=Decimal("10"),
                balance=Decimal("900000000"),
                created_at=now,
            )
            session.add(pool)
            session.flush()
            for spec in PRODUCTS:
                session.add(
                    Product(
                        version=1,
                        bank="普安农商行",
                        region_code=COUNTY,
                        rate_basis="lpr_1y",
                        pool_id=pool.id,
                        hotline="0859-12317",
                        created_by="bench",
                        created_at=now,
                        **spec,
                    )
                )
    finally:
        db.dispose()


def load_products(db: Database) -> list[Product]:
    """The products in PRODUCTS' order, detached (usable after the session)."""
    from sqlmodel import select

    with db.reader() as session:
        codes = {p.code: p for p in session.exec(select(Product))}
        session.expunge_all()
    return [codes[spec["code"]] for spec in PRODUCTS]


class Schedules:
    """Schedules from the domain, cached: where interest does not depend on the dates (per repayment period,
    regular periods), one schedule per amount and term serves every disbursement date, with its own dates."""

    def __init__(self, products: list[Product]) -> None:
        self.products = products
        self.cache: dict[tuple[Any, ...], Any] = {}

    def periods(self, p: int, amount: Decimal, n: int, on: date) -> tuple[list[Any], Any]:
        product = self.products[p]
        daily = product.conventions.get("interest_calculation_period_type") == "daily"
        key = (p, amount, n, on if daily else None)
        if key not in self.cache:
            terms = loan_terms(product, principal=amount, number_of_repayments=n, disbursed_on=on, first_repayment=None)
            self.cache[key] = generate_schedule(terms)
        schedule = self.cache[key]
        if daily:
            return [(q.from_date, q.due_date, q) for q in schedule.periods], schedule.terms
        terms = replace(schedule.terms, expected_disbursement_date=on)
        dates = due_dates(terms)
        return [(a, b, q) for (a, b), q in zip(dates, schedule.periods, strict=True)], terms


def _utc(dt: datetime) -> str:
    return dt.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def _f(x: Decimal) -> float:
    return float(x)


def _d(x: date | None) -> str | None:
    return x.isoformat() if x else None


def generate(url: str, loans: int, seed: int, first: date) -> None:
    """N active loans with their schedules, written raw as the night before ``first`` left them; when the last
    subsidy period's claim night has passed, with the claims it made (only interest paid on time by then)."""
    create_products(url)
    rng = random.Random(seed)
    path = url.split("///", 1)[1]
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-400000")
    db = Database(url, service="loans")
    ordered = load_products(db)
    db.dispose()
    schedules = Schedules(ordered)
    night_before = first - timedelta(days=1)
    claim_periods: dict[int, tuple[date, date, date]] = {}
    for p, product in enumerate(ordered):
        if product.subsidy_mode == SubsidyMode.direct_periodic.value:
            begin, end = previous_period(first, months=product.subsidy_period_months)
            claimed_on = end + timedelta(days=product.grace_days + 1)
            if claimed_on < first:
                claim_periods[p] = (begin, end, claimed_on)
    applied = _utc(datetime(2022, 1, 1, 9, 0, tzinfo=SHANGHAI))
    l_marks = ",".join("?" * len(LOAN_COLUMNS.split(",")))
    i_marks = ",".join("?" * len(INSTALLMENT_COLUMNS.split(",")))
    loan_rows: list[tuple[Any, ...]] = []
    inst_rows: list[tuple[Any, ...]] = []
    sub_rows: list[tuple[Any, ...]] = []

    def flush() -> None:
        conn.execute("BEGIN")
        conn.executemany(f"INSERT INTO loan ({LOAN_COLUMNS}) VALUES ({l_marks})", loan_rows)
        conn.executemany(f"INSERT INTO installment ({INSTALLMENT_COLUMNS}) VALUES ({i_marks})", inst_rows)
        conn.executemany(
            "INSERT INTO subsidy (id, loan_id, region_code, mode, payee, period_start, period_end, interest_accrued,"
            " interest_paid, amount, advance_days, status, claimed_on) VALUES (?, ?, ?, 'direct_periodic', 'bank',"
            " ?, ?, ?, ?, ?, 0, 'due', ?)",
            sub_rows,
        )
        conn.execute("COMMIT")
        loan_rows.clear()
        inst_rows.clear()
        sub_rows.clear()

    for k in range(loans):
        p = rng.choices(range(3), PRODUCT_WEIGHTS)[0]
        product = ordered[p]
        amount = Decimal(rng.choices(*AMOUNTS[p])[0])
        months = rng.choices(*MONTHS)[0]
        n = months // 3 if p == 1 else months
        # active tonight: disbursed at least 10 days ago, maturing at least a week from now
        earliest = first - timedelta(days=int(months * 30.4) - 7)
        on = earliest + timedelta(days=rng.randrange(max((first - timedelta(days=10) - earliest).days, 1)))
        periods, terms = schedules.periods(p, amount, n, on)
        coverage, mode = Coverage(product.subsidy_coverage), SubsidyMode(product.subsidy_mode)
        net = borrower_bills_net(mode)
        grace, remind = product.grace_days, product.reminder_days
        rule = penalty_rule(product)
        kind = rng.choices(("good", "late", "arrears"), (72, 10, 18))[0]
        unpaid_from = None
        if kind == "arrears":
            low, high = rng.choices(*TARGET_DPD)[0]
            unpaid_from = first - timedelta(days=rng.randint(low, high) + grace)
        loan_id = new_id()
        opened: list[OpenInstallment] = []
        paid_principal = Decimal(0)
        partial_done = False
        rows: list[list[Any]] = []
        past = [due for _, due, _ in periods if due < first]
        claim = claim_periods.get(p)
        accrued = paid_interest = subsidy_amount = Decimal(0)
        for number, (start, due, q) in enumerate(periods, start=1):
            subsidy = subsidised_interest(
                q.interest_due, coverage=coverage, rate=product.annual_rate, benchmark=product.benchmark_rate
            )
            bid = q.interest_due - subsidy if net else q.interest_due
            principal_paid = interest_paid = Decimal(0)
            paid_on = last_paid = None
            is_open = True
            if due < first:
                in_arrears = unpaid_from is not None and (due >= unpaid_from or due == past[-1])
                if kind == "good" and (first - due).days <= grace and rng.random() < 0.5:
                    pass  # due a day or two ago, not paid yet: inside the grace days
                elif in_arrears:
                    if not partial_done and rng.random() < 0.3:  # the oldest unpaid one partly paid
                        principal_paid = (q.principal_due / 2).quantize(Decimal("0.01"))
                        interest_paid = bid
                        last_paid = due + timedelta(days=rng.randint(0, 20))
                        last_paid = min(last_paid, night_before)
                    partial_done = True
                else:
                    late = kind == "late" and rng.random() < 0.3
                    paid_on = due + timedelta(days=rng.randint(grace + 1, grace + 25)) if late else due
                    paid_on = min(paid_on - timedelta(days=0 if late else rng.randint(0, 3)), night_before)
                    paid_on = max(paid_on, start)
                    principal_paid, interest_paid, last_paid, is_open = q.principal_due, bid, paid_on, False
            paid_principal += principal_paid
            if claim and claim[0] <= due <= claim[1] and paid_on and paid_on < claim[2] and on <= claim[1]:
                accrued += q.interest_due
                paid_interest += interest_paid
                if paid_on <= due + timedelta(days=grace):
                    subsidy_amount += subsidy
            unpaid = q.principal_due - principal_paid + bid - interest_paid
            opened.append(OpenInstallment(start, due, q.interest_due, unpaid if is_open else Decimal(0)))
            penalty, through = (
                penalty_increment(
                    rule,
                    unpaid_principal=q.principal_due - principal_paid,
                    due_date=due,
                    through=None,
                    day=night_before,
                )
                if is_open
                else (Decimal(0), None)
            )
            reminded = due - timedelta(days=remind) if due - timedelta(days=remind) <= night_before else None
            rows.append(
                [
                    new_id(), loan_id, 1, number, start.isoformat(), due.isoformat(), _f(q.principal_due),
                    _f(q.interest_due), _f(subsidy), _f(bid), 0.0, _f(principal_paid), _f(interest_paid),
                    _f(penalty), _d(through), 0.0, _d(paid_on), _d(last_paid), _d(reminded), 1 if is_open else 0,
                ]
            )  # fmt: skip
        dpd = days_past_due(night_before, opened)
        household = p < 2
        region = rng.choice(VILLAGES)
        if claim and subsidy_amount > 0:
            sub_rows.append(
                (
                    new_id(), loan_id, region, claim[0].isoformat(), claim[1].isoformat(), _f(accrued),
                    _f(paid_interest), _f(subsidy_amount), claim[2].isoformat(),
                )
            )  # fmt: skip
        loan_rows.append(
            (
                loan_id, f"PA-{on.year}-{k:07d}", product.id, product.pool_id, product.borrower_kind,
                new_id() if household else None, None if household else f"9152232{k:011d}",
                None if household else rng.randint(3, 40), "胡华平" if household else "下街生猪养殖合作社",
                f"52232319{rng.randint(50, 99)}0115{k % 10000:04d}"[:18] if household else None,
                f"138{k:08d}", f"622848{k:013d}", region, "生猪养殖", 0,
                new_id() if household and rng.random() < 0.9 else None, 1, 1, "", _f(amount), _f(amount),
                json.dumps({"number_of_repayments": n, "schedule": _terms_json(terms)}, ensure_ascii=False),
                "active", "", "officer-wang", applied, "officer-wang", applied, on.isoformat(),
                periods[-1][1].isoformat(), 1, _f(amount - paid_principal), _f(accrued_interest(night_before, opened)),
                night_before.isoformat(), dpd, bucket(dpd, grace_days=grace),
            )
        )  # fmt: skip
        inst_rows.extend(tuple(r) for r in rows)
        if len(loan_rows) >= 5000:
            flush()
    if loan_rows:
        flush()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


# --- the limit: the same night in plain SQL --------------------------------------------------------------------


def _fen(expr: str) -> str:
    return f"CAST(ROUND(({expr}) * 100) AS INTEGER)"


UNPAID = _fen("i.principal_due - i.principal_paid + i.borrower_interest_due - i.interest_waived - i.interest_paid")
OPEN_PRINCIPAL = _fen("i.principal_due - i.principal_paid")


def _half_even(num: str, den: str, base: str = "0", tie: str = "0") -> str:
    """base + num/den rounded half-even (integers, num >= 0); ``tie`` > 0 rounds ties up, < 0 down."""
    q = f"(({num}) / ({den}))"
    r = f"(({num}) % ({den}))"
    up = (
        f"CASE WHEN 2 * {r} > ({den}) THEN 1 WHEN 2 * {r} = ({den}) THEN"
        f" (CASE WHEN ({tie}) > 0 THEN 1 WHEN ({tie}) < 0 THEN 0 ELSE (({base}) + {q}) % 2 END) ELSE 0 END"
    )
    return f"(({base}) + {q} + {up})"


def penalty_constants(product: sqlite3.Row) -> tuple[int, int, int]:
    """Penalty in millionths of a yuan = principal in fen × num × days / den, and how the service's Decimal
    breaks an exact tie: its rate (annual ÷ 100 × (1 + uplift ÷ 100) ÷ days a year) is rounded to 28 digits,
    so a tie rounds up when that rate came out above the exact one, down when below, half-even when exact."""
    annual = Decimal(f"{product['annual_rate']:.4f}")
    uplift = Decimal(f"{product['penalty_uplift']:.4f}")
    days_in_year = Conventions.model_validate(json.loads(product["conventions"])).days_in_year_type
    # the service's day count (calendar.year_parts); one fixed year length is all this SQL side needs
    assert days_in_year is not DaysInYearType.actual, "the SQL side counts 360- or 365-day years only"
    diy = 360 if days_in_year is DaysInYearType.days_360 else 365
    exact = Fraction(annual) / 100 * (1 + Fraction(uplift) / 100) / diy
    service = annual / HUNDRED * (1 + uplift / HUNDRED) / diy
    tie = (Fraction(service) > exact) - (Fraction(service) < exact)
    micro = exact * 10**6 / 100  # per fen of principal and day
    g = gcd(micro.numerator, micro.denominator)
    return micro.numerator // g, micro.denominator // g, tie


def sql_night(conn: sqlite3.Connection, day: date, started: datetime) -> dict[str, int]:
    """One night of the nightly job in plain SQL, one transaction; the counts the job reports."""
    d = day.isoformat()
    when = TypeAdapter(datetime).dump_json(started).decode()
    stamp = _utc(started)
    uuid = (
        "lower(substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-' || substr(h, 13, 4) || '-' || substr(h, 17, 4)"
        " || '-' || substr(h, 21, 12))"
    )
    envelope = (
        '\'{"id":"\' || eid || \'","type":"{type}","source":"loans","subject":\' || json_quote(subject)'
        f' || \',"time":{when},"datacontenttype":"application/json","schemaversion":1,"data":\' || data'
        " || '}'"
    )
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(
        "INSERT INTO job_run (job, period, period_kind, day, status, started_at) VALUES ('nightly', ?, 'scheduled',"
        " ?, 'running', ?)",
        (d, d, stamp),
    )
    products = conn.execute("SELECT * FROM product").fetchall()
    conn.execute("CREATE TEMP TABLE prod (id TEXT PRIMARY KEY, grace INT, remind INT, num INT, den INT, tie INT)")
    conn.executemany(
        "INSERT INTO prod VALUES (?, ?, ?, ?, ?, ?)",
        [(p["id"], p["grace_days"], p["reminder_days"], *penalty_constants(p)) for p in products],
    )
    # one scan: per active loan not yet done tonight, what its installments say
    conn.execute(
        f"""CREATE TEMP TABLE night AS
        SELECT id, product_id, old_bucket, household_id, region_code, helper_id, contract_no, overdue_fen, dpd,
          CASE WHEN dpd = 0 OR dpd <= grace THEN 'current' WHEN dpd <= 30 THEN '1-30' WHEN dpd <= 60 THEN '31-60'
               WHEN dpd <= 90 THEN '61-90' ELSE '90+' END AS new_bucket,
          CASE WHEN run_den IS NULL THEN past_fen ELSE {_half_even("run_num", "run_den", "past_fen")} END
            AS interest_fen
        FROM (
          SELECT l.id, l.product_id, l.bucket AS old_bucket, l.household_id, l.region_code, l.helper_id,
            l.contract_no, p.grace,
            COALESCE(CAST(julianday(:d) - julianday(MIN(CASE WHEN i.open AND {UNPAID} > 0 AND i.due_date < :d
                                                         THEN i.due_date END)) AS INTEGER), 0) AS dpd,
            SUM(CASE WHEN i.open AND i.due_date < :d THEN {UNPAID} ELSE 0 END) AS overdue_fen,
            SUM(CASE WHEN i.due_date <= :d THEN {_fen("i.interest_due")} ELSE 0 END) AS past_fen,
            SUM(CASE WHEN i.due_date > :d AND i.from_date < :d
                     THEN {_fen("i.interest_due")} * CAST(julianday(:d) - julianday(i.from_date) AS INTEGER)
                     ELSE 0 END) AS run_num,
            MAX(CASE WHEN i.due_date > :d AND i.from_date < :d
                     THEN CAST(julianday(i.due_date) - julianday(i.from_date) AS INTEGER) END) AS run_den
          FROM loan l
          JOIN prod p ON p.id = l.product_id
          JOIN installment i ON i.loan_id = l.id AND i.schedule_version = l.schedule_version
          WHERE l.status = 'active' AND (l.accrued_through IS NULL OR l.accrued_through < :d)
          GROUP BY l.id
        )""",
        {"d": d},
    )
    conn.execute("CREATE UNIQUE INDEX temp.ix_night ON night (id)")
    overdue = conn.execute(
        "INSERT INTO outbox (event_id, event_type, aggregate_id, payload, created_at)"
        f" SELECT eid, 'loan.overdue', subject, {envelope.replace('{type}', 'loan.overdue')}, :stamp FROM ("
        f"  SELECT {uuid} AS eid, id AS subject, json_object('loan_id', id, 'days_past_due', dpd,"
        "    'bucket', new_bucket, 'amount_overdue', printf('%.2f', overdue_fen / 100.0),"
        "    'previous_bucket', old_bucket, 'as_of', :d, 'household_id', household_id, 'region_code', region_code,"
        "    'helper_id', helper_id, 'contract_no', contract_no) AS data"
        "  FROM (SELECT hex(randomblob(16)) AS h, * FROM night WHERE new_bucket != old_bucket"
        "        AND new_bucket != 'current'))",
        {"d": d, "stamp": stamp},
    ).rowcount
    # reminders: open installments falling due within the product's reminder days, not yet reminded
    dmax = (day + timedelta(days=max(p["reminder_days"] for p in products))).isoformat()
    remind_where = (
        f" i.open = 1 AND i.reminded_on IS NULL AND i.due_date > :d AND i.due_date <= date(:d, '+' || p.remind ||"
        f" ' days') AND i.due_date <= :dmax AND {UNPAID} > 0 AND i.schedule_version = l.schedule_version"
    )
    reminders = conn.execute(
        "INSERT INTO outbox (event_id, event_type, aggregate_id, payload, created_at)"
        f" SELECT eid, 'loan.repayment_due', subject, {envelope.replace('{type}', 'loan.repayment_due')}, :stamp"
        f" FROM (SELECT {uuid} AS eid, subject, data FROM ("
        "  SELECT hex(randomblob(16)) AS h, n.id AS subject, json_object('loan_id', n.id, 'due_date', i.due_date,"
        f"    'amount_due', printf('%.2f', {UNPAID} / 100.0), 'installment_no', i.number,"
        "    'household_id', n.household_id, 'region_code', n.region_code, 'helper_id', n.helper_id,"
        "    'contract_no', n.contract_no) AS data"
        "  FROM night n JOIN prod p ON p.id = n.product_id JOIN loan l ON l.id = n.id"
        "  JOIN installment i ON i.loan_id = n.id"
        f"  WHERE {remind_where} ORDER BY n.id, i.number))",
        {"d": d, "dmax": dmax, "stamp": stamp},
    ).rowcount
    marked = conn.execute(
        "UPDATE installment AS i SET reminded_on = :d FROM night n JOIN prod p ON p.id = n.product_id"
        f" JOIN loan l ON l.id = n.id WHERE i.loan_id = n.id AND {remind_where}",
        {"d": d, "dmax": dmax},
    ).rowcount
    assert marked == reminders, (marked, reminders)
    # penalty interest on overdue principal after the grace days, from the last day accrued
    start = "max(COALESCE(i.penalty_through, i.due_date), i.due_date)"
    days = f"CAST(julianday(:d) - julianday({start}) AS INTEGER)"
    add = _half_even(f"{OPEN_PRINCIPAL} * p.num * {days}", "p.den", tie="p.tie")
    conn.execute(
        f"""UPDATE installment AS i
        SET penalty_accrued = (CAST(ROUND(i.penalty_accrued * 1000000) AS INTEGER) + pen.add_micro) / 1000000.0,
            penalty_through = :d
        FROM (
          SELECT i.id, {add} AS add_micro
          FROM installment i JOIN night n ON n.id = i.loan_id JOIN prod p ON p.id = n.product_id
          JOIN loan l ON l.id = n.id
          WHERE i.open = 1 AND i.due_date < :d AND i.schedule_version = l.schedule_version AND :d > {start}
            AND {OPEN_PRINCIPAL} > 0 AND CAST(julianday(:d) - julianday(i.due_date) AS INTEGER) > p.grace
        ) AS pen
        WHERE i.id = pen.id AND pen.add_micro > 0""",
        {"d": d},
    )
    loans = conn.execute(
        "UPDATE loan SET days_past_due = n.dpd, bucket = n.new_bucket, interest_accrued = n.interest_fen / 100.0,"
        " accrued_through = :d FROM night n WHERE loan.id = n.id",
        {"d": d},
    ).rowcount
    claims = 0
    for p in products:
        if p["subsidy_mode"] != SubsidyMode.direct_periodic.value:
            continue
        begin, end = previous_period(day, months=p["subsidy_period_months"])
        if day <= end + timedelta(days=p["grace_days"]):
            continue
        on_time = f"i.paid_on <= date(i.due_date, '+{int(p['grace_days'])} days')"
        charged = f"({_fen('i.interest_due')} - {_fen('i.interest_waived')})"
        share = _half_even(f"{_fen('i.subsidy_due')} * {charged}", _fen("i.interest_due"))
        params = {"p": p["id"], "start": begin.isoformat(), "end": end.isoformat(), "d": d, "stamp": stamp}
        conn.execute(
            f"""CREATE TEMP TABLE claims AS
            SELECT {uuid} AS sid, loan_id, region_code, contract_no, amount_fen, accrued_fen, paid_fen FROM (
              SELECT hex(randomblob(16)) AS h, l.id AS loan_id, l.region_code, l.contract_no,
                SUM(CASE WHEN {on_time} AND {_fen("i.interest_due")} != 0 THEN {share} ELSE 0 END) AS amount_fen,
                SUM({charged}) AS accrued_fen, SUM({_fen("i.interest_paid")}) AS paid_fen
              FROM loan l JOIN installment i ON i.loan_id = l.id
              WHERE l.product_id = :p AND l.status IN ('active', 'settled')
                AND (l.disbursed_on IS NULL OR l.disbursed_on <= :end)
                AND i.due_date >= :start AND i.due_date <= :end AND i.paid_on IS NOT NULL
                AND NOT EXISTS (SELECT 1 FROM subsidy s WHERE s.loan_id = l.id AND s.period_start = :start)
              GROUP BY l.id HAVING amount_fen > 0)""",
            params,
        )
        claims += conn.execute(
            "INSERT INTO subsidy (id, loan_id, region_code, mode, payee, period_start, period_end, interest_accrued,"
            " interest_paid, amount, advance_days, status, claimed_on) SELECT sid, loan_id, region_code,"
            " 'direct_periodic', 'bank', :start, :end, accrued_fen / 100.0, paid_fen / 100.0, amount_fen / 100.0, 0,"
            " 'due', :d FROM claims",
            params,
        ).rowcount
        conn.execute(
            "INSERT INTO outbox (event_id, event_type, aggregate_id, payload, created_at)"
            f" SELECT eid, 'loan.subsidy_due', subject, {envelope.replace('{type}', 'loan.subsidy_due')}, :stamp"
            f" FROM (SELECT {uuid} AS eid, sid AS subject, json_object('subsidy_id', sid, 'loan_id', loan_id,"
            "   'period_start', :start, 'period_end', :end, 'amount', printf('%.2f', amount_fen / 100.0),"
            "   'mode', 'direct_periodic', 'payee', 'bank', 'region_code', region_code, 'contract_no', contract_no)"
            "   AS data FROM (SELECT hex(randomblob(16)) AS h, * FROM claims))",
            params,
        )
        conn.execute("DROP TABLE temp.claims")
    counts = {"loans": loans, "overdue_events": overdue, "reminders": reminders, "subsidy_claims": claims}
    conn.execute(
        "UPDATE job_run SET status = 'done', finished_at = ?, detail = ? WHERE job = 'nightly' AND period = ?",
        (stamp, str(counts), d),
    )
    conn.execute("COMMIT")
    conn.execute("DROP TABLE temp.night")
    conn.execute("DROP TABLE temp.prod")
    return counts


def sql_connection(path: Path) -> sqlite3.Connection:
    """A plain sqlite3 connection with the service's pragmas (shared.db.make_engine)."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    conn.row_factory = sqlite3.Row
    for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=FULL", "busy_timeout=30000"):
        conn.execute(f"PRAGMA {pragma}")
    return conn


# --- the job, as the service runs it ---------------------------------------------------------------------------


class Split:
    """Timers around the nightly job's parts (wrappers that call the originals)."""

    def __init__(self) -> None:
        self.seconds = {"loans": 0.0, "write": 0.0, "subsidies": 0.0}
        self._patch(nightly, "_one_loan", "loans")
        self._patch(nightly, "_flush", "write")
        self._patch(subsidies, "claim_due_periods", "subsidies")

    def _patch(self, module: Any, name: str, part: str) -> None:
        original: Callable[..., Any] = getattr(module, name)
        seconds = self.seconds
        clock = _time.perf_counter

        def timed(*args: Any, **kwargs: Any) -> Any:
            t = clock()
            try:
                return original(*args, **kwargs)
            finally:
                seconds[part] += clock() - t

        setattr(module, name, timed)

    def take(self) -> dict[str, float]:
        out = dict(self.seconds)
        for k in self.seconds:
            self.seconds[k] = 0.0
        return out


def job_night(runner: PeriodicRunner, clock: FrozenClock, day: date) -> dict[str, int]:
    clock.set(datetime.combine(day, time(1, 0, 5), SHANGHAI))
    done = runner.tick()
    assert done == [f"nightly:{day.isoformat()}"], done
    with runner.db.reader() as session:
        from sqlalchemy import text

        status, detail = session.execute(
            text("SELECT status, detail FROM job_run WHERE job = 'nightly' AND period = :p"), {"p": day.isoformat()}
        ).one()
    assert status == "done", status
    return ast.literal_eval(detail)


# --- checks --------------------------------------------------------------------------------------------------

EVENT_FIELDS = (
    "loan_id", "days_past_due", "bucket", "amount_overdue", "previous_bucket", "as_of", "due_date", "amount_due",
    "installment_no", "household_id", "region_code", "helper_id", "contract_no", "period_start", "period_end",
    "amount", "mode", "payee",
)  # fmt: skip


def compare(job_db: Path, sql_db: Path, seqs: tuple[int, int]) -> dict[str, Any]:
    """Row-by-row differences between the two copies after a night (both must be zero)."""
    conn = sqlite3.connect(job_db)
    conn.execute("ATTACH DATABASE ? AS s", (str(sql_db),))
    loans, loan_diff = conn.execute(
        "SELECT count(*), total(a.id != b.id OR a.days_past_due != b.days_past_due OR a.bucket != b.bucket"
        " OR round(a.interest_accrued * 100) != round(b.interest_accrued * 100)"
        " OR a.accrued_through IS NOT b.accrued_through)"
        " FROM loan a JOIN s.loan b ON b.rowid = a.rowid"
    ).fetchone()
    inst, inst_diff, max_penalty_diff = conn.execute(
        "SELECT count(*), total(a.id != b.id OR round(a.penalty_accrued * 1000000) != round(b.penalty_accrued *"
        " 1000000) OR a.penalty_through IS NOT b.penalty_through OR a.reminded_on IS NOT b.reminded_on),"
        " max(abs(a.penalty_accrued - b.penalty_accrued))"
        " FROM installment a JOIN s.installment b ON b.rowid = a.rowid"
    ).fetchone()
    sub = (
        "SELECT loan_id, period_start, period_end, round(amount * 100), round(interest_accrued * 100),"
        " round(interest_paid * 100), mode, payee, status, claimed_on FROM {db}subsidy"
    )
    sub_diff = sum(
        conn.execute(f"SELECT count(*) FROM ({sub.format(db=a)} EXCEPT {sub.format(db=b)})").fetchone()[0]
        for a, b in (("main.", "s."), ("s.", "main."))
    )
    sub_counts = [conn.execute(f"SELECT count(*) FROM {db}subsidy").fetchone()[0] for db in ("main.", "s.")]
    fields = ", ".join(f"json_extract(payload, '$.data.{f}')" for f in EVENT_FIELDS)
    ev = (
        "SELECT event_type, CASE WHEN event_type = 'loan.subsidy_due' THEN NULL ELSE aggregate_id END, "
        + fields
        + " FROM {db}outbox WHERE seq > {seq}"
    )
    ev_a, ev_b = ev.format(db="main.", seq=seqs[0]), ev.format(db="s.", seq=seqs[1])
    ev_diff = sum(
        conn.execute(f"SELECT count(*) FROM ({x} EXCEPT {y})").fetchone()[0] for x, y in ((ev_a, ev_b), (ev_b, ev_a))
    )
    ev_counts = [
        dict(conn.execute(f"SELECT event_type, count(*) FROM {db}outbox WHERE seq > ? GROUP BY 1", (seq,)).fetchall())
        for db, seq in (("main.", seqs[0]), ("s.", seqs[1]))
    ]
    conn.close()
    return {
        "loans_compared": loans,
        "loan_differences": int(loan_diff),
        "installments_compared": inst,
        "installment_differences": int(inst_diff),
        "max_penalty_difference": max_penalty_diff or 0.0,
        "subsidy_differences": sub_diff + abs(sub_counts[0] - sub_counts[1]),
        "event_differences": ev_diff + (ev_counts[0] != ev_counts[1]),
        "events": ev_counts[0],
    }


def last_seq(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT COALESCE(max(seq), 0) FROM outbox").fetchone()[0]
    finally:
        conn.close()


def mix(path: Path, first: date) -> dict[str, Any]:
    """What the data looks like before the first night: buckets, installments by state."""
    conn = sqlite3.connect(path)
    try:
        buckets = dict(conn.execute("SELECT bucket, count(*) FROM loan GROUP BY 1 ORDER BY 1").fetchall())
        (installments, open_past, late, on_time, future) = conn.execute(
            "SELECT count(*), total(open AND due_date < :d), total(NOT open AND paid_on > due_date),"
            " total(NOT open AND paid_on <= due_date), total(due_date >= :d) FROM installment",
            {"d": first.isoformat()},
        ).fetchone()
        return {
            "buckets": buckets,
            "installments": installments,
            "past_due_unpaid": int(open_past),
            "paid_late": int(late),
            "paid_on_time": int(on_time),
            "not_yet_due": int(future),
            "subsidy_claims": conn.execute("SELECT count(*) FROM subsidy").fetchone()[0],
        }
    finally:
        conn.close()


# --- schedules ------------------------------------------------------------------------------------------------


def schedule_rates(products: list[Product], seconds: float) -> dict[str, float]:
    """generate_schedule for the 5-3-0 product's terms (等额本息): 12 and 36 months alternating, then each."""
    product = products[0]
    terms = {
        n: [
            loan_terms(
                product,
                principal=Decimal(10000 + 5000 * (k % 9)),
                number_of_repayments=n,
                disbursed_on=date(2024, 1, 1) + timedelta(days=k),
                first_repayment=None,
            )
            for k in range(200)
        ]
        for n in (12, 36)
    }

    def rate(items: list[LoanTerms]) -> float:
        done, start = 0, _time.perf_counter()
        while _time.perf_counter() - start < seconds:
            for t in items:
                generate_schedule(t)
            done += len(items)
        return round(done / (_time.perf_counter() - start), 1)

    alternating = [t for pair in zip(terms[12], terms[36], strict=True) for t in pair]
    return {
        "schedules_per_s": rate(alternating),
        "schedules_per_s_12m": rate(terms[12]),
        "schedules_per_s_36m": rate(terms[36]),
    }


# --- main ----------------------------------------------------------------------------------------------------


def main() -> int:
    p = _common.parser("loan_batch", __doc__.split("\n\n")[0])
    p.add_argument("--loans", type=int, help="active loans (default 200,000; 5,000 with --quick)")
    p.add_argument("--nights", type=int, help="consecutive nights, interleaved (default 3; 2 with --quick)")
    p.add_argument(
        "--first-night",
        type=date.fromisoformat,
        default=FIRST_NIGHT,
        help=f"the first night (default {FIRST_NIGHT}, the quarter's claim night; a later day starts with the claims"
        " made, an ordinary night)",
    )
    p.add_argument("--profile", type=Path, help="cProfile the job's first night into this folder (slows the job)")
    args = p.parse_args()
    n = args.loans or (5000 if args.quick else 200_000)
    first: date = args.first_night
    with _common.workdir("loan_batch", keep=args.keep) as home:
        base = home / "loans.db"
        url = f"sqlite:///{base}"
        say(f"making {n:,} active loans with their schedules (seed {SEED}) ...")
        with Timer() as t:
            child = multiprocessing.get_context("fork").Process(target=generate, args=(url, n, SEED, first))
            child.start()
            child.join()
            assert child.exitcode == 0, f"the data generator failed ({child.exitcode})"
        data = mix(base, first)
        say(
            f"  {t.seconds:.1f} s: {data['installments']:,} installments; buckets {data['buckets']};"
            f" past due unpaid {data['past_due_unpaid']:,}, paid late {data['paid_late']:,},"
            f" paid on time {data['paid_on_time']:,}, not yet due {data['not_yet_due']:,};"
            f" subsidy claims {data['subsidy_claims']:,};"
            f" {base.stat().st_size / 2**20:.0f} MB"
        )
        job_path, sql_path = home / "job.db", home / "sql.db"
        shutil.copyfile(base, job_path)
        shutil.copyfile(base, sql_path)
        base.unlink()

        clock = FrozenClock(datetime.combine(first, time(1, 0), SHANGHAI))
        db = Database(f"sqlite:///{job_path}", service="loans", clock=clock)
        runner = PeriodicRunner(db, [NIGHTLY])
        products = load_products(db)
        conn = sql_connection(sql_path)
        split = Split()
        rss_before = rss_mb()
        nights: list[dict[str, Any]] = []
        ok = True
        for r in range(args.nights or (2 if args.quick else 3)):
            day = first + timedelta(days=r)
            seqs = (last_seq(job_path), last_seq(sql_path))
            times: dict[str, float] = {}
            cpus: dict[str, float] = {}
            results: dict[str, dict[str, int]] = {}
            for side in ("job", "sql") if r % 2 == 0 else ("sql", "job"):
                if side == "job":
                    profiler = cProfile.Profile() if args.profile and r == 0 else None
                    cpu = _time.process_time()
                    with Timer() as t:
                        if profiler:
                            profiler.enable()
                        results["job"] = job_night(runner, clock, day)
                        if profiler:
                            profiler.disable()
                    cpus[side] = _time.process_time() - cpu
                    if profiler:
                        args.profile.mkdir(parents=True, exist_ok=True)
                        profiler.dump_stats(args.profile / "nightly.prof")
                        out = io.StringIO()
                        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
                        say(out.getvalue())
                else:
                    started = datetime.combine(day, time(1, 0, 5), SHANGHAI)
                    cpu = _time.process_time()
                    with Timer() as t:
                        results["sql"] = sql_night(conn, day, started)
                    cpus[side] = _time.process_time() - cpu
                times[side] = t.seconds
            parts = split.take()
            parts["read"] = max(times["job"] - sum(parts.values()), 0.0)
            with Timer() as t:
                check = compare(job_path, sql_path, seqs)
            same = results["job"] == results["sql"] and not any(
                check[k] for k in ("loan_differences", "installment_differences", "subsidy_differences",
                                   "event_differences")
            )  # fmt: skip
            ok = ok and same
            nights.append(
                {"day": day.isoformat(), "times": times, "cpu": cpus, "parts": parts, "counts": results["job"]}
            )
            say(
                f"night {day}: job {times['job']:.2f} s, sql {times['sql']:.2f} s,"
                f" ratio {ratio(times['job'], times['sql'])} (cpu {cpus['job']:.2f} s / {cpus['sql']:.2f} s ="
                f" {ratio(cpus['job'], cpus['sql'])}); job {results['job']}"
                + ("" if results["job"] == results["sql"] else f" but sql {results['sql']}")
                + f"; split {', '.join(f'{k} {v:.2f} s' for k, v in parts.items())}"
            )
            say(
                f"  check ({t.seconds:.1f} s): {check['loans_compared']:,} loans, {check['loan_differences']}"
                f" differ; {check['installments_compared']:,} installments, {check['installment_differences']}"
                f" differ; subsidies {check['subsidy_differences']} differ; events {check['events']},"
                f" {check['event_differences']} differ" + ("" if same else "  <-- MISMATCH")
            )
        peak = _common.peak_rss_mb()
        conn.close()
        db.dispose()
        say("timing generate_schedule ...")
        rates = schedule_rates(products, 0.5 if args.quick else 2.0)
        ratios = [ratio(x["times"]["job"], x["times"]["sql"]) for x in nights]
        job_total = sum(x["times"]["job"] for x in nights)
        share = {
            k: round(sum(x["parts"][k] for x in nights) / job_total, 3) for k in ("read", "loans", "write", "subsidies")
        }
        night0 = nights[0]
        result = {
            "bench": "loan_batch",
            "loans": n,
            "installments": data["installments"],
            "nights": len(nights),
            "nightly_vs_sql": round(statistics.median(ratios), 3),
            "nightly_vs_sql_nights": ratios,
            "first_night": first.isoformat(),
            "nightly_vs_sql_cpu": round(statistics.median(ratio(x["cpu"]["job"], x["cpu"]["sql"]) for x in nights), 3),
            "job_s": [round(x["times"]["job"], 2) for x in nights],
            "sql_s": [round(x["times"]["sql"], 2) for x in nights],
            "loans_per_s_job": round(n / statistics.median(x["times"]["job"] for x in nights)),
            "loans_per_s_sql": round(n / statistics.median(x["times"]["sql"] for x in nights)),
            "nightly_split": share,
            "counts_first_night": night0["counts"],
            "results_match": ok,
            **rates,
            "peak_rss_mb": peak,
            "job_rss_growth_mb": round(peak - rss_before, 1),
            "backend": "sqlite",
        }
        if args.profile:
            result["profiled"] = True
        emit_result(result)
        return 0 if ok else 1


if __name__ == "__main__":
    os.environ.setdefault("FUPIN_LOG_LEVEL", "WARNING")
    sys.exit(main())
