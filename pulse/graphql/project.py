"""`Project`, the type every report hangs off: its own fields (pulse.admin.types) and those of
every installed module (its reports and its own `project_fields`).

Made when this module is first imported, from the installed modules: only the schema's
assembly imports it, never a module package.
"""

from __future__ import annotations

import strawberry

from pulse.admin.types import ProjectFields
from pulse.modules.installed import installed
from pulse.reports import project_type

MODULE_PARTS = tuple(project_type(m.name, m.reports, m.project_fields) for m in installed()
                     if m.reports or m.project_fields)


@strawberry.type(description="A tracked site or app. Every report hangs off its project.")
class Project(ProjectFields, *MODULE_PARTS):
    pass
