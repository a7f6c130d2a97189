from services.identification.models import IdentificationTable
from shared.alembic_env import run_migrations

run_migrations(IdentificationTable.metadata)
