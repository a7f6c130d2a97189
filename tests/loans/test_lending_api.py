"""Products, pools, eligibility from identification's events, ratings, approval within line and leverage."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.loans.builders import OTHER_COUNTY, VILLAGE, Loans

pytestmark = pytest.mark.integration


class TestEligibilityFromEvents:
    def test_only_households_recognised_as_poor_and_not_exited_may_apply(self, loans: Loans, api, officer) -> None:
        pool = loans.pool()
        product = loans.product(pool["id"])
        poor = loans.household()
        exited = loans.household()
        loans.household(exited, event="household.exited")
        unknown = "0199a1b2-0000-7000-8000-000000000000"

        assert loans.apply(product["id"], poor)["status"] == "applied"
        for household_id in (exited, unknown):
            body = {
                "product_id": product["id"],
                "borrower_kind": "household",
                "household_id": household_id,
                "borrower_name": "某某",
                "purpose": "生猪养殖",
                "voluntary": True,
                "acknowledged_repayable": True,
                "amount": "20000",
                "number_of_repayments": 12,
            }
            response = api.post("/api/v1/loans", json=body, headers=officer)
            assert response.status_code == 422, response.text
            assert response.headers["content-type"].startswith("application/problem+json")
            assert {"field": "household_id", "code": "not_eligible"}.items() <= response.json()["errors"][0].items()

    def test_a_returned_household_is_eligible_again(self, loans: Loans) -> None:
        product = loans.product(loans.pool()["id"])
        household = loans.household()
        loans.household(household, event="household.exited")
        loans.household(household, event="household.returned")
        assert loans.apply(product["id"], household)["status"] == "applied"

    def test_the_borrower_must_acknowledge_a_loan_not_a_grant(self, loans: Loans, api, officer) -> None:
        product = loans.product(loans.pool()["id"])
        household = loans.household()
        body = {
            "product_id": product["id"],
            "borrower_kind": "household",
            "household_id": household,
            "borrower_name": "某某",
            "purpose": "生猪养殖",
            "voluntary": False,
            "acknowledged_repayable": False,
            "amount": "60000",
            "number_of_repayments": 48,
        }
        response = api.post("/api/v1/loans", json=body, headers=officer)
        assert response.status_code == 422
        fields = {e["field"] for e in response.json()["errors"]}
        assert fields == {"voluntary", "acknowledged_repayable", "amount", "number_of_repayments"}


class TestApproval:
    def test_leverage_refusal_names_the_room_left(self, loans: Loans, api, officer) -> None:
        pool = loans.pool(balance="10000", multiple="5")  # backs at most 50,000
        product = loans.product(pool["id"])
        loans.lend(product["id"], amount="30000")
        household = loans.household()
        loans.rating(household)
        second = loans.apply(product["id"], household, amount="25000")
        response = api.post(f"/api/v1/loans/{second['id']}/approval", json={}, headers=officer)
        assert response.status_code == 422, response.text
        error = response.json()["errors"][0]
        assert (error["field"], error["code"]) == ("amount", "over_leverage")
        assert "20000.00 more" in error["message"]
        assert api.get(f"/api/v1/pools/{pool['id']}", headers=officer).json()["leverage_room"] == "20000.00"
        approved = api.post(f"/api/v1/loans/{second['id']}/approval", json={"amount": "20000"}, headers=officer)
        assert approved.status_code == 200 and approved.json()["amount"] == "20000.00"

    def test_approval_stays_within_the_credit_line(self, loans: Loans, api, officer) -> None:
        product = loans.product(loans.pool()["id"])
        household = loans.household()
        loans.rating(household, line="20000")
        loan = loans.apply(product["id"], household, amount="30000")
        response = api.post(f"/api/v1/loans/{loan['id']}/approval", json={}, headers=officer)
        assert response.status_code == 422
        assert response.json()["errors"][0]["code"] == "over_credit_line"

    def test_a_product_version_is_kept_by_its_loans(self, loans: Loans, api, officer) -> None:
        pool = loans.pool()
        v1 = loans.product(pool["id"])
        loan = loans.lend(v1["id"])
        v2 = loans.product(pool["id"], annual_rate="3.85")
        assert (v1["version"], v2["version"], v2["code"]) == (1, 2, v1["code"])
        assert loans.loan(loan["id"])["product_id"] == v1["id"]
        assert loan["terms"]["schedule"]["interest_rate_per_period"] == "4.3500"

    def test_disbursement_makes_the_schedule_and_publishes(self, loans: Loans) -> None:
        loan = loans.lend(loans.product(loans.pool()["id"])["id"], amount="30000", disbursed_on="2025-01-31")
        schedule = loans.schedule(loan["id"])
        assert [i["due_date"] for i in schedule[:3]] == ["2025-02-28", "2025-03-31", "2025-04-30"]
        assert str(sum(Decimal(i["principal_due"]) for i in schedule)) == "30000.00"
        assert schedule[0]["borrower_interest_due"] == "0.00"  # full subsidy, direct: the household pays no interest
        assert [e["loan_id"] for e in loans.outbox("loan.disbursed")] == [loan["id"]]


class TestAccessAndMasking:
    def test_roles_scope_and_masking(self, loans: Loans, api, token, cadre, outsider) -> None:
        loan = loans.lend(loans.product(loans.pool()["id"])["id"])
        path = f"/api/v1/loans/{loan['id']}"
        assert api.get(path).status_code == 401
        assert api.post(f"{path}/repayments", json={"amount": "1"}, headers=cadre).status_code == 403
        assert api.get(path, headers=outsider).status_code == 404
        assert api.get("/api/v1/loans", headers=outsider).json()["items"] == []
        seen = api.get(path, headers=cadre).json()
        assert (seen["id_number"], seen["phone"], seen["account_no"]) == (
            "5223**********0027",
            "138****1234",
            "***************8901",
        )
        assert loans.loan(loan["id"])["id_number"] == "522323197201150027"
        other_village = token("village_cadre", region="522323101001")
        assert api.get(path, headers=other_village).status_code == 404
        assert api.get("/api/v1/loans", params={"region": VILLAGE}, headers=other_village).json()["items"] == []
        body = {"name": "x", "region_code": OTHER_COUNTY, "bank": "b", "initial_balance": "1"}
        forbidden = api.post("/api/v1/pools", json=body, headers=loans.county)
        assert forbidden.status_code == 403 and forbidden.json()["errors"][0]["field"] == "region_code"
