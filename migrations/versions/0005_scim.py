"""scim: provisioned users, groups and group members (identity's SCIM provisioning)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-09
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('scim_users',
    sa.Column('project_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('user_name', sa.Text(), nullable=False),
    sa.Column('external_id', sa.Text(), nullable=True),
    sa.Column('display_name', sa.Text(), nullable=True),
    sa.Column('active', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('name', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('emails', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False),
    sa.Column('traits', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('attributes', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_scim_users_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', 'id', name=op.f('pk_scim_users'))
    )
    op.create_index('ix_scim_users_project_id_user_name', 'scim_users', ['project_id', 'user_name'], unique=False)
    op.create_index('ix_scim_users_project_id_external_id', 'scim_users', ['project_id', 'external_id'], unique=False)
    op.create_table('scim_groups',
    sa.Column('project_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('display_name', sa.Text(), nullable=False),
    sa.Column('external_id', sa.Text(), nullable=True),
    sa.Column('traits', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_scim_groups_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', 'id', name=op.f('pk_scim_groups'))
    )
    op.create_table('scim_group_members',
    sa.Column('project_id', sa.UUID(), nullable=False),
    sa.Column('group_id', sa.UUID(), nullable=False),
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['project_id', 'group_id'], ['scim_groups.project_id', 'scim_groups.id'], name=op.f('fk_scim_group_members_project_id_scim_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id', 'user_id'], ['scim_users.project_id', 'scim_users.id'], name=op.f('fk_scim_group_members_project_id_scim_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', 'group_id', 'user_id', name=op.f('pk_scim_group_members')),
    sa.UniqueConstraint('project_id', 'group_id', 'position', name=op.f('uq_scim_group_members_project_id_group_id_position'))
    )
    op.create_index('ix_scim_group_members_project_id_user_id', 'scim_group_members', ['project_id', 'user_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_scim_group_members_project_id_user_id', table_name='scim_group_members')
    op.drop_table('scim_group_members')
    op.drop_table('scim_groups')
    op.drop_index('ix_scim_users_project_id_external_id', table_name='scim_users')
    op.drop_index('ix_scim_users_project_id_user_name', table_name='scim_users')
    op.drop_table('scim_users')
