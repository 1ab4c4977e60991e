"""Identity: identify calls, visitor profiles and traits, user aliases, accounts, SCIM provisioning."""

from pulse.modules.identity import payloads, rest, schema, scim, tables
from pulse.modules.module import Module

MODULE = Module("identity", router=scim.router_with(rest.router),
                project_fields=scim.fields_with(schema.IdentityFields), mutation=scim.Mutation,
                payloads=payloads.PAYLOADS, tables=(*tables.TABLES, *scim.TABLES))
