"""project notices end by the clock: the notice's start and end on the project, objections raised during it

Revision ID: 7b3e9d51c0a2
Revises: 55094b494393
Create Date: 2026-12-02 20:10:00
"""
import json
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

import shared.db
from services.funds.domain.notices import notice_days, notice_end

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
    _date_running_notices()


def _date_running_notices() -> None:
    """Notices already running were ended by a call before; they now end by the clock, from when they were posted."""
    at = shared.db.AwareDateTime(timezone=True)
    project = sa.table('project', sa.column('id'), sa.column('template_id'), sa.column('held_step'),
                       sa.column('workflow_status'), sa.column('notice_started_at', at), sa.column('notice_ends_at', at))
    template = sa.table('workflow_template', sa.column('id'), sa.column('body'))
    transition = sa.table('workflow_transition', sa.column('instance_id'), sa.column('action'), sa.column('step'),
                          sa.column('at', at))
    bind = op.get_bind()
    held = bind.execute(
        sa.select(project.c.id, project.c.held_step, template.c.body)
        .join(template, template.c.id == project.c.template_id)
        .where(project.c.workflow_status == 'held')
    ).all()
    for project_id, step, body in held:
        posted = bind.execute(
            sa.select(sa.func.max(transition.c.at)).where(
                transition.c.instance_id == project_id, transition.c.action == 'take', transition.c.step == step
            )
        ).scalar()
        spec = next((s.get('notice') for s in json.loads(body)['steps'] if s['key'] == step), None)
        if posted is None or not spec:
            continue
        ends = notice_end(posted, notice_days(spec['level'], spec.get('days')))
        bind.execute(
            project.update().where(project.c.id == project_id).values(notice_started_at=posted, notice_ends_at=ends)
        )


def downgrade() -> None:
    with op.batch_alter_table('project_objection', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_objection_region_code'))
        batch_op.drop_index(batch_op.f('ix_project_objection_project_id'))
    op.drop_table('project_objection')
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_notice_ends_at'))
        batch_op.drop_column('notice_ends_at')
        batch_op.drop_column('notice_started_at')
