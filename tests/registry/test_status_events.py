"""Identification's decisions reach the registry over a real nats-server: status follows, versioned, once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Any

import pytest

from shared.clock import SHANGHAI
from shared.events.bus import connect, ensure_streams
from shared.events.envelope import Envelope
from shared.settings import StackSettings
from tests.support.builders import household_body
from tests.support.procs import wait_until

pytestmark = pytest.mark.integration
H = "/api/v1/households"
CONSUMER = "registry-household-status"


def at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T09:00").replace(tzinfo=SHANGHAI)


def decision(event_type: str, household: dict[str, Any], when: datetime, **data: Any) -> Envelope:
    """An event as identification publishes it (catalogue fields: household_id, region_code, year, case_id)."""
    return Envelope(
        type=event_type,
        source="identification",
        subject=household["id"],
        time=when,
        data={"household_id": household["id"], "region_code": household["region_code"], "year": 2025}
        | {"case_id": str(uuid.uuid4())}
        | data,
    )


def publish(stack: StackSettings, *events: Envelope, msg_ids: list[str] | None = None) -> None:
    async def send() -> None:
        nc = await connect(stack, name="identification-test")
        js = nc.jetstream()
        await ensure_streams(js, stack)
        for i, event in enumerate(events):
            msg_id = msg_ids[i] if msg_ids else event.id
            await js.publish(event.nats_subject, event.model_dump_json().encode(), headers={"Nats-Msg-Id": msg_id})
        await nc.close()

    asyncio.run(send())


def register(api: Any, headers: dict[str, str], **facts: Any) -> dict[str, Any]:
    body = household_body() | {"registered_on": "2024-01-10"} | facts
    response = api.post(H, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def read(api: Any, headers: dict[str, str], household_id: str, **params: str) -> dict[str, Any]:
    return api.get(f"{H}/{household_id}", params=params, headers=headers).json()


class TestStatusFollowsIdentification:
    def test_approved_exited_returned_each_a_version_whose_actor_is_the_event(self, api, county, stack, sql):
        household = register(api, county, status="non_poor")
        approved = decision("household.approved", household, at("2025-01-20"))
        exited = decision("household.exited", household, at("2025-05-08"), year=2025)
        returned = decision("household.returned", household, at("2025-06-12"), case_id="case-return-1")
        publish(stack, approved, exited, returned)

        now = wait_until(
            lambda: (h := read(api, county, household["id"]))["status"] == "returned" and h,
            what="the household to follow identification to 返贫",
        )
        assert (now["version"], now["identified_year"], now["exit_year"]) == (4, 2025, 2025)
        assert (now["status_case_id"], now["status_decided_at"][:10]) == ("case-return-1", "2025-06-12")
        assert read(api, county, household["id"], as_of="2025-01-19")["status"] == "non_poor"
        assert read(api, county, household["id"], as_of="2025-03-01")["status"] == "poor"
        assert read(api, county, household["id"], as_of="2025-05-08")["status"] == "exited"

        versions = api.get(f"{H}/{household['id']}/versions", headers=county).json()["items"]
        assert [v["status"] for v in versions] == ["non_poor", "poor", "exited"]
        assert [v["replaced_by"] for v in versions] == [
            f"event:household.approved:{approved.id}",
            f"event:household.exited:{exited.id}",
            f"event:household.returned:{returned.id}",
        ]
        assert "case-return-1" in versions[2]["replace_reason"]
        assert sql("SELECT count(*) FROM outbox WHERE event_type = 'household.updated'") == 3

    def test_repeats_late_decisions_and_unknown_households_change_nothing(self, api, county, stack, sql):
        household = register(api, county)
        edited = register(api, county)
        sentinel = register(api, county)
        patched = api.patch(f"{H}/{edited['id']}", json={"reason": "县级复核", "status": "exited"}, headers=county)
        assert patched.status_code == 200, patched.text  # the office decides at 2025-06-16 10:00
        exited = decision("household.exited", household, at("2025-06-01"))
        older = decision("household.approved", household, at("2025-02-01"))
        stranger = decision("household.rejected", {"id": "nobody", "region_code": "522323109001"}, at("2025-06-01"))
        exit_rejected = decision("household.rejected", household, at("2025-06-02"), kind="exit")
        before_the_edit = decision("household.returned", edited, at("2025-06-15"))
        last = decision("household.exited", sentinel, at("2025-06-03"))
        events = [exited, exited, older, stranger, exit_rejected, before_the_edit, last]
        # the same event twice under two message ids: JetStream delivers both, the consumer's inbox keeps one
        publish(stack, *events, msg_ids=["m1", "m2", *(e.id for e in events[2:])])

        wait_until(lambda: read(api, county, sentinel["id"])["status"] == "exited", what="the last event applied")
        now = read(api, county, household["id"])
        assert (now["status"], now["version"], now["status_case_id"]) == ("exited", 2, exited.data["case_id"])
        assert sql("SELECT count(*) FROM householdversion WHERE household_id = :h", h=household["id"]) == 1
        assert read(api, county, edited["id"])["status"] == "exited"
        assert sql("SELECT count(*) FROM inbox WHERE consumer = :c", c=CONSUMER) == 6
