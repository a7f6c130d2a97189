"""The identification service's app factory."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from services.identification.api import router
from services.identification.cases import api as cases_api
from services.identification.cases import attachments, sampling
from services.identification.comparison import api as comparison_api
from services.identification.events import SUBSCRIPTIONS
from services.identification.models import IdentificationTable
from services.identification.notices import api as notices_api
from services.identification.notices.service import end_due_notices
from services.identification.reports import api as reports_api
from services.identification.rules import api as rules_api
from shared.jobs import PeriodicJob
from shared.service import ServiceSpec, app_factory

SPEC = ServiceSpec(
    name="identification",
    title="Fupin identification (识别与退出)",
    metadata=IdentificationTable.metadata,
    routers=[
        router,
        cases_api.router,
        attachments.router,
        sampling.router,
        notices_api.router,
        rules_api.router,
        reports_api.router,
        comparison_api.router,
    ],
    migrations=Path(__file__).parent / "migrations",
    subscriptions=SUBSCRIPTIONS,
    periodic=(
        PeriodicJob(
            name="notice-periods",
            run=end_due_notices,
            every=timedelta(minutes=1),
            description="end the public notices whose period has passed (公示期满)",
        ),
    ),
)
create_app = app_factory(SPEC)
