"""The migration to notices ending by the clock dates the notices already running when it is applied."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from alembic import command
from sqlalchemy import text

from services.funds.main import SPEC
from shared.clock import SHANGHAI
from shared.db import alembic_config, make_engine, upgrade

pytestmark = pytest.mark.integration
BEFORE = "55094b494393"
POSTED = datetime(2025, 6, 20, 10, 0, tzinfo=SHANGHAI)  # a Friday


def test_a_notice_running_before_the_migration_ends_from_when_it_was_posted(empty_database_url) -> None:
    url = empty_database_url("funds")
    engine = make_engine(url, immediate=False)
    try:
        with engine.begin() as conn:
            cfg = alembic_config(SPEC.migrations, url)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, BEFORE)
        body = {"steps": [{"key": "village_review", "notice": {"level": "village", "days": 5}}]}
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO workflow_template (id, code, jurisdiction, version, effective_from, label, body,"
                    " published_at, published_by) VALUES ('t1', 'project_approval', '', 1, '2014-01-01', 'x', :body,"
                    " :at, 'builtin')"
                ),
                {"body": json.dumps(body), "at": POSTED},
            )
            for project, status in (("held", "held"), ("open", "open")):
                conn.execute(
                    text(
                        "INSERT INTO project (id, name, kind, region_code, year, status, beneficiary_kind,"
                        " direct_to_households, to_poor_only, planned_outputs, created_by, created_at, template_id,"
                        " step_index, workflow_status, held_step) VALUES (:id, 'p', 'industry', '522323109001', 2025,"
                        " 'bank', 'households', true, true, '[]', 'x', :at, 't1', 2, :status, :step)"
                    ),
                    {
                        "id": project,
                        "at": POSTED,
                        "status": status,
                        "step": "village_review" if status == "held" else None,
                    },
                )
            conn.execute(
                text(
                    "INSERT INTO workflow_transition (id, instance_id, action, step, actor, at, evidence, from_index,"
                    " to_index, status_after) VALUES ('w1', 'held', 'take', 'village_review', 'x', :at, '{}', 1, 2,"
                    " 'held')"
                ),
                {"at": POSTED},
            )
    finally:
        engine.dispose()
    upgrade(SPEC.migrations, url, service="funds")
    engine = make_engine(url, immediate=False)
    try:
        with engine.connect() as conn:
            rows = dict(conn.execute(text("SELECT id, notice_ends_at FROM project")).all())
    finally:
        engine.dispose()
    assert rows["open"] is None
    ends = rows["held"]
    ends = datetime.fromisoformat(ends) if isinstance(ends, str) else ends
    assert ends.astimezone(SHANGHAI) == datetime(2025, 6, 27, 10, 0, tzinfo=SHANGHAI)  # 5 working days
