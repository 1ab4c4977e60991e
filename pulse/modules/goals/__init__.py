"""Goals: saved conversion goals (a pageview of a path, an event, a long session, a deep session)
and their conversions, converting visitors, revenue and conversion rate over a range. See
docs/goals.md."""

from pulse.modules.goals import rest, schema, tables
from pulse.modules.module import Module

MODULE = Module("goals", router=rest.router, project_fields=schema.GoalFields, mutation=schema.Mutation,
                tables=tables.TABLES)
