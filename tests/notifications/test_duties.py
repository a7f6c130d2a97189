"""Duty reminders from the helper calendar: the registry's coverage rows decide who is reminded."""

from __future__ import annotations

from datetime import date

import pytest

from services.notifications import duties
from services.notifications.domain.duties import DEFAULT_RULES, reminder_due
from tests.notifications.conftest import TOWNSHIP, VILLAGE, Service

pytestmark = pytest.mark.integration
MONTHLY = next(r for r in DEFAULT_RULES if r.code == "monthly_contact")


def row(household: str, helpers: list[str], *, contacted: bool, visited: bool = False) -> dict[str, object]:
    """One row of the registry's GET /contacts/coverage report."""
    return {
        "household_id": household,
        "hukou_number": household,
        "region_code": VILLAGE,
        "helper_ids": helpers,
        "contacted_this_month": contacted,
        "visited_this_quarter": visited,
    }


def test_monthly_reminder_skips_helpers_who_already_logged_a_contact(svc: Service) -> None:
    svc.contact("helper", "h-done", phone="13800000001", name="王五")
    svc.contact("helper", "h-late", phone="13800000002", name="李四")
    rows = [
        row("a", ["h-done"], contacted=True),
        row("b", ["h-late"], contacted=False),
        row("c", ["h-late"], contacted=True),
    ]
    period = reminder_due(MONTHLY, date(2025, 6, 20))
    assert period is not None
    for _ in range(2):  # a re-run of the day adds nothing
        with svc.db.transaction() as session:
            duties.remind(session, MONTHLY, period, rows)
    assert svc.rows("SELECT recipient, cause FROM message") == [("helper:h-late", "duty:monthly_contact:2025-06")]
    body = svc.scalar("SELECT body FROM message")
    assert "李四您好，2025年6月“每月电话或短信联系帮扶户”还有1户未完成，请于6月30日前完成" in body


def test_township_summary_of_missed_duties_and_unpaired_households(svc: Service) -> None:
    svc.contact("township_officer", "t1", phone="13900000001", name="李主任", region=TOWNSHIP)
    rows = [row("a", ["h1"], contacted=False), row("b", ["h2"], contacted=False), row("c", [], contacted=False)]
    with svc.db.transaction() as session:
        duties.escalate(session, MONTHLY, reminder_due(MONTHLY, date(2025, 6, 20)), rows)  # type: ignore[arg-type]
    bodies = sorted(r[0] for r in svc.rows("SELECT body FROM message"))
    assert any("有2名帮扶责任人未完成" in b for b in bodies)
    assert any(f"{TOWNSHIP}有1户尚无帮扶责任人" in b for b in bodies)
