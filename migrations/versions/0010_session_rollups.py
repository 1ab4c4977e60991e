"""session numbers and session rollups (filtered reports from bitmaps, pulse.ingest.sessionsets); profiles by visitor number, events by name

Existing sessions are numbered by start, per project, and their visitor map is packed here. The
session rollups of days already written cannot be rebuilt in SQL: a project with sessions gets a
`session_rollups_since` row (tomorrow, in its time zone), and filtered reports over earlier days
keep reading the raw rows.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

CHUNK = 4096  # pulse.ingest.sessionsets.CHUNK


def upgrade() -> None:
    op.add_column('visitor_counters', sa.Column('next_session_no', sa.BigInteger(), server_default='1',
                                                nullable=False))
    op.add_column('sessions', sa.Column('session_no', sa.BigInteger(), nullable=True))
    op.execute("UPDATE sessions s SET session_no = n.no FROM (SELECT project_id, id, "
               "row_number() OVER (PARTITION BY project_id ORDER BY started_at, id) AS no FROM sessions) n "
               "WHERE n.project_id = s.project_id AND n.id = s.id")
    op.alter_column('sessions', 'session_no', nullable=False)
    op.execute("UPDATE visitor_counters c SET next_session_no = m.last + 1 FROM (SELECT project_id, "
               "max(session_no) AS last FROM sessions GROUP BY project_id) m WHERE m.project_id = c.project_id")
    op.create_table(
        'session_rollups',
        sa.Column('project_id', postgresql.UUID(), nullable=False),
        sa.Column('dimension', sa.Text(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('value', sa.Text(), nullable=False),
        sa.Column('counter', sa.Text(), nullable=False),
        sa.Column('bitmaps', postgresql.ARRAY(sa.LargeBinary()), nullable=False),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('project_id', 'dimension', 'day', 'value', 'counter'),
    )
    # Roaring bitmaps hardly compress: stored as they are, a cold read need not decompress them.
    op.execute("ALTER TABLE session_rollups ALTER COLUMN bitmaps SET STORAGE EXTERNAL")
    op.create_table(
        'session_visitors',
        sa.Column('project_id', postgresql.UUID(), nullable=False),
        sa.Column('chunk', sa.BigInteger(), nullable=False),
        sa.Column('visitors', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('project_id', 'chunk'),
    )
    op.create_table(
        'session_rollups_since',
        sa.Column('project_id', postgresql.UUID(), nullable=False),
        sa.Column('since', sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('project_id'),
    )
    # Numbers are dense from 1, so each chunk's visitors are its sessions' in number order (chunk 0
    # starts with the unused number 0).
    op.execute(f"INSERT INTO session_visitors (project_id, chunk, visitors) SELECT project_id, session_no / {CHUNK}, "
               f"CASE WHEN session_no / {CHUNK} = 0 THEN '\\x00000000'::bytea ELSE ''::bytea END "
               "|| string_agg(int4send(visitor_no::int), ''::bytea ORDER BY session_no) FROM sessions "
               f"GROUP BY project_id, session_no / {CHUNK}")
    # A segment's profile condition reads only the candidates its other conditions left.
    op.create_index('ix_identity_profiles_project_id_visitor_no', 'identity_profiles', ['project_id', 'visitor_no'])
    # An event condition reads one name's events over a range.
    op.create_index('ix_events_project_id_name_ts', 'events', ['project_id', 'name', 'ts'])
    op.execute("INSERT INTO session_rollups_since (project_id, since) SELECT p.id, "
               "(now() AT TIME ZONE coalesce(p.timezone, 'UTC'))::date + 1 FROM projects p "
               "WHERE EXISTS (SELECT 1 FROM sessions s WHERE s.project_id = p.id)")


def downgrade() -> None:
    op.drop_index('ix_events_project_id_name_ts', table_name='events')
    op.drop_index('ix_identity_profiles_project_id_visitor_no', table_name='identity_profiles')
    op.drop_table('session_rollups_since')
    op.drop_table('session_visitors')
    op.drop_table('session_rollups')
    op.drop_column('sessions', 'session_no')
    op.drop_column('visitor_counters', 'next_session_no')
