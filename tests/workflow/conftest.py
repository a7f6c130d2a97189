"""A small template for the engine's tests: no business meaning, only the engine's features."""

from __future__ import annotations

from datetime import date

import pytest

from shared.auth import Role
from shared.workflow.engine import Actor
from shared.workflow.template import TemplateBody

RAW = {
    "code": "approval",
    "label": "a three-step approval",
    "effective_from": "2024-01-01",
    "steps": [
        {
            "key": "apply",
            "label": "apply",
            "roles": ["village_cadre"],
            "level": "village",
            "evidence": [{"key": "form", "label": "signed form", "kind": "attachment"}],
        },
        {
            "key": "review",
            "label": "review and notice",
            "roles": ["village_cadre"],
            "level": "village",
            "notice": {"level": "village", "days": 7},
            "evidence": [
                {"key": "minutes", "label": "minutes", "kind": "text"},
                {"key": "attendance", "label": "attendance", "kind": "count", "min": 5},
                {"key": "vote", "label": "vote", "kind": "tally"},
            ],
        },
        {
            "key": "approve",
            "label": "approve",
            "roles": ["township_reviewer", "county_office"],
            "level": "township",
            "can_reject": True,
            "evidence": [{"key": "survey", "label": "survey", "kind": "answers", "fields": ["income", "housing"]}],
        },
    ],
}
VILLAGE = "522323109001"


@pytest.fixture
def template() -> TemplateBody:
    return TemplateBody.model_validate(RAW)


def actor(*roles: str, region: str = VILLAGE) -> Actor:
    return Actor(subject="someone", roles=frozenset(Role(r) for r in roles), region=region)


REVIEW_EVIDENCE = {"minutes": "all agreed", "attendance": 12, "vote": {"for": 10, "against": 1, "abstain": 1}}
APPROVE_EVIDENCE = {"survey": {"income": "2100", "housing": "D"}}


def day(text: str) -> date:
    return date.fromisoformat(text)
