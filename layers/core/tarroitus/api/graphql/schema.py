"""The GraphQL schema: read-only queries (no mutations), with size, cost, depth and alias limits.

`QueryCostRule` (cost.py) counts selections, depth and aliases with every fragment summed up once;
depth skips introspection fields, which graphql-core's own `MaxIntrospectionDepthRule` (a standard
validation rule) bounds, since their meta-schema is cyclic.
"""

from functools import cache, partial
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import AddValidationRules, MaxTokensLimiter
from strawberry.schema.config import StrawberryConfig

from tarroitus.api.graphql import resolvers
from tarroitus.api.graphql.analytics import Analytics, resolve_analytics
from tarroitus.api.graphql.budget import BudgetedExecutor
from tarroitus.api.graphql.cost import QueryCostRule
from tarroitus.api.graphql.limits import MAX_TOKENS
from tarroitus.api.graphql.permissions import IsAdmin, IsPrinter
from tarroitus.api.graphql.types import (
    BIG_INT_SCALAR,
    BigInt,
    Client,
    Item,
    ItemConnection,
    LabelEvent,
    Status,
    nullable_field,
)


@strawberry.type(description="Read-only queries; printers may read items and label events, admins everything")
class Query:
    item = nullable_field(resolvers.resolve_item, Item, "One item by its Sierra item record id", permission=IsPrinter)
    items_by_barcode = nullable_field(
        resolvers.resolve_items_by_barcode,
        Item,
        "Every item with this barcode (Sierra barcodes are not unique), live items first",
        many=True,
        permission=IsPrinter,
    )
    items = nullable_field(
        resolvers.resolve_items,
        ItemConnection,
        "A page of items by item id, filtered by label and writeback state",
        permission=IsPrinter,
    )
    label_events = nullable_field(
        resolvers.resolve_label_events,
        LabelEvent,
        "An item's print events, newest first (reprints included)",
        many=True,
        permission=IsPrinter,
    )
    clients = nullable_field(
        resolvers.resolve_clients,
        Client,
        "Every registered client, by name, with its last heartbeat (admins)",
        many=True,
        permission=IsAdmin,
    )
    status = nullable_field(
        resolvers.resolve_status,
        Status,
        "Jobs, relabelling progress, the writeback queue and clients (admins)",
        permission=IsAdmin,
    )
    analytics = nullable_field(
        resolve_analytics,
        Analytics,
        "Figures from the aggregate tables the ETL refreshes (admins)",
        permission=IsAdmin,
    )


class QuietSchema(strawberry.Schema):
    """A schema that leaves error logging to the HTTP layer, which logs unexpected errors once, with context."""

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Log nothing here: expected errors are answers, unexpected ones are logged where they are formatted."""


@cache
def get_schema() -> strawberry.Schema:
    """The schema with its limits, built once per process."""
    return QuietSchema(
        query=Query,
        extensions=[
            partial(MaxTokensLimiter, max_token_count=MAX_TOKENS),
            partial(AddValidationRules, [QueryCostRule]),
        ],
        config=StrawberryConfig(scalar_map={BigInt: BIG_INT_SCALAR}),
        execution_context_class=BudgetedExecutor,
    )
