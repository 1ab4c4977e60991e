"""identity indexes: profiles and accounts newest first, a visitor's aliases and memberships

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_identity_profiles_project_id_last_seen_at', 'identity_profiles',
                    ['project_id', 'last_seen_at'], unique=False)
    op.create_index('ix_identity_aliases_project_id_visitor_id', 'identity_aliases',
                    ['project_id', 'visitor_id'], unique=False)
    op.create_index('ix_account_members_project_id_visitor_id', 'account_members',
                    ['project_id', 'visitor_id'], unique=False)
    op.create_index('ix_identity_accounts_project_id_last_seen_at', 'identity_accounts',
                    ['project_id', 'last_seen_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_identity_accounts_project_id_last_seen_at', table_name='identity_accounts')
    op.drop_index('ix_account_members_project_id_visitor_id', table_name='account_members')
    op.drop_index('ix_identity_aliases_project_id_visitor_id', table_name='identity_aliases')
    op.drop_index('ix_identity_profiles_project_id_last_seen_at', table_name='identity_profiles')
