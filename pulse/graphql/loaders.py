"""The request's dataloaders, one per access path; each module adds its own attribute here."""

from __future__ import annotations

import asyncio
from functools import cached_property, partial
from typing import TYPE_CHECKING

from aiodataloader import DataLoader

from pulse.admin.loaders import load_keys_by_project, load_modules_by_project
from pulse.query.dates import DayRange

if TYPE_CHECKING:
    from pulse.auth import ProjectAccess
    from pulse.graphql.context import Context
    from pulse.query.filters import Filter


class Loaders:
    def __init__(self, context: Context) -> None:
        self.context = context
        self._filtered: dict[tuple, DataLoader] = {}
        self.running: set[asyncio.Task] = set()  # batches in flight: the context waits for them

    def _new(self, batch_load) -> DataLoader:
        """A loader whose batches are tracked in `running` while they run."""

        async def tracked(keys):
            task = asyncio.current_task()
            self.running.add(task)
            try:
                return await batch_load(keys)
            finally:
                self.running.discard(task)

        return DataLoader(tracked)

    def _loader(self, batch_load) -> DataLoader:
        return self._new(partial(batch_load, self.context))

    @cached_property
    def project_access(self) -> DataLoader:
        async def load(ids):
            return await self.context.runtime.access.load_projects(list(ids))

        return self._new(load)

    @cached_property
    def rollups(self) -> DataLoader:
        """(project, dimension, first day, last day) -> rollup rows; a whole dashboard in one query."""
        from pulse.query.rollups import load_batch

        async def load(keys):
            return await load_batch(self.context.session, list(keys))

        return self._new(load)

    def filtered_rollups(self, project: ProjectAccess, filters: tuple[Filter, ...]) -> DataLoader:
        """(dimension, first day, last day) -> rows computed from the raw tables with `filters`:
        the reports of a filtered dashboard are computed together, one scan per table and range."""
        key = (project.project_id, filters)
        if key not in self._filtered:
            from pulse.query.raw import compute_many

            async def load(keys):
                # One computation per range, for every dimension asked over it.
                by_range: dict[tuple, list[str]] = {}
                for dimension, first, last in keys:
                    by_range.setdefault((first, last), []).append(dimension)
                computed = {span: await compute_many(self.context.session, project, list(filters), dimensions,
                                                     DayRange(*span))
                            for span, dimensions in by_range.items()}
                return [computed[(first, last)][dimension] for dimension, first, last in keys]

            self._filtered[key] = self._new(load)
        return self._filtered[key]

    @cached_property
    def modules_by_project(self) -> DataLoader:
        return self._loader(load_modules_by_project)

    @cached_property
    def keys_by_project(self) -> DataLoader:
        return self._loader(load_keys_by_project)
