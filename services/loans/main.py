"""The loans service's app factory."""

from __future__ import annotations

from pathlib import Path

from services.loans.api import router
from services.loans.events import SUBSCRIPTIONS
from services.loans.models import LoansTable
from services.loans.nightly import NIGHTLY
from shared.service import ServiceSpec, app_factory

SPEC = ServiceSpec(
    name="loans",
    title="Fupin loans (小额信贷)",
    metadata=LoansTable.metadata,
    routers=[router],
    migrations=Path(__file__).parent / "migrations",
    subscriptions=SUBSCRIPTIONS,
    periodic=(NIGHTLY,),
)
create_app = app_factory(SPEC)
