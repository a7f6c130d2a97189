"""The routes: auth, roles, 422 naming the field, region scope, masking, templates, broadcasts, reports."""

from __future__ import annotations

import httpx
import pytest

from tests.notifications.conftest import VILLAGE, Service

pytestmark = pytest.mark.integration
TEMPLATE = {
    "code": "spring_visit",
    "body": "【普安扶贫】{helper}您好，春节前请走访{household}。",
    "parameters": ["helper", "household"],
}


def api(svc: Service) -> httpx.Client:
    return httpx.Client(base_url=f"{svc.url}/api/v1", timeout=10)


class TestAccess:
    def test_no_token_is_401_and_wrong_role_403(self, svc: Service, token) -> None:  # type: ignore[no-untyped-def]
        with api(svc) as c:
            assert c.get("/messages").status_code == 401
            response = c.post("/templates", json=TEMPLATE, headers=token("helper"))
            assert response.status_code == 403
            assert response.headers["content-type"].startswith("application/problem+json")

    def test_contact_outside_scope_is_403_naming_the_field(self, svc: Service, token) -> None:  # type: ignore[no-untyped-def]
        with api(svc) as c:
            response = c.put(
                "/contacts/helper/h1",
                json={"region_code": VILLAGE, "phone": "13800000001"},
                headers=token("township_reviewer", region="522323101"),
            )
        assert response.status_code == 403
        assert response.json()["errors"][0]["field"] == "region_code"

    def test_lists_narrow_to_the_region_and_mask_phones(self, svc: Service, token) -> None:  # type: ignore[no-untyped-def]
        with api(svc) as c:
            put = c.put(
                "/contacts/helper/h1",
                json={"region_code": VILLAGE, "name": "王五", "phone": "＋86 138 0000 0001"},
                headers=token("county_office"),
            )
            assert put.status_code == 200 and put.json()["phone"] == "138****0001"
            mine = c.get("/contacts", headers=token("township_reviewer", region="522323109")).json()
            other = c.get("/contacts", headers=token("township_reviewer", region="522323101")).json()
            wider = c.get(
                "/contacts", params={"region": "52"}, headers=token("township_reviewer", region="522323101")
            ).json()
        assert [i["ref_id"] for i in mine["items"]] == ["h1"]
        assert other["items"] == [] and wider["items"] == []

    def test_bad_phone_is_422_naming_the_field(self, svc: Service, token) -> None:  # type: ignore[no-untyped-def]
        with api(svc) as c:
            response = c.put(
                "/contacts/helper/h1",
                json={"region_code": VILLAGE, "phone": "0851-1234567"},
                headers=token("county_office"),
            )
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "phone"

    def test_message_of_another_region_is_404(self, svc: Service, token) -> None:  # type: ignore[no-untyped-def]
        from tests.notifications.test_sending import burst

        burst(svc, 1)
        message_id = svc.scalar("SELECT id FROM message")
        with api(svc) as c:
            assert (
                c.get(f"/messages/{message_id}", headers=token("auditor", region="522323109")).json()["phone"]
                == "138****0001"
            )
            assert c.get(f"/messages/{message_id}", headers=token("auditor", region="522324")).status_code == 404


class TestTemplates:
    def test_created_with_its_segment_count(self, svc: Service, token) -> None:  # type: ignore[no-untyped-def]
        with api(svc) as c:
            created = c.post("/templates", json=TEMPLATE, headers=token("county_office"))
            assert created.status_code == 201
            assert created.json()["segments"]["encoding"] == "ucs2"
            preview = c.post(
                "/templates/spring_visit/preview",
                json={"params": {"helper": "王五", "household": "张三户"}},
                headers=token("county_office"),
            )
        assert preview.json()["text"] == "【普安扶贫】王五您好，春节前请走访张三户。"
        assert preview.json()["length"]["segments"] == 1

    @pytest.mark.parametrize(
        ("change", "field", "code"),
        [
            ({"body": "{helper}您好，春节前请走访{household}。"}, "body", "no_signature"),
            ({"parameters": ["helper"]}, "body", "unknown_parameter"),
            ({"parameters": ["helper", "household", "day"]}, "parameters", "unused_parameter"),
        ],
        ids=["no 【signature】", "undeclared {household}", "unused day"],
    )
    def test_refused_at_creation(self, svc: Service, token, change, field, code) -> None:  # type: ignore[no-untyped-def]
        with api(svc) as c:
            response = c.post("/templates", json=TEMPLATE | change, headers=token("county_office"))
        assert response.status_code == 422
        assert {"field": field, "code": code} in [
            {"field": e["field"], "code": e.get("code")} for e in response.json()["errors"]
        ]

    def test_preview_with_a_missing_value_names_it(self, svc: Service, token) -> None:  # type: ignore[no-untyped-def]
        with api(svc) as c:
            response = c.post(
                "/templates/household_recognised/preview",
                json={"params": {"helper": "王五"}},
                headers=token("county_office"),
            )
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "params.household"


class TestBroadcast:
    def test_preview_then_confirm_queues_once(self, svc: Service, token) -> None:  # type: ignore[no-untyped-def]
        county = token("county_office")
        body = {
            "code": "poverty_day",
            "body": "【普安扶贫】10月17日扶贫日，{place}有政策宣讲。回复TD退订",
            "parameters": ["place"],
            "broadcast": True,
        }
        with api(svc) as c:
            assert c.post("/templates", json=body, headers=county).status_code == 201
            for n, phone in enumerate(["13800000001", "13800000002", None]):
                c.put(f"/contacts/helper/h{n}", json={"region_code": VILLAGE, "phone": phone}, headers=county)
            preview = c.post(
                "/broadcasts",
                json={
                    "template_code": "poverty_day",
                    "params": {"place": "村委会"},
                    "region_code": "522323109",
                    "audience": "helper",
                },
                headers=county,
            )
            assert preview.status_code == 201
            assert preview.json()["recipients"] == 2 and preview.json()["status"] == "previewed"
            assert svc.scalar("SELECT count(*) FROM message") == 0
            broadcast_id = preview.json()["id"]
            assert c.post(f"/broadcasts/{broadcast_id}/confirm", headers=county).json()["status"] == "confirmed"
            c.post(f"/broadcasts/{broadcast_id}/confirm", headers=county)
            assert svc.scalar("SELECT count(*) FROM message") == 2
            report = c.get("/reports/messages", headers=county).json()
        assert report["rows"] == [{"region_code": VILLAGE, "kind": "broadcast", "status": "queued", "messages": 2}]

    def test_a_template_without_opt_out_cannot_be_broadcast(self, svc: Service, token) -> None:  # type: ignore[no-untyped-def]
        county = token("county_office")
        with api(svc) as c:
            c.post("/templates", json=TEMPLATE, headers=county)
            response = c.post(
                "/broadcasts",
                json={"template_code": "spring_visit", "params": {}, "region_code": "522323", "audience": "helper"},
                headers=county,
            )
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "template_code"
