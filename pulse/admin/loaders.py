"""Batch loads for the admin types: one query for any number of projects."""

from __future__ import annotations

from collections import defaultdict
from uuid import UUID

import redis.asyncio as aioredis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pulse.admin import service
from pulse.admin.tables import ApiKey


async def load_modules_by_project(ids: list[UUID], *, session: AsyncSession) -> list[list[service.ModuleSetting]]:
    return await service.modules_of_projects(session=session, project_ids=list(ids))


async def load_keys_by_project(ids: list[UUID], *, session: AsyncSession, redis: aioredis.Redis) -> list[list[ApiKey]]:
    keys = (await session.execute(
        select(ApiKey).where(ApiKey.project_id.in_(ids), ApiKey.revoked_at.is_(None))
        .order_by(ApiKey.created_at.desc(), ApiKey.id))).scalars()
    by_project: dict[UUID, list[ApiKey]] = defaultdict(list)
    for key in keys:
        by_project[key.project_id].append(key)
    for pid, project_keys in by_project.items():
        await service.overlay_last_used(redis=redis, project_id=pid, keys=project_keys)
    return [by_project.get(pid, []) for pid in ids]
