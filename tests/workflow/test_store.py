"""Template versions and transitions on SQLite and PostgreSQL: versions per jurisdiction, history per instance."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

import pytest
from sqlalchemy import MetaData, create_engine
from sqlmodel import Session

from shared.clock import SHANGHAI
from shared.db import NAMING_CONVENTION
from shared.workflow import engine, store, template
from shared.workflow.engine import Progress
from shared.workflow.tables import WorkflowTables, workflow_tables
from shared.workflow.template import TemplateBody
from tests.workflow.conftest import RAW, VILLAGE, actor

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture
def db(database_url) -> Iterator[tuple[Session, WorkflowTables]]:
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    tables = workflow_tables(metadata)
    eng = create_engine(database_url("workflow"))
    metadata.create_all(eng)
    with Session(eng) as session:
        yield session, tables
    eng.dispose()


class TestTemplates:
    def test_versions_count_up_per_code_and_jurisdiction(self, db):
        session, tables = db
        body = TemplateBody.model_validate(RAW)
        first = store.publish(session, tables, body, actor="county", now=NOW)
        second = store.publish(session, tables, body.model_copy(update={"label": "v2"}), actor="county", now=NOW)
        local = store.publish(session, tables, body.model_copy(update={"jurisdiction": "341100"}), actor="x", now=NOW)
        assert (first.version, second.version, local.version) == (1, 2, 1)
        assert store.get(session, tables, first.id).label == body.label

    def test_ensure_publishes_a_body_once(self, db):
        session, tables = db
        body = TemplateBody.model_validate(RAW)
        assert store.ensure(session, tables, body, actor="builtin", now=NOW)
        assert not store.ensure(session, tables, body, actor="builtin", now=NOW)
        assert len(store.of_code(session, tables, "approval")) == 1

    def test_select_takes_the_narrowest_jurisdiction_then_the_latest_in_force(self, db):
        session, tables = db
        body = TemplateBody.model_validate(RAW)
        national = store.publish(session, tables, body, actor="c", now=NOW)
        future = store.publish(
            session, tables, body.model_copy(update={"effective_from": date(2030, 1, 1)}), actor="c", now=NOW
        )
        county = store.publish(session, tables, body.model_copy(update={"jurisdiction": "522323"}), actor="c", now=NOW)
        versions = store.of_code(session, tables, "approval")
        assert template.select(versions, code="approval", region_code=VILLAGE, on=date(2025, 1, 1)).id == county.id
        assert (
            template.select(versions, code="approval", region_code="341100000000", on=date(2025, 1, 1)).id
            == national.id
        )
        assert (
            template.select(versions, code="approval", region_code="341100000000", on=date(2031, 1, 1)).id == future.id
        )
        assert template.select(versions, code="approval", region_code=VILLAGE, on=date(2023, 1, 1)) is None


class TestTransitions:
    def test_each_move_is_kept_with_actor_role_time_evidence_and_comment(self, db):
        session, tables = db
        body = TemplateBody.model_validate(RAW)
        move = engine.take(
            body,
            Progress(),
            step="apply",
            actor=actor("village_cadre"),
            region_code=VILLAGE,
            evidence={"form": ["f1"]},
            comment="申请书已签字",
        )
        store.record(session, tables, instance_id="case-1", move=move, actor="cadre-1", now=NOW)
        [kept] = store.history(session, tables, "case-1")
        assert (kept.step, kept.role, kept.actor, kept.at, kept.evidence, kept.comment) == (
            "apply",
            "village_cadre",
            "cadre-1",
            NOW,
            {"form": ["f1"]},
            "申请书已签字",
        )
        assert (kept.from_index, kept.to_index, kept.status_after) == (0, 1, "open")
