"""Reads of a running registry over real HTTP: the contact directory synced from its phone directory, and the
duty job reading its contact coverage, with the compliance report counting what the job recorded."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from shared.clock import FrozenClock
from tests.notifications.conftest import TOWNSHIP, VILLAGE, Service
from tests.support.builders import household_body
from tests.support.http import field_of, ok
from tests.support.served import ServedApp

HTTP = httpx.Client(timeout=30)  # a loaded CI machine answers slowly; this is not a hang

pytestmark = pytest.mark.integration
OTHER_VILLAGE = "522323109002"


class Registry:
    """The registry's API as the county office uses it, to plant people, pairings and contacts."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        self.client = httpx.Client(base_url=f"{url}/api/v1", headers=headers, timeout=30)

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return ok(self.client.post(path, json=body), 201)

    def household(self, *, phone: str | None, region: str = VILLAGE) -> dict[str, Any]:
        body = household_body(region_code=region) | {"registered_on": "2024-01-10", "status": "poor"}
        body["members"][0]["phone"] = phone
        return self.post("/households", body)

    def unit(self, name: str) -> str:
        return self.post("/units", {"name": name, "region_code": "522323"})["id"]

    def helper(self, name: str, phone: str, unit_id: str | None = None) -> str:
        body = {"name": name, "rank": "staff", "phone": phone, "region_code": VILLAGE, "unit_id": unit_id}
        return self.post("/helpers", body)["id"]

    def pair(self, helper_id: str, household_id: str) -> None:
        self.post("/pairings", {"helper_id": helper_id, "household_id": household_id, "start_date": "2025-01-01"})

    def contacted(self, helper_id: str, household_id: str, day: str, kind: str = "call") -> None:
        body = {"helper_id": helper_id, "kind": kind, "contacted_on": day}
        self.post(f"/households/{household_id}/contacts", body)


@pytest.fixture
def reg(registry: ServedApp, token: Callable[..., dict[str, str]]) -> Registry:
    return Registry(registry.url, token("county_office", region="522323", subject="county-clerk"))


def run_job(svc: Service, name: str, day: date) -> None:
    """Run the service's periodic job for ``day`` as its runner does; it must have finished."""
    period = str(svc.app.state.runtime.periodic.rerun(name, day)["period"])
    assert svc.scalar("SELECT status FROM job_run WHERE period = :p", p=period) == "done"


def contacts(svc: Service) -> set[tuple[Any, ...]]:
    return set(svc.rows("SELECT kind, ref_id, region_code, name, phone, unit_id, active, source FROM contact"))


def test_directory_sync_takes_whole_phones_then_only_what_changed(
    beside_registry: Service, reg: Registry, clock: FrozenClock
) -> None:
    svc = beside_registry
    unit = reg.unit("县水务局")
    with_phone = reg.household(phone="+86 139-1234-0001")
    without = reg.household(phone=None)
    helper = reg.helper("王帮扶", "13812340001", unit)
    run_job(svc, "directory-sync", clock.now().date())
    assert contacts(svc) == {
        ("household", with_phone["id"], VILLAGE, "成员0", "13912340001", None, True, "registry"),
        ("household", without["id"], VILLAGE, "成员0", None, None, True, "registry"),
        ("helper", helper, VILLAGE, "王帮扶", "13812340001", unit, True, "registry"),
    }
    assert svc.rows("SELECT list_name, rows_taken FROM directorysync ORDER BY list_name") == [
        ("helpers", 1),
        ("households", 2),
    ]

    clock.advance(timedelta(hours=1))
    change = {"reason": "换号", "phone": "13700000001"}
    member = with_phone["head_member_id"]
    ok(reg.client.patch(f"/households/{with_phone['id']}/members/{member}", json=change))
    run_job(svc, "directory-sync", clock.now().date())
    run_job(svc, "directory-sync", clock.now().date())  # nothing new: the same rows, written the same way
    assert ("household", with_phone["id"], VILLAGE, "成员0", "13700000001", None, True, "registry") in contacts(svc)
    assert len(contacts(svc)) == 3
    # Incremental: each sync asks from the newest change it took (a few minutes back, inclusive), so the
    # last one re-read the helper whose change is that mark, and of the households only the edited one.
    assert svc.rows("SELECT list_name, rows_taken FROM directorysync ORDER BY list_name") == [
        ("helpers", 1),
        ("households", 1),
    ]


