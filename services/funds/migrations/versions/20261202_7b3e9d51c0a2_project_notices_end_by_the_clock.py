"""project notices end by the clock: the notice's start and end on the project, objections raised during it

Revision ID: 7b3e9d51c0a2
Revises: 55094b494393
Create Date: 2026-12-02 20:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

import shared.db  # noqa: F401

revision: str = '7b3e9d51c0a2'
down_revision: str | None = '55094b494393'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notice_started_at', shared.db.AwareDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('notice_ends_at', shared.db.AwareDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_project_notice_ends_at'), ['notice_ends_at'], unique=False)
    op.create_table('project_objection',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('project_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('region_code', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('step', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('notice_ends_at', shared.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('objector', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('content', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('filed_by', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('filed_at', shared.db.AwareDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_project_objection_project_id_project')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_objection'))
    )
    with op.batch_alter_table('project_objection', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_objection_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_project_objection_region_code'), ['region_code'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('project_objection', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_objection_region_code'))
        batch_op.drop_index(batch_op.f('ix_project_objection_project_id'))
    op.drop_table('project_objection')
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_notice_ends_at'))
        batch_op.drop_column('notice_ends_at')
        batch_op.drop_column('notice_started_at')
