"""a visitor's rows in the collected tables that do not join sessions (DSAR export and delete)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# Rows of pageviews, events and replay chunks are found through their session; these are not.
TABLES = ('click_events', 'js_errors', 'logs', 'outlinks', 'scroll_depths', 'search_queries',
          'survey_responses', 'web_vitals')


def upgrade() -> None:
    for table in TABLES:  # on the partitioned parent: every partition, present and future, gets it
        op.create_index(f'ix_{table}_project_id_visitor_no', table, ['project_id', 'visitor_no'], unique=False)


def downgrade() -> None:
    for table in TABLES:
        op.drop_index(f'ix_{table}_project_id_visitor_no', table_name=table)
