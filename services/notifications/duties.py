"""Duty reminders from the helper calendar (DOMAIN 5.2), as a daily periodic job.

The rules are data (``DutyRuleVersion``): per jurisdiction and from a day on, the most specific jurisdiction
winning, so each village may run on its township's, county's or the built-in calendar. The registry owns the
contact log; this job reads its coverage report (``GET /contacts/coverage``, every page) with a service token
rather than keeping a copy from events: the registry publishes no contact events, and one read per reminder
day is cheaper than mirroring every contact. A helper whose households were all contacted (or visited, for
the quarterly duty) that period gets no reminder. The cause is the duty and its period, so a re-run of the day
queues nothing twice. Each (helper, household, duty, period) is recorded as open, done or missed, which the
compliance report counts.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date, time
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from services.notifications import events
from services.notifications.domain.duties import (
    DutyRule,
    Frequency,
    Period,
    RuleVersion,
    effective_rules,
    escalation_due,
    reminder_due,
)
from services.notifications.models import Contact, DutyOutcome, DutyRuleVersion
from services.notifications.outbound import Recipient, officers, person, queue
from services.notifications.registry import registry_client
from shared.calls import ServiceClient
from shared.clock import session_clock
from shared.ids import new_id
from shared.jobs.periodic import PeriodicJob

TOWNSHIP_DIGITS = 9
DONE = {"monthly_contact": "contacted_this_month", "quarterly_visit": "visited_this_quarter"}
Rows = list[dict[str, Any]]


def rule_versions(session: Session) -> list[RuleVersion]:
    return [version_of(row) for row in session.exec(select(DutyRuleVersion)).all()]


def version_of(row: DutyRuleVersion) -> RuleVersion:
    rule = DutyRule(
        code=row.code,
        title=row.title,
        frequency=Frequency(row.frequency),
        remind_day=row.remind_day,
        escalate_day=row.escalate_day,
        actor_role=row.actor_role,
        template_code=row.template_code,
    )
    return RuleVersion(row.region_code, row.effective_from, rule, row.enabled)


def coverage(client: ServiceClient, day: date) -> Rows:
    """Every row of the registry's coverage report as of ``day``."""
    return list(client.items("/contacts/coverage", {"as_of": day.isoformat()}))


def by_rule(versions: list[RuleVersion], rows: Rows, day: date, due: Any) -> dict[tuple[DutyRule, Period], Rows]:
    """The rows whose village's rule in force on ``day`` is due (``due(rule, day)`` gives its period)."""
    groups: dict[tuple[DutyRule, Period], Rows] = defaultdict(list)
    villages: dict[str, list[tuple[DutyRule, Period]]] = {}
    for row in rows:
        village = row["region_code"]
        if village not in villages:
            in_force = effective_rules(versions, region_code=village, day=day).values()
            villages[village] = [(v.rule, period) for v in in_force if (period := due(v.rule, day))]
        for key in villages[village]:
            groups[key].append(row)
    return groups


def any_due(versions: Iterable[RuleVersion], day: date) -> bool:
    return any(reminder_due(v.rule, day) or escalation_due(v.rule, day) for v in versions if v.enabled)


def duty_reminders(session: Session, day: date) -> None:
    """Remind each helper with duties still open; on escalation days tell townships who missed them."""
    versions = rule_versions(session)
    if not any_due(versions, day):
        return
    client = registry_client()
    try:
        today = coverage(client, day)
        for (rule, period), rows in sorted(by_rule(versions, today, day, reminder_due).items(), key=_order):
            remind(session, rule, period, rows)
        ends: dict[date, Rows] = {}
        for (rule, period), rows in sorted(by_rule(versions, today, day, escalation_due).items(), key=_order):
            villages = {row["region_code"] for row in rows}
            if period.end not in ends:  # what the period ended with, not what is true today
                ends[period.end] = coverage(client, period.end)
            escalate(session, rule, period, [row for row in ends[period.end] if row["region_code"] in villages])
    finally:
        client.close()


def _order(item: tuple[tuple[DutyRule, Period], Rows]) -> tuple[str, str]:
    (rule, period), _ = item
    return rule.code, period.key


def open_households(rule: DutyRule, rows: Rows) -> dict[str, Rows]:
    """Per helper, the households whose duty is not done yet this period."""
    flag = DONE.get(rule.code)
    pending: dict[str, Rows] = defaultdict(list)
    for row in rows:
        if flag and row[flag]:
            continue
        for helper_id in row["helper_ids"]:
            pending[helper_id].append(row)
    return pending


