from services.loans.models import LoansTable
from shared.alembic_env import run_migrations

run_migrations(LoansTable.metadata)
