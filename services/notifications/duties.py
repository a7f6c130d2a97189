"""Duty reminders from the helper calendar (DOMAIN 5.2), as a daily periodic job.

The registry owns the contact log; this job reads its coverage report (``GET /contacts/coverage``) with a
service token rather than keeping a copy from events: the registry publishes no contact events, and one
read per reminder day is cheaper than mirroring every contact. A helper whose households were all
contacted (or visited, for the quarterly duty) that period gets no reminder. The cause is the duty and its
period, so a re-run of the day queues nothing twice.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, time
from typing import Any

from sqlmodel import Session

from services.notifications import events
from services.notifications.domain.duties import DEFAULT_RULES, DutyRule, Period, escalation_due, reminder_due
from services.notifications.outbound import Recipient, officers, person, queue
from shared.calls import ServiceClient
from shared.jobs.periodic import PeriodicJob
from shared.settings import stack_settings

TOWNSHIP_DIGITS = 9
DONE = {"monthly_contact": "contacted_this_month", "quarterly_visit": "visited_this_quarter"}


def registry_client() -> ServiceClient:
    return ServiceClient(stack_settings(), "registry", caller="notifications")


def coverage(client: ServiceClient, day: date) -> list[dict[str, Any]]:
    return list(client.get_json("/contacts/coverage", params={"as_of": day.isoformat()})["rows"])


def duty_reminders(session: Session, day: date) -> None:
    """Remind each helper with duties still open; on escalation days tell townships who missed them."""
    due = [(rule, period) for rule in DEFAULT_RULES if (period := reminder_due(rule, day))]
    late = [(rule, period) for rule in DEFAULT_RULES if (period := escalation_due(rule, day))]
    if not due and not late:
        return
    client = registry_client()
    try:
        for rule, period in due:
            remind(session, rule, period, coverage(client, day))
        for rule, period in late:
            escalate(session, rule, period, coverage(client, period.end))
    finally:
        client.close()


def open_households(rule: DutyRule, rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Per helper, the households whose duty is not done yet this period."""
    flag = DONE.get(rule.code)
    pending: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        if flag and row[flag]:
            continue
        for helper_id in row["helper_ids"]:
            pending[helper_id].append(row)
    return pending


def remind(session: Session, rule: DutyRule, period: Period, rows: list[dict[str, Any]]) -> None:
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
            template_code="duty_reminder",
            params=values,
            settings=events.settings(),
        )


def escalate(session: Session, rule: DutyRule, period: Period, rows: list[dict[str, Any]]) -> None:
    """The township's monthly summary: helpers who missed the duty, and households with no helper at all."""
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
