"""What a GraphQL request may ask for: depth, size, aliases, page sizes (cheap to import: no GraphQL library)."""

from tarroitus.errors import InvalidInputError

MAX_QUERY_DEPTH = 8
"""Nested selections of data fields: `items { edges { node { labelState { lastPrintedBy { name } } } } }` is 5."""

MAX_TOKENS = 2000
"""Tokens in one document (names, brackets, colons): a large query is a few hundred."""

MAX_ALIASES = 15
"""Aliased fields in one document: each can repeat a whole page, so they multiply the work."""

MAX_SELECTIONS = MAX_TOKENS
"""Field selections once every fragment spread is expanded: fragments save typing, not work, so a document
selects no more than one written out in full could (each selection is at least one token)."""

MAX_QUERY_CHARS = 20_000
"""Characters in one document, refused before it is parsed."""

MAX_ITEMS_PAGE = 100
"""Items in one page of `items`."""

MAX_LABEL_EVENTS = 1000
"""Print events in one `labelEvents` answer (the REST limit)."""


def bounded(name: str, value: int, low: int, high: int) -> int:
    """`value` when low <= value <= high, else InvalidInputError naming the argument."""
    if not low <= value <= high:
        message = f"{name} must be between {low} and {high}"
        raise InvalidInputError(message, details=[{"field": name, "message": message, "type": "out_of_range"}])
    return value
