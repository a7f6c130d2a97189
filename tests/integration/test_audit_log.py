"""The audit log is append-only and hash-chained: any edit is found by verification."""

from __future__ import annotations

from sqlalchemy import text

from services.funds.main import SPEC
from shared import audit
from shared.db import Database, upgrade


def test_chain_verifies_and_detects_tampering(database_url) -> None:
    url = database_url("funds")
    upgrade(SPEC.migrations, url, service="funds")
    db = Database(url, service="funds")
    try:
        for n in range(5):
            with db.transaction() as session:
                audit.record(
                    session,
                    actor="county:wang",
                    action="disbursement.approved",
                    resource=f"payment/{n}",
                    detail={"amount": f"{n}000.00"},
                )
        with db.reader() as session:
            assert audit.verify(session) == audit.ChainCheck(entries=5, valid=True)
        with db.transaction() as session:
            session.execute(text('UPDATE audit_log SET detail = \'{"amount": "9000.00"}\' WHERE seq = 3'))
        with db.reader() as session:
            check = audit.verify(session)
        assert (check.valid, check.first_bad_seq) == (False, 3)
    finally:
        db.dispose()
