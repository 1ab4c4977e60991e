"""Identity's tables: a profile per visitor, user aliases, accounts and their members."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, ForeignKey, Index, PrimaryKeyConstraint, Table, Text
from sqlalchemy.dialects.postgresql import JSONB, UUID

from pulse.db import Base

metadata = Base.metadata

identity_profiles = Table(
    "identity_profiles", metadata,
    Column("project_id", UUID, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("visitor_id", Text, nullable=False),
    # The visitor's number (pulse.ingest.tables.visitors), so a trait condition needs no join
    # (pulse.query.visitorsets); None for a profile with no traffic (a SCIM user's `scim:{id}`).
    Column("visitor_no", BigInteger),
    Column("user_id", Text),
    Column("traits", JSONB, nullable=False),
    Column("first_seen_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("project_id", "visitor_id"),
    Index("ix_identity_profiles_project_id_user_id", "project_id", "user_id"),
    # The profile list, newest first (migration 0004).
    Index("ix_identity_profiles_project_id_last_seen_at", "project_id", "last_seen_at"),
    Index("ix_identity_profiles_project_id_visitor_no", "project_id", "visitor_no"),  # segments' candidates
)
identity_aliases = Table(
    "identity_aliases", metadata,
    Column("project_id", UUID, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", Text, nullable=False),
    Column("visitor_id", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("project_id", "user_id", "visitor_id"),
    # A visitor's users (the identity graph walks aliases both ways; migration 0004).
    Index("ix_identity_aliases_project_id_visitor_id", "project_id", "visitor_id"),
)
identity_accounts = Table(
    "identity_accounts", metadata,
    Column("project_id", UUID, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("account_id", Text, nullable=False),
    Column("traits", JSONB, nullable=False),
    Column("first_seen_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("project_id", "account_id"),
    Index("ix_identity_accounts_project_id_last_seen_at", "project_id", "last_seen_at"),
)
account_members = Table(
    "account_members", metadata,
    Column("project_id", UUID, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("account_id", Text, nullable=False),
    Column("visitor_id", Text, nullable=False),
    Column("user_id", Text),
    Column("role", Text),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("project_id", "account_id", "visitor_id"),
    # A visitor's accounts (profiles and the identity graph; migration 0004).
    Index("ix_account_members_project_id_visitor_id", "project_id", "visitor_id"),
)

TABLES = (identity_profiles, identity_aliases, identity_accounts, account_members)
