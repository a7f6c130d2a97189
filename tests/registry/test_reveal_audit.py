"""Every disclosure is audited, whichever route hands it out: a create or an update with ``reveal=true`` writes
its audit row as a read does; a masked answer writes none."""

from __future__ import annotations

from shared.disclosure import Disclosure
from tests.support.builders import household_body

URL = "/api/v1/households"
READS = "SELECT count(*) FROM audit_log WHERE action = 'personal_data.read'"


def test_a_revealed_create_is_audited_and_a_masked_one_is_not(api, county, sql) -> None:  # type: ignore[no-untyped-def]
    assert api.post(URL, json=household_body(), headers=county).status_code == 201
    assert sql(READS) == 0
    created = api.post(URL + "?reveal=true", json=household_body(), headers=county)
    assert created.status_code == 201 and "*" not in created.json()["members"][0]["id_number"]
    assert sql(READS) == 1
    assert sql("SELECT resource FROM audit_log WHERE action = 'personal_data.read'") == URL


def test_a_revealed_update_is_audited(api, county, sql) -> None:  # type: ignore[no-untyped-def]
    household = api.post(URL, json=household_body(), headers=county).json()
    edit = {"reason": "门牌号更正", "address": "青山镇下街社区2组"}
    updated = api.patch(f"{URL}/{household['id']}?reveal=true", json=edit, headers=county)
    assert updated.status_code == 200, updated.text
    assert sql(READS) == 1


def test_a_refused_write_audits_nothing(api, county, sql) -> None:  # type: ignore[no-untyped-def]
    body = household_body()
    number = body["members"][0]["id_number"]
    body["members"][0]["id_number"] = number[:17] + ("0" if number[17] != "0" else "1")
    assert api.post(URL + "?reveal=true", json=body, headers=county).status_code in (409, 422)
    assert sql(READS) == 0


def test_a_revealed_read_is_audited_once(api, county, sql) -> None:  # type: ignore[no-untyped-def]
    household = api.post(URL, json=household_body(), headers=county).json()
    assert api.get(f"{URL}/{household['id']}?reveal=true", headers=county).status_code == 200
    assert sql(READS) == 1


def test_a_read_whose_audit_fails_sends_no_whole_value(api, county, sql, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The audit runs as the response is about to start (``shared.hooks``): when it fails, nothing of the answer
    has left, and the client gets a 500 problem instead of the whole IDs."""
    body = household_body()
    household = api.post(URL, json=body, headers=county).json()

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("the audit table is gone")

    monkeypatch.setattr(Disclosure, "_record", broken)
    answer = api.get(f"{URL}/{household['id']}?reveal=true", headers=county)
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/problem+json"
    assert body["members"][0]["id_number"] not in answer.text
    assert sql(READS) == 0
