"""identity profiles carry their visitor's number (segments' trait conditions without a join)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('identity_profiles', sa.Column('visitor_no', sa.BigInteger(), nullable=True))
    op.execute("UPDATE identity_profiles p SET visitor_no = v.visitor_no FROM visitors v "
               "WHERE v.project_id = p.project_id AND v.visitor_id = p.visitor_id")


def downgrade() -> None:
    op.drop_column('identity_profiles', 'visitor_no')
