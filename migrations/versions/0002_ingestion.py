"""ingestion: collected types (monthly partitions), sessions, visitors, identity, privacy, daily rollups, ledger

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ingest_ledger',
    sa.Column('shard', sa.SmallInteger(), nullable=False),
    sa.Column('entry_id', sa.Text(), nullable=False),
    sa.Column('project_id', sa.UUID(), nullable=False),
    sa.Column('written_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('shard', 'entry_id', name=op.f('pk_ingest_ledger'))
    )
    op.create_index('ix_ingest_ledger_written_at', 'ingest_ledger', ['written_at'], unique=False)
    op.create_table('account_members',
    sa.Column('project_id', sa.UUID(), nullable=False),
    sa.Column('account_id', sa.Text(), nullable=False),
    sa.Column('visitor_id', sa.Text(), nullable=False),
    sa.Column('user_id', sa.Text(), nullable=True),
    sa.Column('role', sa.Text(), nullable=True),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_account_members_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', 'account_id', 'visitor_id', name=op.f('pk_account_members'))
    )
    op.create_table('bot_hits',
    sa.Column('project_id', sa.UUID(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('hits', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_bot_hits_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', 'day', name=op.f('pk_bot_hits'))
    )
    op.create_table('click_events',
    sa.Column('project_id', sa.UUID(), nullable=False),
    sa.Column('ts', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('visitor_no', sa.BigInteger(), nullable=False),
    sa.Column('session_id', sa.UUID(), nullable=True),
    sa.Column('hostname', sa.Text(), nullable=True),
    sa.Column('path', sa.Text(), nullable=True),
    sa.Column('x', sa.Double(), nullable=False),
    sa.Column('y', sa.Double(), nullable=False),
    sa.Column('element_selector', sa.Text(), nullable=True),
    sa.Column('element_text', sa.Text(), nullable=True),
    sa.Column('viewport_width', sa.Integer(), nullable=True),
    sa.Column('viewport_height', sa.Integer(), nullable=True),
    sa.Column('page_width', sa.Integer(), nullable=True),
    sa.Column('page_height', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_click_events_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', 'ts', 'id', name=op.f('pk_click_events')),
    postgresql_partition_by='RANGE (ts)'
    )
    op.create_index('ix_click_events_project_id_session_id', 'click_events', ['project_id', 'session_id'], unique=False)
    op.create_table('daily_rollups',
    sa.Column('project_id', sa.UUID(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('dimension', sa.Text(), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('pageviews', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('sessions', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('bounces', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('duration', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('events', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('time_on_page', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('time_on_page_views', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('visitors', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_daily_rollups_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', 'day', 'dimension', 'value', name=op.f('pk_daily_rollups'))
    )
    op.create_table('events',
    sa.Column('project_id', sa.UUID(), nullable=False),
    sa.Column('ts', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('visitor_no', sa.BigInteger(), nullable=False),
    sa.Column('session_id', sa.UUID(), nullable=True),
    sa.Column('hostname', sa.Text(), nullable=True),
    sa.Column('path', sa.Text(), nullable=True),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('revenue_amount', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('revenue_currency', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_events_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', 'ts', 'id', name=op.f('pk_events')),
    postgresql_partition_by='RANGE (ts)'
    )
    op.create_index('ix_events_project_id_session_id', 'events', ['project_id', 'session_id'], unique=False)
    op.create_table('identity_accounts',
    sa.Column('project_id', sa.UUID(), nullable=False),
    sa.Column('account_id', sa.Text(), nullable=False),
    sa.Column('traits', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_identity_accounts_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', 'account_id', name=op.f('pk_identity_accounts'))
    )
    op.create_table('identity_aliases',
    sa.Column('project_id', sa.UUID(), nullable=False),
    sa.Column('user_id', sa.Text(), nullable=False),
    sa.Column('visitor_id', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_identity_aliases_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', 'user_id', 'visitor_id', name=op.f('pk_identity_aliases'))
    )
    op.create_table('identity_profiles',
    sa.Column('project_id', sa.UUID(), nullable=False),
    sa.Column('visitor_id', sa.Text(), nullable=False),
    sa.Column('user_id', sa.Text(), nullable=True),
    sa.Column('traits', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_identity_profiles_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', 'visitor_id', name=op.f('pk_identity_profiles'))
    )
    op.create_index('ix_identity_profiles_project_id_user_id', 'identity_profiles', ['project_id', 'user_id'], unique=False)
    op.create_table('js_errors',
    sa.Column('project_id', sa.UUID(), nullable=False),
    sa.Column('ts', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('visitor_no', sa.BigInteger(), nullable=False),
    sa.Column('session_id', sa.UUID(), nullable=True),
    sa.Column('hostname', sa.Text(), nullable=True),
    sa.Column('path', sa.Text(), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('error_type', sa.Text(), nullable=True),
    sa.Column('stack', sa.Text(), nullable=True),
    sa.Column('filename', sa.Text(), nullable=True),
    sa.Column('lineno', sa.Integer(), nullable=True),
    sa.Column('colno', sa.Integer(), nullable=True),
    sa.Column('fingerprint', sa.Text(), nullable=False),
    sa.Column('release', sa.Text(), nullable=True),
    sa.Column('environment', sa.Text(), nullable=True),
    sa.Column('browser', sa.Text(), nullable=True),
    sa.Column('os', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_js_errors_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', 'ts', 'id', name=op.f('pk_js_errors')),
    postgresql_partition_by='RANGE (ts)'
    )
    op.create_index('ix_js_errors_project_id_session_id', 'js_errors', ['project_id', 'session_id'], unique=False)
    op.create_table('logs',
    sa.Column('project_id', sa.UUID(), nullable=False),
    sa.Column('ts', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('visitor_no', sa.BigInteger(), nullable=False),
    sa.Column('session_id', sa.UUID(), nullable=True),
    sa.Column('hostname', sa.Text(), nullable=True),
    sa.Column('path', sa.Text(), nullable=True),
    sa.Column('level', sa.Text(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('body', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('release', sa.Text(), nullable=True),
    sa.Column('environment', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_logs_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', 'ts', 'id', name=op.f('pk_logs')),
    postgresql_partition_by='RANGE (ts)'
    )
    op.create_index('ix_logs_project_id_session_id', 'logs', ['project_id', 'session_id'], unique=False)
    op.create_table('outlinks',
    sa.Column('project_id', sa.UUID(), nullable=False),
    sa.Column('ts', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('visitor_no', sa.BigInteger(), nullable=False),
    sa.Column('session_id', sa.UUID(), nullable=True),
    sa.Column('hostname', sa.Text(), nullable=True),
    sa.Column('path', sa.Text(), nullable=True),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('link_type', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_outlinks_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', 'ts', 'id', name=op.f('pk_outlinks')),
    postgresql_partition_by='RANGE (ts)'
    )
    op.create_index('ix_outlinks_project_id_session_id', 'outlinks', ['project_id', 'session_id'], unique=False)
    op.create_table('pageviews',
    sa.Column('project_id', sa.UUID(), nullable=False),
    sa.Column('ts', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('visitor_no', sa.BigInteger(), nullable=False),
    sa.Column('session_id', sa.UUID(), nullable=True),
    sa.Column('hostname', sa.Text(), nullable=True),
    sa.Column('path', sa.Text(), nullable=True),
    sa.Column('title', sa.Text(), nullable=True),
    sa.Column('referrer', sa.Text(), nullable=True),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('channel', sa.Text(), nullable=True),
    sa.Column('utm_source', sa.Text(), nullable=True),
    sa.Column('utm_medium', sa.Text(), nullable=True),
    sa.Column('utm_campaign', sa.Text(), nullable=True),
    sa.Column('utm_content', sa.Text(), nullable=True),
    sa.Column('utm_term', sa.Text(), nullable=True),
    sa.Column('country', sa.Text(), nullable=True),
    sa.Column('region', sa.Text(), nullable=True),
    sa.Column('city', sa.Text(), nullable=True),
    sa.Column('browser', sa.Text(), nullable=True),
    sa.Column('os', sa.Text(), nullable=True),
    sa.Column('device', sa.Text(), nullable=True),
    sa.Column('screen', sa.Text(), nullable=True),
    sa.Column('language', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_pageviews_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', 'ts', 'id', name=op.f('pk_pageviews')),
    postgresql_partition_by='RANGE (ts)'
    )
    op.create_index('ix_pageviews_project_id_session_id', 'pageviews', ['project_id', 'session_id'], unique=False)
    op.create_table('privacy_settings',
    sa.Column('project_id', sa.UUID(), nullable=False),
    sa.Column('anonymize_ip', sa.Boolean(), nullable=False),
    sa.Column('respect_dnt', sa.Boolean(), nullable=False),
    sa.Column('bot_filtering', sa.Boolean(), nullable=False),
    sa.Column('consent_required', sa.Boolean(), nullable=False),
    sa.Column('allowed_consent_modes', postgresql.ARRAY(sa.Text()), nullable=False),
    sa.Column('blocked_user_agents', postgresql.ARRAY(sa.Text()), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_privacy_settings_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', name=op.f('pk_privacy_settings'))
    )
    op.create_table('replay_events',
    sa.Column('project_id', sa.UUID(), nullable=False),
    sa.Column('ts', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('visitor_no', sa.BigInteger(), nullable=False),
    sa.Column('session_id', sa.UUID(), nullable=True),
    sa.Column('hostname', sa.Text(), nullable=True),
    sa.Column('path', sa.Text(), nullable=True),
    sa.Column('recording_id', sa.Text(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('events', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('events_count', sa.Integer(), nullable=False),
    sa.Column('first_ts', sa.BigInteger(), nullable=True),
    sa.Column('last_ts', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_replay_events_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', 'ts', 'id', name=op.f('pk_replay_events')),
    postgresql_partition_by='RANGE (ts)'
    )
    op.create_index('ix_replay_events_project_id_session_id', 'replay_events', ['project_id', 'session_id'], unique=False)
    op.create_table('scroll_depths',
    sa.Column('project_id', sa.UUID(), nullable=False),
    sa.Column('ts', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('visitor_no', sa.BigInteger(), nullable=False),
    sa.Column('session_id', sa.UUID(), nullable=True),
    sa.Column('hostname', sa.Text(), nullable=True),
    sa.Column('path', sa.Text(), nullable=True),
    sa.Column('max_depth', sa.SmallInteger(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_scroll_depths_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', 'ts', 'id', name=op.f('pk_scroll_depths')),
    postgresql_partition_by='RANGE (ts)'
    )
    op.create_index('ix_scroll_depths_project_id_session_id', 'scroll_depths', ['project_id', 'session_id'], unique=False)
    op.create_table('search_queries',
    sa.Column('project_id', sa.UUID(), nullable=False),
    sa.Column('ts', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('visitor_no', sa.BigInteger(), nullable=False),
    sa.Column('session_id', sa.UUID(), nullable=True),
    sa.Column('hostname', sa.Text(), nullable=True),
    sa.Column('path', sa.Text(), nullable=True),
    sa.Column('query', sa.Text(), nullable=False),
    sa.Column('results_count', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_search_queries_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', 'ts', 'id', name=op.f('pk_search_queries')),
    postgresql_partition_by='RANGE (ts)'
    )
    op.create_index('ix_search_queries_project_id_session_id', 'search_queries', ['project_id', 'session_id'], unique=False)
    op.create_table('sessions',
    sa.Column('project_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('visitor_no', sa.BigInteger(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('entry_path', sa.Text(), nullable=True),
    sa.Column('exit_path', sa.Text(), nullable=True),
    sa.Column('pageviews', sa.Integer(), nullable=False),
    sa.Column('events', sa.Integer(), nullable=False),
    sa.Column('duration', sa.Integer(), nullable=False),
    sa.Column('is_bounce', sa.Boolean(), nullable=False),
    sa.Column('hostname', sa.Text(), nullable=True),
    sa.Column('referrer', sa.Text(), nullable=True),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('channel', sa.Text(), nullable=True),
    sa.Column('utm_source', sa.Text(), nullable=True),
    sa.Column('utm_medium', sa.Text(), nullable=True),
    sa.Column('utm_campaign', sa.Text(), nullable=True),
    sa.Column('utm_content', sa.Text(), nullable=True),
    sa.Column('utm_term', sa.Text(), nullable=True),
    sa.Column('country', sa.Text(), nullable=True),
    sa.Column('region', sa.Text(), nullable=True),
    sa.Column('city', sa.Text(), nullable=True),
    sa.Column('browser', sa.Text(), nullable=True),
    sa.Column('os', sa.Text(), nullable=True),
    sa.Column('device', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_sessions_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', 'id', name=op.f('pk_sessions'))
    )
    op.create_index('ix_sessions_project_id_started_at', 'sessions', ['project_id', 'started_at'], unique=False)
    op.create_index('ix_sessions_project_id_visitor_no_ended_at', 'sessions', ['project_id', 'visitor_no', 'ended_at'], unique=False)
    op.create_table('survey_responses',
    sa.Column('project_id', sa.UUID(), nullable=False),
    sa.Column('ts', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('visitor_no', sa.BigInteger(), nullable=False),
    sa.Column('session_id', sa.UUID(), nullable=True),
    sa.Column('hostname', sa.Text(), nullable=True),
    sa.Column('path', sa.Text(), nullable=True),
    sa.Column('survey_id', sa.UUID(), nullable=False),
    sa.Column('answers', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('completed', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_survey_responses_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', 'ts', 'id', name=op.f('pk_survey_responses')),
    postgresql_partition_by='RANGE (ts)'
    )
    op.create_index('ix_survey_responses_project_id_session_id', 'survey_responses', ['project_id', 'session_id'], unique=False)
    op.create_table('visitor_counters',
    sa.Column('project_id', sa.UUID(), nullable=False),
    sa.Column('next_no', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_visitor_counters_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', name=op.f('pk_visitor_counters'))
    )
    op.create_table('visitors',
    sa.Column('project_id', sa.UUID(), nullable=False),
    sa.Column('visitor_id', sa.Text(), nullable=False),
    sa.Column('visitor_no', sa.BigInteger(), nullable=False),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_visitors_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', 'visitor_id', name=op.f('pk_visitors'))
    )
    op.create_index('uq_visitors_project_id_visitor_no', 'visitors', ['project_id', 'visitor_no'], unique=True)
    op.create_table('web_vitals',
    sa.Column('project_id', sa.UUID(), nullable=False),
    sa.Column('ts', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('visitor_no', sa.BigInteger(), nullable=False),
    sa.Column('session_id', sa.UUID(), nullable=True),
    sa.Column('hostname', sa.Text(), nullable=True),
    sa.Column('path', sa.Text(), nullable=True),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('value', sa.Double(), nullable=False),
    sa.Column('rating', sa.Text(), nullable=True),
    sa.Column('browser', sa.Text(), nullable=True),
    sa.Column('device', sa.Text(), nullable=True),
    sa.Column('country', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_web_vitals_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', 'ts', 'id', name=op.f('pk_web_vitals')),
    postgresql_partition_by='RANGE (ts)'
    )
    op.create_index('ix_web_vitals_project_id_session_id', 'web_vitals', ['project_id', 'session_id'], unique=False)
    op.add_column('projects', sa.Column('timezone', sa.Text(), server_default='UTC', nullable=False))


def downgrade() -> None:
    op.drop_column('projects', 'timezone')
    op.drop_index('ix_web_vitals_project_id_session_id', table_name='web_vitals')
    op.drop_table('web_vitals')
    op.drop_index('uq_visitors_project_id_visitor_no', table_name='visitors')
    op.drop_table('visitors')
    op.drop_table('visitor_counters')
    op.drop_index('ix_survey_responses_project_id_session_id', table_name='survey_responses')
    op.drop_table('survey_responses')
    op.drop_index('ix_sessions_project_id_visitor_no_ended_at', table_name='sessions')
    op.drop_index('ix_sessions_project_id_started_at', table_name='sessions')
    op.drop_table('sessions')
    op.drop_index('ix_search_queries_project_id_session_id', table_name='search_queries')
    op.drop_table('search_queries')
    op.drop_index('ix_scroll_depths_project_id_session_id', table_name='scroll_depths')
    op.drop_table('scroll_depths')
    op.drop_index('ix_replay_events_project_id_session_id', table_name='replay_events')
    op.drop_table('replay_events')
    op.drop_table('privacy_settings')
    op.drop_index('ix_pageviews_project_id_session_id', table_name='pageviews')
    op.drop_table('pageviews')
    op.drop_index('ix_outlinks_project_id_session_id', table_name='outlinks')
    op.drop_table('outlinks')
    op.drop_index('ix_logs_project_id_session_id', table_name='logs')
    op.drop_table('logs')
    op.drop_index('ix_js_errors_project_id_session_id', table_name='js_errors')
    op.drop_table('js_errors')
    op.drop_index('ix_identity_profiles_project_id_user_id', table_name='identity_profiles')
    op.drop_table('identity_profiles')
    op.drop_table('identity_aliases')
    op.drop_table('identity_accounts')
    op.drop_index('ix_events_project_id_session_id', table_name='events')
    op.drop_table('events')
    op.drop_table('daily_rollups')
    op.drop_index('ix_click_events_project_id_session_id', table_name='click_events')
    op.drop_table('click_events')
    op.drop_table('bot_hits')
    op.drop_table('account_members')
    op.drop_index('ix_ingest_ledger_written_at', table_name='ingest_ledger')
    op.drop_table('ingest_ledger')
