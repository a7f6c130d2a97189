"""The catalogue: every event has a schema, data is checked on emit, the AsyncAPI document is complete."""

from __future__ import annotations

import jsonschema
import pytest

from shared.events.catalogue import CATALOGUE, UnknownEventType, asyncapi, json_schema, validate_data
from shared.events.consumer import Subscription, backoff_delay
from shared.settings import StackSettings


@pytest.mark.parametrize("event_type", sorted(CATALOGUE))
def test_every_event_type_has_a_valid_json_schema(event_type) -> None:
    jsonschema.Draft202012Validator.check_schema(json_schema(event_type))


def test_data_is_checked_against_the_catalogue() -> None:
    with pytest.raises(ValueError, match="household_id"):
        validate_data("household.approved", {"region_code": "522323", "year": 2026, "case_id": "c"})
    with pytest.raises(UnknownEventType):
        validate_data("household.vanished", {})
    assert (
        validate_data(
            "loan.overdue", {"loan_id": "l", "days_past_due": 31, "bucket": "31-90", "amount_overdue": "1200.00"}
        )["days_past_due"]
        == 31
    )


def test_asyncapi_lists_every_subject() -> None:
    doc = asyncapi()
    assert {c["address"] for c in doc["channels"].values()} == {f"fupin.{t}" for t in CATALOGUE}


def test_a_consumer_hears_its_types_and_its_own_replays_only() -> None:
    sub = Subscription(name="funds-households", handlers={"household.approved": lambda s, e: None})
    assert sub.filter_subjects() == ["fupin.household.approved", "fupin.replay.funds-households.>"]


def test_backoff_doubles_and_is_capped() -> None:
    settings = StackSettings(consumer_backoff_seconds=2, consumer_backoff_max_seconds=30)
    assert [backoff_delay(n, settings) for n in range(1, 7)] == [2, 4, 8, 16, 30, 30]
