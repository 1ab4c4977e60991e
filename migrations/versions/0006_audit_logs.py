"""audit_logs: the append-only audit trail (who did what, when, to which object), per project

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-10

UPDATE is refused by a trigger, and so is DELETE, except the cascade of the project's own deletion
(the trigger lets a row go once its project no longer exists). TRUNCATE, a table owner's
maintenance statement, is left alone.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

APPEND_ONLY = """
CREATE FUNCTION audit_logs_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- A project's deletion cascades here: by then the project row is gone, and its trail goes with it.
    IF TG_OP = 'DELETE' AND NOT EXISTS (SELECT 1 FROM projects WHERE id = OLD.project_id) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_logs is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Audit entries are never changed; they go only with their project.';
END
$$
"""
REFUSE_CHANGES = """
CREATE TRIGGER audit_logs_append_only BEFORE UPDATE OR DELETE ON audit_logs
    FOR EACH ROW EXECUTE FUNCTION audit_logs_append_only()
"""


def upgrade() -> None:
    op.create_table('audit_logs',
    sa.Column('project_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('action', sa.Text(), nullable=False),
    sa.Column('actor_type', sa.Text(), nullable=False),
    sa.Column('actor_id', sa.UUID(), nullable=True),
    sa.Column('object_type', sa.Text(), nullable=False),
    sa.Column('object_id', sa.Text(), nullable=False),
    sa.Column('details', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('clock_timestamp()'), nullable=False),
    sa.CheckConstraint("actor_type IN ('admin_token', 'api_key', 'system')", name=op.f('ck_audit_logs_actor_type')),
    sa.CheckConstraint("(actor_type = 'api_key') = (actor_id IS NOT NULL)", name=op.f('ck_audit_logs_actor_id')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_audit_logs_project_id_projects'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', 'id', name=op.f('pk_audit_logs'))
    )
    op.create_index('ix_audit_logs_project_id_created_at_id', 'audit_logs', ['project_id', 'created_at', 'id'],
                    unique=False)
    op.execute(APPEND_ONLY)
    op.execute(REFUSE_CHANGES)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS audit_logs_append_only ON audit_logs")
    op.execute("DROP FUNCTION IF EXISTS audit_logs_append_only()")
    op.drop_index('ix_audit_logs_project_id_created_at_id', table_name='audit_logs')
    op.drop_table('audit_logs')
