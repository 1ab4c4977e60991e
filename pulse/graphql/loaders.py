"""The request's dataloaders, one per access path; each module adds its own attribute here."""

from __future__ import annotations

from functools import cached_property, partial
from typing import TYPE_CHECKING

from aiodataloader import DataLoader

from pulse.admin.loaders import load_keys_by_project, load_modules_by_project

if TYPE_CHECKING:
    from pulse.graphql.context import Context


class Loaders:
    def __init__(self, context: Context) -> None:
        self.context = context

    def _loader(self, batch_load) -> DataLoader:
        return DataLoader(partial(batch_load, self.context))

    @cached_property
    def project_access(self) -> DataLoader:
        async def load(ids):
            return await self.context.runtime.access.load_projects(list(ids))

        return DataLoader(load)

    @cached_property
    def rollups(self) -> DataLoader:
        """(project, dimension, first day, last day) -> rollup rows; a whole dashboard in one query."""
        from pulse.query.rollups import load_batch

        async def load(keys):
            return await load_batch(self.context.session, list(keys))

        return DataLoader(load)

    @cached_property
    def modules_by_project(self) -> DataLoader:
        return self._loader(load_modules_by_project)

    @cached_property
    def keys_by_project(self) -> DataLoader:
        return self._loader(load_keys_by_project)
