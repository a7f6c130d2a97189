from services.notifications.models import NotificationsTable
from shared.alembic_env import run_migrations

run_migrations(NotificationsTable.metadata)