def record(session: Session, rule: DutyRule, period: Period, rows: Rows, *, final: bool) -> None:
    """Each helper's duty for each household this period: done, or open (missed once the period is over)."""
    flag = DONE.get(rule.code)
    units = helper_units(session, {h for row in rows for h in row["helper_ids"]})
    now = session_clock(session).now()
    values = [
        {
            "id": new_id(),
            "rule_code": rule.code,
            "period_key": period.key,
            "month": f"{period.end.year}-{period.end.month:02d}",
            "helper_id": helper_id,
            "unit_id": units.get(helper_id),
            "household_id": row["household_id"],
            "village_code": row["region_code"],
            "status": "done" if flag and row[flag] else ("missed" if final else "open"),
            "updated_at": now,
        }
        for row in rows
        for helper_id in row["helper_ids"]
    ]
    if not values:
        return
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(DutyOutcome).values(values)
    keys = ["rule_code", "period_key", "helper_id", "household_id"]
    changed = {"status": statement.excluded.status, "updated_at": statement.excluded.updated_at}
    session.exec(statement.on_conflict_do_update(index_elements=keys, set_=changed))


def helper_units(session: Session, helper_ids: set[str]) -> dict[str, str | None]:
    if not helper_ids:
        return {}
    query = select(Contact.ref_id, Contact.unit_id).where(Contact.kind == "helper", col(Contact.ref_id).in_(helper_ids))
    return dict(session.exec(query).all())


def remind(session: Session, rule: DutyRule, period: Period, rows: Rows) -> None:
    record(session, rule, period, rows, final=False)
    for helper_id, households in sorted(open_households(rule, rows).items()):
        helper = person(session, "helper", helper_id, region_code=households[0]["region_code"])
        values = {
            "helper": helper.name or "帮扶责任人",
            "period": period_label(period),
            "duty": rule.title[:35],
            "households": str(len(households)),
            "deadline": f"{period.end.month}月{period.end.day}日",
        }
        queue(
            session,
            cause=f"duty:{rule.code}:{period.key}",
            recipient=helper,
            kind="duty_reminder",
            template_code=rule.template_code,
            params=values,
            settings=events.settings(),
        )


def escalate(session: Session, rule: DutyRule, period: Period, rows: Rows) -> None:
    """The township's summary: helpers who missed the duty, and households with no helper at all."""
    record(session, rule, period, rows, final=True)
    missed: dict[str, set[str]] = defaultdict(set)
    unpaired: Counter[str] = Counter()
    for helper_id, households in open_households(rule, rows).items():
        for row in households:
            missed[row["region_code"][:TOWNSHIP_DIGITS]].add(helper_id)
    for row in rows:
        if not row["helper_ids"]:
            unpaired[row["region_code"][:TOWNSHIP_DIGITS]] += 1
    for township in sorted(set(missed) | set(unpaired)):
        for officer in officers(session, "township_officer", township):
            recipient = Recipient(
                f"township_officer:{officer.ref_id}", officer.region_code, officer.name, officer.phone
            )
            name = officer.name or "同志"
            if missed.get(township):
                values = {
                    "officer": name,
                    "period": period_label(period),
                    "duty": rule.title[:35],
                    "helpers": str(len(missed[township])),
                }
                queue(
                    session,
                    cause=f"missed:{rule.code}:{period.key}",
                    recipient=recipient,
                    kind="duties_missed",
                    template_code="duties_missed",
                    params=values,
                    settings=events.settings(),
                )
            if unpaired.get(township):
                values = {"officer": name, "region": township, "count": str(unpaired[township])}
                queue(
                    session,
                    cause=f"unpaired:{period.key}",
                    recipient=recipient,
                    kind="household_unpaired",
                    template_code="household_unpaired",
                    params=values,
                    settings=events.settings(),
                )


def period_label(period: Period) -> str:
    key = period.key
    if "-Q" in key:
        return f"{key[:4]}年第{key[-1]}季度"
    if "-H" in key:
        return f"{key[:4]}年{'上' if key[-1] == '1' else '下'}半年"
    if "-" in key:
        return f"{key[:4]}年{int(key[5:])}月"
    return f"{key}年"


DUTY_JOBS = (
    PeriodicJob(
        name="duty-reminders",
        run=duty_reminders,
        at=time(9, 0),
        description="helper duty reminders (monthly contact, quarterly visit, yearly topics) and township summaries",
    ),
)
