"""The funds service's app factory."""

from __future__ import annotations

from pathlib import Path

from services.funds.api import router
from services.funds.approval import NOTICE_JOB
from services.funds.events import SUBSCRIPTIONS
from services.funds.findings import ANOMALY_JOB
from services.funds.models import FundsTable
from shared.service import ServiceSpec, app_factory

SPEC = ServiceSpec(
    name="funds",
    title="Fupin funds (资金)",
    metadata=FundsTable.metadata,
    routers=[router],
    migrations=Path(__file__).parent / "migrations",
    subscriptions=SUBSCRIPTIONS,
    periodic=(ANOMALY_JOB, NOTICE_JOB),
)
create_app = app_factory(SPEC)
