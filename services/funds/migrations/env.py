from services.funds.models import FundsTable
from shared.alembic_env import run_migrations

run_migrations(FundsTable.metadata)