def test_duty_job_reads_coverage_and_the_report_counts_it(
    beside_registry: Service, reg: Registry, clock: FrozenClock, token: Callable[..., dict[str, str]]
) -> None:
    svc = beside_registry
    unit = reg.unit("县水务局")
    diligent, late = reg.helper("王勤", "13812340001", unit), reg.helper("李迟", "13812340002")
    homes = [reg.household(phone=f"1391234000{n}") for n in range(3)]
    elsewhere = reg.household(phone="13912340009", region=OTHER_VILLAGE)
    reg.pair(diligent, homes[0]["id"])
    reg.pair(late, homes[1]["id"])
    reg.pair(late, elsewhere["id"])
    # homes[2] has no helper at all.
    reg.contacted(diligent, homes[0]["id"], "2025-06-10")
    run_job(svc, "directory-sync", clock.now().date())
    svc.contact("township_officer", "t1", phone="13900000001", name="李主任", region=TOWNSHIP)

    run_job(svc, "duty-reminders", date(2025, 6, 20))  # the monthly reminder day
    reminders = svc.rows("SELECT recipient, phone FROM message WHERE kind = 'duty_reminder'")
    assert reminders == [(f"helper:{late}", "13812340002")]
    assert "还有2户未完成" in svc.scalar("SELECT body FROM message WHERE kind = 'duty_reminder'")

    # June and the second quarter are over: the township hears who missed the monthly contact and the
    # quarterly visit (nobody visited), and of the household without a helper.
    run_job(svc, "duty-reminders", date(2025, 7, 1))
    officer = svc.rows("SELECT cause, body FROM message WHERE recipient = 'township_officer:t1' ORDER BY cause")
    assert [cause for cause, _ in officer] == [
        "missed:monthly_contact:2025-06",
        "missed:quarterly_visit:2025-Q2",
        "unpaired:2025-06",
        "unpaired:2025-Q2",
    ]
    assert "有1名帮扶责任人未完成" in officer[0][1] and "有2名帮扶责任人未完成" in officer[1][1]
    assert "有1户尚无帮扶责任人" in officer[2][1]

    reader = token("township_reviewer", region=TOWNSHIP)

    def report(**params: str) -> list[tuple[Any, ...]]:
        page = ok(HTTP.get(f"{svc.url}/api/v1/reports/duties", params=params | {"month": "2025-06"}, headers=reader))
        return [(r["group"], r["due"], r["done"], r["missed"], r["open"]) for r in page["items"]]

    # Per household and duty: June's contact (done by 王勤 for homes[0], missed by 李迟 for two) and the second
    # quarter's visit (missed for all three paired households); both periods end in June.
    assert report(by="helper") == sorted([(diligent, 2, 1, 1, 0), (late, 4, 0, 4, 0)])
    assert report(by="unit") == sorted([("", 4, 0, 4, 0), (unit, 2, 1, 1, 0)])
    assert report(by="village") == [(VILLAGE, 4, 1, 3, 0), (OTHER_VILLAGE, 2, 0, 2, 0)]
    assert report(by="village", region=OTHER_VILLAGE) == [(OTHER_VILLAGE, 2, 0, 2, 0)]

    # The same job's messages per helper and unit: 李迟's number opts out, so his queued reminder is suppressed.
    county = token("county_office", region="522323")
    ok(HTTP.post(f"{svc.url}/api/v1/opt-outs", json={"phone": "13812340002"}, headers=county), 201)

    def groups(by: str) -> list[tuple[Any, ...]]:
        url = f"{svc.url}/api/v1/reports/message-groups"
        page = ok(HTTP.get(url, params={"by": by}, headers=reader))
        return [(g["group"], g["messages"], g["by_status"], g["delivery_rate"], g["opted_out"]) for g in page["items"]]

    assert groups("helper") == [(late, 1, {"suppressed": 1}, None, 1)]
    assert groups("unit") == [("", 1, {"suppressed": 1}, None, 1)]


def test_registry_people_are_the_registrys_and_ended_helpers_get_no_broadcast(
    beside_registry: Service, reg: Registry, token: Callable[..., dict[str, str]]
) -> None:
    svc = beside_registry
    staying, leaving = reg.helper("王留", "13812340001"), reg.helper("李走", "13812340002")
    ok(reg.client.post(f"/helpers/{leaving}/end", json={"end_date": "2025-06-16", "reason": "调离"}))
    run_job(svc, "directory-sync", date(2025, 6, 16))
    assert set(svc.rows("SELECT ref_id, active FROM contact")) == {(staying, True), (leaving, False)}

    county = token("county_office", region="522323")
    n = f"{svc.url}/api/v1"
    edit = HTTP.put(
        f"{n}/contacts/helper/{staying}", json={"region_code": VILLAGE, "phone": "13700000000"}, headers=county
    )
    assert edit.status_code == 409 and field_of(edit) == "phone"
    officer = {"region_code": TOWNSHIP, "name": "李主任", "phone": "13900000001"}
    ok(HTTP.put(f"{n}/contacts/township_officer/t1", json=officer, headers=county))

    template = {"code": "poverty_day", "body": "【普安扶贫】扶贫日，{place}有宣讲。回复TD退订", "parameters": ["place"]}
    ok(HTTP.post(f"{n}/templates", json=template | {"broadcast": True}, headers=county), 201)
    body = {
        "template_code": "poverty_day",
        "params": {"place": "村委会"},
        "region_code": TOWNSHIP,
        "audience": "helper",
    }
    assert ok(HTTP.post(f"{n}/broadcasts", json=body, headers=county), 201)["recipients"] == 1
