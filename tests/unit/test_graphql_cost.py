"""The GraphQL cost rule: expanded selections, depth and aliases, every fragment summed up once."""

import pytest
from graphql import FragmentDefinitionNode, OperationDefinitionNode, build_schema, parse, validate

from tarroitus.api.graphql.cost import Cost, QueryCostRule, fragment_costs, selection_set_cost
from tarroitus.api.graphql.limits import MAX_ALIASES, MAX_QUERY_DEPTH, MAX_SELECTIONS

SCHEMA = build_schema("type Query { leaf: Int, node: Query }")


def fragment_chain(levels: int) -> str:
    """Fragments each spreading the next twice: 2^levels leaves in about 40 characters a level."""
    fragments = "".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }} " for i in range(levels))
    return f"{{ node {{ ...F0 }} }} {fragments}fragment F{levels} on Query {{ leaf }}"


def operation_cost(document: str) -> Cost:
    parsed = parse(document)
    fragments = {node.name.value: node for node in parsed.definitions if isinstance(node, FragmentDefinitionNode)}
    operation = next(node for node in parsed.definitions if isinstance(node, OperationDefinitionNode))
    return selection_set_cost(operation.selection_set, fragment_costs(fragments))


def too_many(selections: int) -> str:
    return f"'anonymous' selects {selections} fields once its fragments are expanded; the limit is {MAX_SELECTIONS}"


def messages(document: str) -> list[str]:
    return [error.message for error in validate(SCHEMA, parse(document), [QueryCostRule])]


def test_a_fragment_chain_is_priced_at_its_full_expansion() -> None:
    # When: sixty levels, 2^60 selections, summed up once per fragment
    cost = operation_cost(fragment_chain(60))
    # Then
    assert cost == Cost(selections=1 + 2**60, depth=1, aliases=0)


def test_the_fragment_explosion_is_refused_naming_the_expanded_count() -> None:
    # When
    found = messages(fragment_chain(20))
    # Then
    assert found == [
        f"'anonymous' selects {2**20 + 1} fields once its fragments are expanded; the limit is {MAX_SELECTIONS}"
    ]


def test_selections_up_to_the_limit_pass_and_one_more_is_refused() -> None:
    # Given: one fragment of a single field, spread again and again
    def spreading(count: int) -> str:
        return "{ " + "...L " * count + "} fragment L on Query { leaf }"

    # Then
    assert messages(spreading(MAX_SELECTIONS)) == []
    assert messages(spreading(MAX_SELECTIONS + 1)) == [too_many(MAX_SELECTIONS + 1)]


def test_depth_counts_nested_data_fields_through_fragments_and_skips_introspection() -> None:
    # Given
    inline = "{ node { node { leaf } } }"
    through_fragments = "{ node { ...A } } fragment A on Query { node { ...B } } fragment B on Query { node { leaf } }"
    introspection = "{ __schema { types { fields { name } } } node { leaf } }"
    # Then
    assert operation_cost(inline).depth == 2
    assert operation_cost(through_fragments).depth == 3
    assert operation_cost(introspection).depth == 1


def test_depth_over_the_limit_is_refused() -> None:
    # Given
    def nested(depth: int) -> str:
        return "{ " + "node { " * depth + "leaf" + " }" * depth + " }"

    # Then
    assert messages(nested(MAX_QUERY_DEPTH)) == []
    assert messages(nested(MAX_QUERY_DEPTH + 1)) == [
        f"'anonymous' exceeds maximum operation depth of {MAX_QUERY_DEPTH}"
    ]


def test_aliases_count_once_per_expansion() -> None:
    # Given: four aliases in a fragment spread four times
    fragment = "fragment A on Query { a: leaf b: leaf c: leaf d: leaf }"
    document = "{ ...A ...A node { ...A ...A } } " + fragment
    # Then
    assert operation_cost(document).aliases == 16 > MAX_ALIASES
    assert messages(document) == [f"16 aliases found. Allowed: {MAX_ALIASES}"]


@pytest.mark.parametrize(
    "fragments",
    [
        "fragment A on Query { ...B leaf } fragment B on Query { ...A leaf }",
        "fragment A on Query { node { ...A } }",
        "fragment A on Query { ...Missing leaf } fragment B on Query { ...A }",
    ],
)
def test_cycles_and_unknown_fragments_end_with_finite_costs(fragments: str) -> None:
    # When
    parsed = parse(fragments)
    costs = fragment_costs(
        {node.name.value: node for node in parsed.definitions if isinstance(node, FragmentDefinitionNode)}
    )
    # Then
    assert all(cost.selections <= 4 for cost in costs.values())


def test_a_long_fragment_chain_stays_clear_of_the_recursion_limit() -> None:
    # Given: two thousand fragments, each spreading the next once
    chain = (
        "".join(f"fragment F{i} on Query {{ ...F{i + 1} }} " for i in range(2000)) + "fragment F2000 on Query { leaf }"
    )
    # When
    cost = operation_cost("{ ...F0 } " + chain)
    # Then
    assert cost.selections == 1
