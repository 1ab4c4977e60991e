"""Per-request dataloaders in saleor's style: a loader class caches itself on the request's
context under its key (`KeysByProject.of(info.context).load(project_id)`, pulse.admin.types), so a module adds a
loader by writing a class next to its types, and no central list grows with each module.

Every batch a loader runs is tracked on the context while it runs: the context closes its read
session only once they have all finished (pulse.graphql.context.Context.close).
"""

from __future__ import annotations

import asyncio
from abc import abstractmethod
from typing import TYPE_CHECKING, Any, Self

from aiodataloader import DataLoader

if TYPE_CHECKING:
    from pulse.graphql.context import Context


class Loader(DataLoader):
    """Subclasses write `batch(keys)`; `of(context, *key)` is the request's one instance per key
    (`init`: what the loader needs besides its key, taken when it is first made)."""

    def __init__(self, context: Context, key: tuple, **init: Any) -> None:
        super().__init__()
        self.context = context
        self.key = key
        self.init = init

    @classmethod
    def of(cls, context: Context, *key: Any, **init: Any) -> Self:
        cache_key = (cls, *key)
        loader = context.loaders.get(cache_key)
        if loader is None:
            loader = context.loaders[cache_key] = cls(context, key, **init)
        return loader

    async def batch_load_fn(self, keys: list) -> list:
        task = asyncio.current_task()
        self.context.running.add(task)
        try:
            return await self.batch(list(keys))
        finally:
            self.context.running.discard(task)

    @abstractmethod
    async def batch(self, keys: list) -> list:
        """The values of `keys`, in their order."""


class ProjectAccessLoader(Loader):
    """Project id -> ProjectAccess (what access checks need), for every project a request names."""

    async def batch(self, ids: list) -> list:
        return await self.context.runtime.access.load_projects(ids)
