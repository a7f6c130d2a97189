"""The ledger over HTTP: sources, budgets, arrivals, transactions, reversals, scope, audit chain."""

from __future__ import annotations

import pytest

from tests.funds.flows import API, approve, make_budget, make_project, ok

pytestmark = pytest.mark.integration


class TestLedger:
    def test_arrival_allocation_and_derived_balances(self, api, county):
        source, budget = make_budget(api, county, arrived="60000.00", planned="100000.00")
        budget = ok(api.get(f"{API}/budgets/{budget['id']}", headers=county), 200)
        assert (budget["arrived"], budget["shortfall"], budget["late"]) == ("60000.00", "40000.00", True)
        funded = make_project(api, county, budget=budget, source=source, planned="50000.00", allocate="45000.00")
        assert funded.line["balance"] == "45000.00"
        budget = ok(api.get(f"{API}/budgets/{budget['id']}", headers=county), 200)
        assert budget["available"] == "15000.00"
        src = ok(api.get(f"{API}/sources/{source['id']}", headers=county), 200)
        assert src["delivered"] == "60000.00"
        accounts = ok(api.get(f"{API}/accounts", headers=county, params={"limit": 500}), 200)["items"]
        assert sum(float(a["balance"]) for a in accounts) == 0

    def test_over_allocation_is_refused_and_nothing_written(self, api, county, sql):
        _, budget = make_budget(api, county, arrived="1000.00")
        project = ok(
            api.post(
                f"{API}/projects",
                json={
                    "name": "道路",
                    "kind": "infrastructure",
                    "region_code": "522323109001",
                    "year": 2025,
                    "lines": [{"budget_id": budget["id"], "planned_amount": "5000.00"}],
                },
                headers=county,
            )
        )
        approve(api, project)
        before = sql("SELECT count(*) FROM entry")
        response = api.post(
            f"{API}/projects/{project['id']}/allocations",
            json={"line_id": project["lines"][0]["id"], "amount": "1000.01"},
            headers=county,
        )
        assert response.status_code == 409, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["errors"][0]["code"] == "insufficient_balance"
        assert sql("SELECT count(*) FROM entry") == before

    def test_unbalanced_manual_transaction_names_the_field(self, api, county):
        _, budget = make_budget(api, county)
        _, other = make_budget(api, county, arrived="0")
        response = api.post(
            f"{API}/transactions",
            headers=county,
            json={
                "kind": "transfer",
                "memo": "调剂",
                "postings": [
                    {"account_id": budget["account_id"], "amount": "-10.00"},
                    {"account_id": other["account_id"], "amount": "9.00"},
                ],
            },
        )
        assert response.status_code == 422
        assert response.json()["errors"][0] == {
            "field": "postings",
            "message": "entries sum to -1.00, not 0",
            "code": "unbalanced",
        }

    def test_correction_is_a_reversal_naming_the_original(self, api, county, sql):
        _, budget = make_budget(api, county)
        _, other = make_budget(api, county, arrived="0")
        tx = ok(
            api.post(
                f"{API}/transactions",
                headers=county,
                json={
                    "kind": "transfer",
                    "memo": "调剂",
                    "postings": [
                        {"account_id": budget["account_id"], "amount": "-300.00"},
                        {"account_id": other["account_id"], "amount": "300.00"},
                    ],
                },
            )
        )
        rev = ok(api.post(f"{API}/transactions/{tx['id']}/reverse", json={"reason": "科目错误"}, headers=county))
        assert rev["reverses_id"] == tx["id"]
        assert [e["amount"] for e in rev["entries"]] == ["300.00", "-300.00"]
        assert ok(api.get(f"{API}/transactions/{tx['id']}", headers=county), 200)["reversed_by_id"] == rev["id"]
        again = api.post(f"{API}/transactions/{tx['id']}/reverse", json={"reason": "again"}, headers=county)
        assert again.status_code == 409 and again.json()["errors"][0]["code"] == "already_reversed"
        assert ok(api.get(f"{API}/accounts/{other['account_id']}", headers=county), 200)["balance"] == "0.00"
        assert ok(api.get(f"{API}/accounts/{budget['account_id']}", headers=county), 200)["balance"] == "100000.00"
        entries = ok(api.get(f"{API}/accounts/{other['account_id']}/entries", headers=county), 200)["items"]
        assert [e["kind"] for e in entries] == ["transfer", "reversal"]
        # There is no route to edit or delete a transaction or an entry.
        assert api.patch(f"{API}/transactions/{tx['id']}", json={}, headers=county).status_code == 405
        assert api.delete(f"{API}/transactions/{tx['id']}", headers=county).status_code == 405

    def test_every_transaction_is_in_the_audit_chain_and_tampering_shows(self, api, county, auditor, sql):
        make_budget(api, county)
        check = ok(api.get(f"{API}/audit/verify", headers=auditor), 200)
        assert check["valid"] and check["entries"] >= 1
        assert sql("SELECT count(*) FROM audit_log WHERE action = 'ledger.arrival'") == 1
        sql("UPDATE audit_log SET detail = replace(detail, '100000.00', '10000.00') WHERE action = 'ledger.arrival'")
        check = ok(api.get(f"{API}/audit/verify", headers=auditor), 200)
        assert not check["valid"] and check["first_bad_seq"] is not None


class TestAccess:
    def test_401_403_and_scope(self, api, county, token):
        _, budget = make_budget(api, county)
        assert api.get(f"{API}/budgets").status_code == 401
        helper = token("helper", region="522323")
        assert api.get(f"{API}/budgets", headers=helper).status_code == 403
        cadre = token("village_cadre", region="522323109001")
        response = api.post(
            f"{API}/sources",
            headers=cadre,
            json={"name": "x", "kind": "other", "level": "county", "region_code": "522323"},
        )
        assert response.status_code == 403
        other_county = token("county_office", region="522324")
        assert api.get(f"{API}/budgets/{budget['id']}", headers=other_county).status_code == 404
        assert api.get(f"{API}/accounts/{budget['account_id']}", headers=other_county).status_code == 404
        assert api.get(f"{API}/budgets", headers=other_county).json()["items"] == []
        response = api.post(
            f"{API}/sources",
            headers=other_county,
            json={"name": "x", "kind": "other", "level": "county", "region_code": "522323"},
        )
        assert response.status_code == 403 and response.json()["errors"][0]["field"] == "region_code"

    def test_another_county_cannot_post_on_our_accounts(self, api, county, token):
        _, budget = make_budget(api, county)
        _, other = make_budget(api, county, arrived="0")
        theirs = token("county_office", region="522324")
        response = api.post(
            f"{API}/transactions",
            headers=theirs,
            json={
                "kind": "transfer",
                "memo": "x",
                "postings": [
                    {"account_id": budget["account_id"], "amount": "-1.00"},
                    {"account_id": other["account_id"], "amount": "1.00"},
                ],
            },
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["code"] == "unknown_account"

    def test_bad_input_is_422_naming_the_field(self, api, county):
        response = api.post(
            f"{API}/budgets",
            headers=county,
            json={"source_id": "x", "year": 2025, "name": "n", "region_code": "522323", "planned_amount": "-5"},
        )
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == "planned_amount"
        response = api.get(f"{API}/accounts", headers=county, params={"cursor": "garbage!"})
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == "cursor"
