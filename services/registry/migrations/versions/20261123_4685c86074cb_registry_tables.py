"""registry tables: regions, households, members, versions, incomes, helpers, contacts, imports

Revision ID: 4685c86074cb
Revises: 
Create Date: 2026-11-23 19:33:33.101418
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

import shared.db  # noqa: F401
from shared.events.tables import infra_v1_downgrade, infra_v1_upgrade


revision: str = '4685c86074cb'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    infra_v1_upgrade(op.get_bind())
    op.create_table('helperload',
    sa.Column('rank', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('max_households', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('rank', name=op.f('pk_helperload'))
    )
    op.create_table('helpingunit',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('region_code', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_helpingunit'))
    )
    with op.batch_alter_table('helpingunit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_helpingunit_region_code'), ['region_code'], unique=False)

    op.create_table('household',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('hukou_number', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('region_code', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('group_no', sa.Integer(), nullable=True),
    sa.Column('natural_village', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True),
    sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('head_member_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('hukou_type', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('identified_year', sa.Integer(), nullable=True),
    sa.Column('planned_exit_year', sa.Integer(), nullable=True),
    sa.Column('exit_year', sa.Integer(), nullable=True),
    sa.Column('primary_cause', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('secondary_causes', sa.JSON(), nullable=False),
    sa.Column('land_cultivated_mu', sa.Numeric(precision=10, scale=2), nullable=True),
    sa.Column('land_forest_mu', sa.Numeric(precision=10, scale=2), nullable=True),
    sa.Column('land_grassland_mu', sa.Numeric(precision=10, scale=2), nullable=True),
    sa.Column('land_crops', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('land_livestock', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('housing_grade', sqlmodel.sql.sqltypes.AutoString(length=1), nullable=True),
    sa.Column('housing_structure', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('housing_relocation', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('housing_renovated_year', sa.Integer(), nullable=True),
    sa.Column('utilities_safe_water', sa.Boolean(), nullable=True),
    sa.Column('utilities_water_issue', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('utilities_electricity', sa.Boolean(), nullable=True),
    sa.Column('assurance_food', sa.Boolean(), nullable=True),
    sa.Column('assurance_clothing', sa.Boolean(), nullable=True),
    sa.Column('assurance_education', sa.Boolean(), nullable=True),
    sa.Column('assurance_housing', sa.Boolean(), nullable=True),
    sa.Column('assurance_medical', sa.Boolean(), nullable=True),
    sa.Column('access_road', sa.Boolean(), nullable=True),
    sa.Column('access_phone', sa.Boolean(), nullable=True),
    sa.Column('access_broadband', sa.Boolean(), nullable=True),
    sa.Column('exclusion_vehicle', sa.Boolean(), nullable=False),
    sa.Column('exclusion_machinery', sa.Boolean(), nullable=False),
    sa.Column('exclusion_enterprise', sa.Boolean(), nullable=False),
    sa.Column('exclusion_new_house_year', sa.Integer(), nullable=True),
    sa.Column('exclusion_family_away', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('registered_on', sa.Date(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('dissolved_on', sa.Date(), nullable=True),
    sa.Column('created_at', shared.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shared.db.AwareDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_household')),
    sa.UniqueConstraint('hukou_number', name=op.f('uq_household_hukou_number'))
    )
    with op.batch_alter_table('household', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_household_primary_cause'), ['primary_cause'], unique=False)
        batch_op.create_index(batch_op.f('ix_household_region_code'), ['region_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_household_status'), ['status'], unique=False)

    op.create_table('importjob',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('filename', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('rows_total', sa.Integer(), nullable=True),
    sa.Column('rows_done', sa.Integer(), nullable=False),
    sa.Column('error_count', sa.Integer(), nullable=False),
    sa.Column('households_created', sa.Integer(), nullable=False),
    sa.Column('members_created', sa.Integer(), nullable=False),
    sa.Column('rows_unchanged', sa.Integer(), nullable=False),
    sa.Column('message', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('region_scope', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('created_at', shared.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', shared.db.AwareDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_importjob'))
    )
    op.create_table('region',
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('level', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('parent_code', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=True),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_region'))
    )
    with op.batch_alter_table('region', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_region_parent_code'), ['parent_code'], unique=False)

    op.create_table('villagergroup',
    sa.Column('village_code', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.PrimaryKeyConstraint('village_code', 'number', name=op.f('pk_villagergroup'))
    )
    op.create_table('helper',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('unit_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
    sa.Column('rank', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('region_code', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('created_at', shared.db.AwareDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['helpingunit.id'], name=op.f('fk_helper_unit_id_helpingunit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_helper'))
    )
    with op.batch_alter_table('helper', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_helper_region_code'), ['region_code'], unique=False)

    op.create_table('householdcategory',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('household_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_householdcategory_household_id_household')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_householdcategory'))
    )
    with op.batch_alter_table('householdcategory', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_householdcategory_category'), ['category'], unique=False)
        batch_op.create_index(batch_op.f('ix_householdcategory_household_id'), ['household_id'], unique=False)

    op.create_table('householdversion',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('household_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.Column('replaced_at', shared.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('replaced_by', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('replace_reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_householdversion_household_id_household')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_householdversion')),
    sa.UniqueConstraint('household_id', 'version', name=op.f('uq_householdversion_household_id_version'))
    )
    with op.batch_alter_table('householdversion', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_householdversion_household_id'), ['household_id'], unique=False)

    op.create_table('importrowerror',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('row', sa.Integer(), nullable=False),
    sa.Column('column', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['importjob.id'], name=op.f('fk_importrowerror_job_id_importjob')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_importrowerror'))
    )
    with op.batch_alter_table('importrowerror', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_importrowerror_job_id'), ['job_id'], unique=False)

    op.create_table('incomedeclaration',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('household_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('wages', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('production_gross', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('production_costs', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('property', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('transfers', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('policy_payments', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('household_size', sa.Integer(), nullable=False),
    sa.Column('net_income', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('per_capita_net_income', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('recorded_by', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('recorded_at', shared.db.AwareDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_incomedeclaration_household_id_household')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incomedeclaration')),
    sa.UniqueConstraint('household_id', 'year', 'source', name=op.f('uq_incomedeclaration_household_id_year_source'))
    )
    with op.batch_alter_table('incomedeclaration', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incomedeclaration_household_id'), ['household_id'], unique=False)

    op.create_table('member',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('household_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('id_number', sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False),
    sa.Column('relation', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('sex', sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=False),
    sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('in_hukou', sa.Boolean(), nullable=False),
    sa.Column('co_resident', sa.Boolean(), nullable=False),
    sa.Column('joined_on', sa.Date(), nullable=False),
    sa.Column('left_on', sa.Date(), nullable=True),
    sa.Column('left_reason', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('labour', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
    sa.Column('health', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('disability_grade', sa.Integer(), nullable=True),
    sa.Column('medical_insurance', sa.Boolean(), nullable=True),
    sa.Column('family_doctor', sa.Boolean(), nullable=True),
    sa.Column('education', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=True),
    sa.Column('school', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('dropout', sa.Boolean(), nullable=False),
    sa.Column('skills', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('migrant_place', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('migrant_months', sa.Integer(), nullable=True),
    sa.Column('employment', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=True),
    sa.Column('party_member', sa.Boolean(), nullable=False),
    sa.Column('public_payroll', sa.Boolean(), nullable=False),
    sa.Column('village_cadre', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_member_household_id_household')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member'))
    )
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_member_household_id'), ['household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_member_id_number'), ['id_number'], unique=False)
        batch_op.create_index('uq_member_active_id_number', ['id_number'], unique=True, sqlite_where=sa.text('active'), postgresql_where=sa.text('active'))

    op.create_table('memberchange',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('household_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('member_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('effective_date', sa.Date(), nullable=False),
    sa.Column('evidence', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('household_version', sa.Integer(), nullable=False),
    sa.Column('other_household_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
    sa.Column('recorded_at', shared.db.AwareDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_memberchange_household_id_household')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_memberchange'))
    )
    with op.batch_alter_table('memberchange', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_memberchange_household_id'), ['household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_memberchange_member_id'), ['member_id'], unique=False)

    op.create_table('contact',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('household_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('helper_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('contacted_on', sa.Date(), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('recorded_at', shared.db.AwareDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['helper_id'], ['helper.id'], name=op.f('fk_contact_helper_id_helper')),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_contact_household_id_household')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact'))
    )
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_helper_id'), ['helper_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contact_household_id'), ['household_id'], unique=False)

    op.create_table('pairing',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('helper_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('household_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('end_reason', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.ForeignKeyConstraint(['helper_id'], ['helper.id'], name=op.f('fk_pairing_helper_id_helper')),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_pairing_household_id_household')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pairing'))
    )
    with op.batch_alter_table('pairing', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pairing_helper_id'), ['helper_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pairing_household_id'), ['household_id'], unique=False)

    op.create_table('workteam',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('village_code', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('unit_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
    sa.Column('leader_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
    sa.Column('first_secretary_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['first_secretary_id'], ['helper.id'], name=op.f('fk_workteam_first_secretary_id_helper')),
    sa.ForeignKeyConstraint(['leader_id'], ['helper.id'], name=op.f('fk_workteam_leader_id_helper')),
    sa.ForeignKeyConstraint(['unit_id'], ['helpingunit.id'], name=op.f('fk_workteam_unit_id_helpingunit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workteam'))
    )
    with op.batch_alter_table('workteam', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_workteam_village_code'), ['village_code'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('workteam', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_workteam_village_code'))

    op.drop_table('workteam')
    with op.batch_alter_table('pairing', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pairing_household_id'))
        batch_op.drop_index(batch_op.f('ix_pairing_helper_id'))

    op.drop_table('pairing')
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_household_id'))
        batch_op.drop_index(batch_op.f('ix_contact_helper_id'))

    op.drop_table('contact')
    with op.batch_alter_table('memberchange', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_memberchange_member_id'))
        batch_op.drop_index(batch_op.f('ix_memberchange_household_id'))

    op.drop_table('memberchange')
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_index('uq_member_active_id_number', sqlite_where=sa.text('active'), postgresql_where=sa.text('active'))
        batch_op.drop_index(batch_op.f('ix_member_id_number'))
        batch_op.drop_index(batch_op.f('ix_member_household_id'))

    op.drop_table('member')
    with op.batch_alter_table('incomedeclaration', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incomedeclaration_household_id'))

    op.drop_table('incomedeclaration')
    with op.batch_alter_table('importrowerror', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_importrowerror_job_id'))

    op.drop_table('importrowerror')
    with op.batch_alter_table('householdversion', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_householdversion_household_id'))

    op.drop_table('householdversion')
    with op.batch_alter_table('householdcategory', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_householdcategory_household_id'))
        batch_op.drop_index(batch_op.f('ix_householdcategory_category'))

    op.drop_table('householdcategory')
    with op.batch_alter_table('helper', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_helper_region_code'))

    op.drop_table('helper')
    op.drop_table('villagergroup')
    with op.batch_alter_table('region', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_region_parent_code'))

    op.drop_table('region')
    op.drop_table('importjob')
    with op.batch_alter_table('household', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_household_status'))
        batch_op.drop_index(batch_op.f('ix_household_region_code'))
        batch_op.drop_index(batch_op.f('ix_household_primary_cause'))

    op.drop_table('household')
    with op.batch_alter_table('helpingunit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_helpingunit_region_code'))

    op.drop_table('helpingunit')
    op.drop_table('helperload')
    infra_v1_downgrade(op.get_bind())
