"""The query cost limit (PULSE_GRAPHQL_MAX_COST): an operation's estimated cost, checked while
it is validated, before anything runs.

Every field costs 1; a report (a field taking `startAt`: it reads rollups or scans raw rows)
costs REPORT_COST; a field given a literal `first` counts its selection once per 100 items
asked (`first` is at most 1000). A `first` passed as a variable counts as the default page.
Introspection is plain fields, so GraphiQL's own query costs a few hundred.
"""

from __future__ import annotations

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
    get_named_type,
)
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef

REPORT_COST = 100
ITEMS_PER_UNIT = 100
_META = {"__schema": SchemaMetaFieldDef, "__type": TypeMetaFieldDef}


def cost_rule(max_cost: int) -> type[ValidationRule]:
    class MaxCost(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_args) -> None:
            schema = self.context.schema
            root = schema.get_root_type(node.operation)
            fragments = {d.name.value: d for d in self.context.document.definitions
                         if isinstance(d, FragmentDefinitionNode)}
            cost = _cost(schema, fragments, root, node.selection_set, set())
            if cost > max_cost:
                name = f"'{node.name.value}' " if node.name else ""
                self.report_error(GraphQLError(
                    f"The operation {name}costs {cost}, more than the limit of {max_cost}: "
                    "ask for fewer reports or smaller pages per request.", node))

    return MaxCost


def _cost(schema, fragments, parent, selection_set: SelectionSetNode | None, spreading: set[str]) -> int:
    if selection_set is None or parent is None:
        return 0
    total = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            total += _field_cost(schema, fragments, parent, selection, spreading)
        elif isinstance(selection, InlineFragmentNode):
            target = schema.get_type(selection.type_condition.name.value) if selection.type_condition else parent
            total += _cost(schema, fragments, target, selection.selection_set, spreading)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in spreading:  # cycles are another rule's error
                target = schema.get_type(fragment.type_condition.name.value)
                total += _cost(schema, fragments, target, fragment.selection_set, spreading | {name})
    return total


def _field_cost(schema, fragments, parent, node: FieldNode, spreading: set[str]) -> int:
    name = node.name.value
    definition = _META.get(name) or getattr(parent, "fields", {}).get(name)
    if definition is None:  # __typename, or an unknown field (another rule's error)
        return 1
    weight = REPORT_COST if "startAt" in definition.args else 1
    units = 1
    for argument in node.arguments or ():
        if argument.name.value == "first" and isinstance(argument.value, IntValueNode):
            units = max(1, -(-min(int(argument.value.value), 1000) // ITEMS_PER_UNIT))
    children = _cost(schema, fragments, get_named_type(definition.type), node.selection_set, spreading)
    return weight + units * children
