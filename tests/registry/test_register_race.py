"""A registration whose checks ran before another registration of the same hukou or resident ID committed (on
SQLite the checks read before the write lock is taken; on PostgreSQL two transactions both pass their checks): the
unique indexes refuse it as SQLAlchemy's IntegrityError (a statement run through shared.db.Prepared raised the
driver's own, which the API answered with a 500), nothing of it is written, and the API answers 409."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from services.registry.households import service
from services.registry.households.schemas import HouseholdCreate
from shared.auth import Principal, Role
from shared.db import Database
from shared.errors import unique_violation_field
from tests.support.builders import household_body
from tests.support.sql import Sql

COUNTY = Principal(subject="county-clerk", roles=frozenset({Role.county_office}), region="522323")


def registered_after_the_checks(db: Database, first: dict[str, Any], second: dict[str, Any]) -> IntegrityError:
    """``second``'s checks read a snapshot taken before ``first`` committed, then ``second`` is written."""
    with db.reader() as reads:
        if not db.one_writer:  # PostgreSQL: a snapshot held across statements, as a SQLite read transaction is
            reads.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        reads.execute(text("SELECT count(*) FROM household")).scalar()  # the read snapshot starts here
        with db.transaction() as session:
            service.register_household(session, HouseholdCreate.model_validate(first), COUNTY)
        with pytest.raises(IntegrityError) as refused, db.transaction() as session:
            service.register_household(session, HouseholdCreate.model_validate(second), COUNTY, reads=reads)
    return refused.value


def test_a_hukou_registered_meanwhile_is_refused_by_the_index(api: TestClient, sql: Sql) -> None:
    db: Database = api.app.state.db  # type: ignore[attr-defined]
    first = household_body(hukou_number="5223230099001")
    second = household_body(hukou_number="5223230099001")
    refused = registered_after_the_checks(db, first, second)
    assert unique_violation_field(refused) == "hukou_number"
    assert sql("SELECT count(*) FROM household") == 1
    assert sql("SELECT count(*) FROM member") == len(first["members"])
    assert sql("SELECT count(*) FROM outbox") == 1


def test_a_resident_id_registered_meanwhile_is_refused_by_the_index(api: TestClient, sql: Sql) -> None:
    db: Database = api.app.state.db  # type: ignore[attr-defined]
    first = household_body()
    second = household_body() | {"members": first["members"]}
    refused = registered_after_the_checks(db, first, second)
    assert unique_violation_field(refused) == "id_number"
    assert sql("SELECT count(*) FROM household") == 1
    assert sql("SELECT count(*) FROM outbox") == 1


def test_the_api_says_409_naming_the_field(api: TestClient, county: dict[str, str]) -> None:
    body = household_body()
    assert api.post("/api/v1/households", json=body, headers=county).status_code == 201
    again = api.post("/api/v1/households", json=body | {"members": household_body()["members"]}, headers=county)
    assert again.status_code == 409
    assert again.json()["errors"][0]["field"] == "hukou_number"


def test_a_resident_id_past_the_first_ten_members_is_found(api: TestClient, county: dict[str, str]) -> None:
    """The active-ID check asks ten IDs a statement: a large household's twelfth member is checked too."""
    holder = household_body(members=1)
    assert api.post("/api/v1/households", json=holder, headers=county).status_code == 201
    people = [m for _ in range(4) for m in household_body()["members"]][:11]
    people = (
        [people[0]] + [m | {"relation": "child"} for m in people[1:]] + [holder["members"][0] | {"relation": "child"}]
    )
    refused = api.post("/api/v1/households", json=household_body() | {"members": people}, headers=county)
    assert refused.status_code == 409, refused.text
    assert refused.json()["errors"][0]["field"] == "members.11.id_number"
