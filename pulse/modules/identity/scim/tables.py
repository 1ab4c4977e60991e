"""SCIM provisioning's tables: provisioned users, groups and their members, `project_id` first in
every key. A user's normalised attributes have columns (filters translate to them); the rest of
its SCIM resource (title, phone numbers, the enterprise extension...) is kept whole in
`attributes`, so what an identity provider sends comes back."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from pulse.db import Base

# Why a DSAR leaves these alone (pulse.privacy.registry): the directory's own records of its users.
PROVISIONED = ("provisioned by the identity provider, which removes a user with a SCIM DELETE; the user's "
               "profile, visitor `scim:{id}`, is exported and deleted with the visitors' data")


class ScimUser(Base):
    """A provisioned user; mirrored into identity_profiles as visitor `scim:{id}`."""

    __tablename__ = "scim_users"
    __table_args__ = (
        PrimaryKeyConstraint("project_id", "id"),
        ForeignKeyConstraint(["project_id"], ["projects.id"], ondelete="CASCADE"),
        # userName is unique per project, compared case-insensitively (RFC 7643 4.1.1): the service
        # checks lower(user_name) through this index before it writes.
        Index("ix_scim_users_project_id_user_name", "project_id", "user_name"),
        Index("ix_scim_users_project_id_external_id", "project_id", "external_id"),
        {"info": {"dsar": PROVISIONED}},
    )

    project_id: Mapped[uuid.UUID] = mapped_column(UUID)
    id: Mapped[uuid.UUID] = mapped_column(UUID, default=uuid.uuid4)
    user_name: Mapped[str] = mapped_column(Text)
    external_id: Mapped[str | None] = mapped_column(Text)
    display_name: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, server_default="true")
    name: Mapped[dict[str, Any] | None] = mapped_column(JSONB)  # SCIM's name: givenName, familyName...
    emails: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default="[]")
    traits: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ScimGroup(Base):
    __tablename__ = "scim_groups"
    __table_args__ = (
        PrimaryKeyConstraint("project_id", "id"),
        ForeignKeyConstraint(["project_id"], ["projects.id"], ondelete="CASCADE"),
    )

    project_id: Mapped[uuid.UUID] = mapped_column(UUID)
    id: Mapped[uuid.UUID] = mapped_column(UUID, default=uuid.uuid4)
    display_name: Mapped[str] = mapped_column(Text)
    external_id: Mapped[str | None] = mapped_column(Text)
    traits: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ScimGroupMember(Base):
    """One member of a group, in the order the members were given (`position`)."""

    __tablename__ = "scim_group_members"
    __table_args__ = (
        PrimaryKeyConstraint("project_id", "group_id", "user_id"),
        ForeignKeyConstraint(["project_id", "group_id"], ["scim_groups.project_id", "scim_groups.id"],
                             ondelete="CASCADE"),
        ForeignKeyConstraint(["project_id", "user_id"], ["scim_users.project_id", "scim_users.id"],
                             ondelete="CASCADE"),
        UniqueConstraint("project_id", "group_id", "position"),
        Index("ix_scim_group_members_project_id_user_id", "project_id", "user_id"),
        {"info": {"dsar": PROVISIONED}},
    )

    project_id: Mapped[uuid.UUID] = mapped_column(UUID)
    group_id: Mapped[uuid.UUID] = mapped_column(UUID)
    user_id: Mapped[uuid.UUID] = mapped_column(UUID)
    position: Mapped[int] = mapped_column(Integer)


TABLES = (ScimUser.__table__, ScimGroup.__table__, ScimGroupMember.__table__)
