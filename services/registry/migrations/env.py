from services.registry.models import RegistryTable
from shared.alembic_env import run_migrations

run_migrations(RegistryTable.metadata)
