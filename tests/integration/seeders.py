"""Records of each service inside township 109 (青山镇) of 普安县, made through the service's own API and the
events it consumes, for the scope contract: a token of township 101 must see none of them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient

from shared.clock import FrozenClock
from shared.ids import new_id
from shared.settings import StackSettings
from tests.funds.flows import make_project, payment_body
from tests.loans.builders import TODAY, Loans
from tests.support import http
from tests.support.builders import household_body
from tests.support.bus import VILLAGE, decision, event, publish
from tests.support.procs import wait_until
from tests.support.sql import Sql

COUNTY = VILLAGE[:6]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
VOTE = {"for": 20, "against": 1, "abstain": 0}


@dataclass
class Seeded:
    """``params``: a path parameter's name → the id of a seeded record; ``hidden``: ids no outsider may see."""

    params: dict[str, str] = field(default_factory=dict)
    hidden: set[str] = field(default_factory=set)

    def add(self, **params: str) -> None:
        self.params |= params
        self.hidden |= set(params.values())


@dataclass
class Seeding:
    """What a seeder works with: the service's client, the stack, its database, tokens, and peers it calls."""

    client: TestClient
    stack: StackSettings
    database_url: str
    token: Callable[..., dict[str, str]]
    registry: Any = None  # an httpx.Client on a served registry, for the services that read it

    def ok(self, response: Any, status: int = 201) -> dict[str, Any]:
        return http.ok(response, status)

    def scalar(self, sql: str, **params: Any) -> Any:
        with Sql(self.database_url) as run:
            return run(sql, **params)

    def county(self) -> dict[str, str]:
        return self.token("county_office", region=COUNTY, subject="seeder")


def seed_registry(s: Seeding) -> Seeded:
    body = s.ok(s.client.post("/api/v1/households", json=household_body(), headers=s.county()))
    seeded = Seeded()
    seeded.add(household_id=body["id"], member_id=body["members"][0]["id"])
    seeded.hidden |= {m["id"] for m in body["members"]}
    return seeded


def seed_identification(s: Seeding) -> Seeded:
    county, cadre = s.county(), s.token("village_cadre", region=VILLAGE, subject="seeder-cadre")
    household = s.ok(s.registry.post("/api/v1/households", json=household_body(), headers=county))["id"]
    case = s.ok(s.client.post("/api/v1/cases", json={"kind": "recognition", "household_id": household}, headers=cadre))
    files = {"file": ("form.png", PNG, "image/png")}
    attachment = s.ok(s.client.post(f"/api/v1/cases/{case['id']}/attachments", files=files, headers=cadre))["id"]
    for step, evidence in (
        ("application", {"application_form": attachment}),
        ("group_review", {"minutes": [attachment], "attendance": 12, "vote": VOTE}),
    ):
        body = {"step": step, "evidence": evidence}
        s.ok(s.client.post(f"/api/v1/cases/{case['id']}/steps", json=body, headers=cadre), 200)
    notice = {"kind": "recognition", "step": "group_review", "region_code": VILLAGE}
    notice_id = s.ok(s.client.post("/api/v1/notices", json=notice, headers=cadre))["id"]
    seeded = Seeded()
    seeded.add(household_id=household, case_id=case["id"], attachment_id=attachment, notice_id=notice_id)
    return seeded


def seed_funds(s: Seeding) -> Seeded:
    household = new_id()
    publish(s.stack, decision("household.approved", household, when="2024-03-01"))
    wait_until(lambda: s.scalar("SELECT count(*) FROM household_status") == 1, what="the decision consumed")
    county = s.county()
    funded = make_project(s.client, county, households=(household,))
    batch = s.ok(s.client.post("/api/v1/disbursements", json={"project_id": funded.project["id"]}, headers=county))
    url = f"/api/v1/disbursements/{batch['id']}/payments"
    payment = s.ok(s.client.post(url, json=payment_body(funded.line["id"], household), headers=county))
    seeded = Seeded()
    seeded.add(household_id=household, project_id=funded.project["id"], batch_id=batch["id"], payment_id=payment["id"])
    return seeded


def seed_loans(s: Seeding) -> Seeded:
    county, officer = s.county(), s.token("bank_officer", region=COUNTY, subject="seeder-officer")
    with Sql(s.database_url) as sql:
        loans = Loans(s.client, s.stack, sql, officer, county, FrozenClock(TODAY))
        product = loans.product(loans.pool()["id"])
        loan = loans.lend(product["id"])
    seeded = Seeded()
    seeded.add(household_id=loan["household_id"], loan_id=loan["id"])
    seeded.hidden |= {"胡华平", "522323197201150027"}  # the borrower's name and ID, as the builder applies
    return seeded


def seed_notifications(s: Seeding) -> Seeded:
    household, head, helper = new_id(), new_id(), new_id()
    registered = {"household_id": household, "region_code": VILLAGE, "head_member_id": head, "head_name": "胡华平"}
    pairing = {"household_id": household, "helper_id": helper, "region_code": VILLAGE, "start_date": "2024-01-01"}
    publish(
        s.stack,
        event("household.registered", household, registered, source="registry"),
        event("helper.assigned", household, pairing | {"pairing_id": new_id()}, source="registry"),
    )
    wait_until(lambda: s.scalar("SELECT count(*) FROM helperpairing") == 1, what="the registry's events consumed")
    publish(s.stack, decision("household.approved", household, when="2025-01-20"))
    wait_until(lambda: s.scalar("SELECT count(*) FROM message") >= 1, what="a message to the helper queued")
    message = s.scalar("SELECT id FROM message")
    seeded = Seeded()
    seeded.add(household_id=household, message_id=message)
    seeded.hidden |= {head, helper}
    return seeded


SEEDERS: dict[str, Callable[[Seeding], Seeded]] = {
    "registry": seed_registry,
    "identification": seed_identification,
    "funds": seed_funds,
    "loans": seed_loans,
    "notifications": seed_notifications,
}
