"""Identity: identify calls, visitor profiles and traits, user aliases, accounts."""

from pulse.modules.identity import payloads, rest, schema, tables
from pulse.modules.module import Module

MODULE = Module("identity", router=rest.router, project_fields=schema.IdentityFields, payloads=payloads.PAYLOADS,
                tables=tables.TABLES)
