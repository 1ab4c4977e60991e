"""The request's dataloaders, one per access path; each module adds its own attribute here."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from aiodataloader import DataLoader

if TYPE_CHECKING:
    from pulse.graphql.context import Context


class Loaders:
    def __init__(self, context: "Context") -> None:
        self.context = context

    @cached_property
    def modules_by_project(self) -> DataLoader:
        from pulse.admin.loaders import load_modules_by_project

        return DataLoader(lambda ids: load_modules_by_project(self.context, ids))

    @cached_property
    def keys_by_project(self) -> DataLoader:
        from pulse.admin.loaders import load_keys_by_project

        return DataLoader(lambda ids: load_keys_by_project(self.context, ids))
