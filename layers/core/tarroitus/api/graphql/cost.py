"""What a GraphQL document asks for before it runs: expanded selections, depth and aliases, each fragment walked once.

A fragment spread counts as everything its fragment selects, but every fragment is summed up once
and its sums reused wherever it is spread, so the check is linear in the document's size. A chain of
fragments each spreading the next twice selects 2^n fields in about 40 characters per level:
walking every spread again (as a depth or alias limiter that follows spreads does) takes seconds
of CPU from twenty levels on and doubles with each more; summed up once, it is refused in
microseconds.

Depth counts nested selections of data fields, as before: a field with a selection set is one more
than its deepest child, a leaf is 0, and introspection fields (`__schema`, `__type`) count 0 (they
are bounded by graphql-core's own MaxIntrospectionDepthRule). Selections and aliases count every
field, introspection included.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)

from tarroitus.api.graphql.limits import MAX_ALIASES, MAX_QUERY_DEPTH, MAX_SELECTIONS


@dataclass(frozen=True)
class Cost:
    """What a selection set asks for once every fragment spread in it is expanded."""

    selections: int = 0
    depth: int = 0
    aliases: int = 0

    def __add__(self, other: "Cost") -> "Cost":
        """Both side by side: selections and aliases add up, the deeper one sets the depth."""
        return Cost(self.selections + other.selections, max(self.depth, other.depth), self.aliases + other.aliases)


NOTHING = Cost()


def selection_set_cost(selection_set: SelectionSetNode, fragments: Mapping[str, Cost]) -> Cost:
    """The cost of `selection_set`, with each spread priced from `fragments` (an unknown fragment costs nothing)."""
    total = NOTHING
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            total += field_cost(selection, fragments)
        elif isinstance(selection, InlineFragmentNode):
            total += selection_set_cost(selection.selection_set, fragments)
        elif isinstance(selection, FragmentSpreadNode):
            total += fragments.get(selection.name.value, NOTHING)
    return total


def field_cost(field: FieldNode, fragments: Mapping[str, Cost]) -> Cost:
    """One field and everything below it."""
    inner = selection_set_cost(field.selection_set, fragments) if field.selection_set else NOTHING
    introspection = field.name.value.startswith("__")
    depth = 0 if introspection or field.selection_set is None else inner.depth + 1
    return Cost(1 + inner.selections, depth, (field.alias is not None) + inner.aliases)


def fragment_costs(fragments: Mapping[str, FragmentDefinitionNode]) -> dict[str, Cost]:
    """Every fragment's cost, each computed once, after the fragments it spreads.

    A spread of a fragment that is still being summed up (a cycle, which NoFragmentCyclesRule
    reports) costs nothing, so the sums always end. The walk keeps its own stack: a long chain of
    fragments must not reach Python's recursion limit.
    """
    costs: dict[str, Cost] = {}
    in_progress: set[str] = set()
    for root in fragments:
        stack = [root]
        while stack:
            name = stack[-1]
            if name in costs:
                stack.pop()
                continue
            in_progress.add(name)
            pending = [
                spread
                for spread in spread_names(fragments[name].selection_set)
                if spread in fragments and spread not in costs and spread not in in_progress
            ]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            in_progress.discard(name)
            costs[name] = selection_set_cost(fragments[name].selection_set, costs)
    return costs


def spread_names(selection_set: SelectionSetNode) -> set[str]:
    """The fragments `selection_set` spreads, at any depth outside other fragments."""
    names: set[str] = set()
    pending = [selection_set]
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FragmentSpreadNode):
                names.add(selection.name.value)
            elif isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set:
                pending.append(selection.selection_set)
    return names


class QueryCostRule(ValidationRule):
    """Refuses a document over MAX_SELECTIONS expanded selections, MAX_QUERY_DEPTH depth or MAX_ALIASES aliases."""

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        definitions = context.document.definitions
        fragments = {node.name.value: node for node in definitions if isinstance(node, FragmentDefinitionNode)}
        costs = fragment_costs(fragments)
        aliases = 0
        for operation in definitions:
            if not isinstance(operation, OperationDefinitionNode):
                continue
            cost = selection_set_cost(operation.selection_set, costs)
            name = operation.name.value if operation.name else "anonymous"
            aliases += cost.aliases
            if cost.selections > MAX_SELECTIONS:
                message = (
                    f"'{name}' selects {cost.selections} fields once its fragments are expanded; "
                    f"the limit is {MAX_SELECTIONS}"
                )
                context.report_error(GraphQLError(message, operation))
            if cost.depth > MAX_QUERY_DEPTH:
                message = f"'{name}' exceeds maximum operation depth of {MAX_QUERY_DEPTH}"
                context.report_error(GraphQLError(message, operation))
        if aliases > MAX_ALIASES:
            context.report_error(GraphQLError(f"{aliases} aliases found. Allowed: {MAX_ALIASES}"))
