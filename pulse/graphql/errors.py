"""Expected failures carry the REST message and a code; unexpected ones are logged and masked."""

from __future__ import annotations

import logging

from graphql import GraphQLError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from strawberry.extensions import SchemaExtension

from pulse.errors import POOL_BUSY, ApiError, Unavailable

log = logging.getLogger("pulse.graphql")


class ApiErrors(SchemaExtension):
    def on_operation(self):
        yield
        result = self.execution_context.result
        if result is None or not result.errors:
            return
        result.errors = [self._shape(error) for error in result.errors]

    @staticmethod
    def _shape(error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if isinstance(original, PoolTimeout):  # the REST answer too (pulse.errors)
            original = Unavailable(POOL_BUSY)
        if original is None:  # syntax and validation errors are the client's to read
            return error
        if error.path is None and not isinstance(original, ApiError):
            # Raised before any field ran: a variable the operation's types refuse (an Int past 32
            # bits, an unknown enum value). graphql-core's message names the variable.
            return GraphQLError(error.message, nodes=error.nodes, source=error.source, positions=error.positions,
                                extensions={"code": "BAD_REQUEST", "status": 400})
        if isinstance(original, ApiError):
            return GraphQLError(original.message, nodes=error.nodes, source=error.source,
                                positions=error.positions, path=error.path,
                                extensions={"code": original.code, "status": original.status})
        log.error("unexpected GraphQL error", exc_info=original)
        return GraphQLError("Internal server error.", nodes=error.nodes, source=error.source,
                            positions=error.positions, path=error.path,
                            extensions={"code": "INTERNAL", "status": 500})
