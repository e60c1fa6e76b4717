"""What a GraphQL request may ask for: depth, size, aliases, page sizes (constants only, cheap to import)."""

MAX_QUERY_DEPTH = 8
"""Nested selections of data fields: `items { edges { node { labelState { lastPrintedBy { name } } } } }` is 5."""

MAX_TOKENS = 2000
"""Tokens in one document (names, brackets, colons): a large query is a few hundred."""

MAX_ALIASES = 15
"""Aliased fields in one document: each can repeat a whole page, so they multiply the work."""

MAX_QUERY_CHARS = 20_000
"""Characters in one document, refused before it is parsed."""

MAX_ITEMS_PAGE = 100
"""Items in one page of `items`."""

MAX_LABEL_EVENTS = 1000
"""Print events in one `labelEvents` answer (the REST limit)."""
