"""GraphQL object types, built from what the services return (never from ORM rows directly).

Sierra record ids are 12-digit numbers, past GraphQL's 32-bit `Int`: they travel as `BigInt`.
Clients are shown without anything about their keys.
"""

from collections.abc import Callable
from datetime import datetime
from types import GenericAlias
from typing import Any, NewType

import strawberry
from graphql import GraphQLError, IntValueNode, ValueNode, print_ast
from pydantic import BaseModel
from strawberry.permission import BasePermission
from strawberry.scalars import JSON

from tarroitus.api.client_schemas import ClientPublic
from tarroitus.api.item_schemas import (
    ClientRef,
    ItemPublic,
    LabelEventPublic,
    LabelPublic,
    LabelStatePublic,
    WritebackPublic,
    label_event_public,
)
from tarroitus.api.status_schemas import (
    ItemProgressPublic,
    JobRunPublic,
    JobStatusPublic,
    QueueStatusPublic,
    StatusPublic,
)
from tarroitus.domain import ClientRole
from tarroitus.services.items import ItemView
from tarroitus.services.labels.prints import PrintedLabel

BigInt = NewType("BigInt", int)
"""A Sierra record id or other integer past 32 bits; the schema maps it to the `BigInt` scalar."""

BIG_INT_MIN = -(2**63)
BIG_INT_MAX = 2**63 - 1


def parse_big_int(value: object) -> int:
    """A variable's value as a 64-bit integer (PostgreSQL's bigint); anything else is a validation error.

    A GraphQLError (not a ValueError) so that graphql-core reports the variable or argument as invalid.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise GraphQLError(f"BigInt cannot represent a non-integer value: {value!r}")
    if not BIG_INT_MIN <= value <= BIG_INT_MAX:
        raise GraphQLError(f"BigInt cannot represent {value}: it must be between {BIG_INT_MIN} and {BIG_INT_MAX}")
    return value


def parse_big_int_literal(node: ValueNode, _variables: dict[str, Any] | None = None) -> int:
    """An inline argument as a 64-bit integer; a string, float or out-of-range number is a validation error."""
    if not isinstance(node, IntValueNode):
        raise GraphQLError(f"BigInt cannot represent a non-integer value: {print_ast(node)}", node)
    try:
        return parse_big_int(int(node.value))
    except GraphQLError as exc:
        raise GraphQLError(exc.message, node) from None


BIG_INT_SCALAR = strawberry.scalar(
    name="BigInt",
    description="An integer from -2^63 to 2^63 - 1 (Sierra record ids), serialised as a JSON number",
    serialize=int,
    parse_value=parse_big_int,
    parse_literal=parse_big_int_literal,
)


def object_type_of(model: type[BaseModel], description: str, *, name: str | None = None) -> Any:
    """The GraphQL object type showing every field of the REST schema `model` as it is.

    Named as the schema less its `Public` (or `name`). A resolver returns the REST schema itself; a field
    declares this type as its `graphql_type`.
    """
    type_name = name or model.__name__.removesuffix("Public")
    as_type = strawberry.experimental.pydantic.type(
        model=model, all_fields=True, name=type_name, description=description
    )
    return as_type(type(type_name, (), {}))


def nullable_field(
    resolver: Callable[..., object],
    graphql_type: Any,
    description: str,
    *,
    many: bool = False,
    permission: type[BasePermission] | None = None,
) -> Any:
    """A field answering `graphql_type` (a list of them when `many`) or null.

    Nullable so that one that fails (a refused argument, not found, forbidden) nulls only itself, not its siblings.
    """
    answers = GenericAlias(list, (graphql_type,)) if many else graphql_type
    return strawberry.field(
        resolver=resolver,
        graphql_type=answers | None,
        description=description,
        permission_classes=[] if permission is None else [permission],
    )


ClientRefType = object_type_of(ClientRef, "A client, by id and name")
Label = object_type_of(LabelPublic, "The label as printed: classification left-aligned, signum right-aligned")
ItemLabelState = object_type_of(
    LabelStatePublic,
    "Whether the label was printed, how often, when and by whom last, and what it shows",
    name="ItemLabelState",
)
ItemWriteback = object_type_of(
    WritebackPublic,
    "Where the item stands in the queue that writes its call number back to Sierra",
    name="ItemWriteback",
)


@strawberry.experimental.pydantic.type(model=ItemPublic, all_fields=True, description="An item's label data")
class Item:
    """The REST item, with its record ids as `BigInt`."""

    item_id: BigInt
    bib_id: BigInt | None


@strawberry.type(description="An item and the cursor of its position in the list")
class ItemEdge:
    cursor: str
    node: Item


@strawberry.type(description="Where a page ends and whether another follows")
class PageInfo:
    has_next_page: bool
    end_cursor: str | None = strawberry.field(description="Pass as `after` for the next page")


@strawberry.type(description="One page of items, by item id")
class ItemConnection:
    edges: list[ItemEdge]
    page_info: PageInfo


@strawberry.experimental.pydantic.type(
    model=LabelEventPublic, all_fields=True, description="A recorded print of a label"
)
class LabelEvent:
    """The REST print event, with its ids as `BigInt` and without its idempotency key."""

    id: BigInt
    item_id: BigInt
    idempotency_key: strawberry.Private[str | None]


@strawberry.experimental.pydantic.type(
    model=ClientPublic,
    all_fields=True,
    description="A registered API client and its last heartbeat (nothing about its key)",
)
class Client:
    """The REST client, its `type` named `role`, without the fields about its key."""

    type: ClientRole = strawberry.field(name="role")
    key_id: strawberry.Private[str]
    key_rotated_at: strawberry.Private[datetime | None]


@strawberry.experimental.pydantic.type(
    model=JobRunPublic, all_fields=True, name="JobRun", description="One run of a scheduled job"
)
class JobRunInfo:
    """The REST job run, its counts as JSON."""

    counts: JSON | None


@strawberry.experimental.pydantic.type(
    model=JobStatusPublic,
    all_fields=True,
    name="JobStatus",
    description="A scheduled job: its mode and cursors, its last run and newest runs",
)
class JobStatusInfo:
    """The REST job status, its cursor as `BigInt`."""

    full_sync_cursor: BigInt | None


ItemProgress = object_type_of(ItemProgressPublic, "Relabelling progress over items that are not deleted")
QueueStatus = object_type_of(QueueStatusPublic, "The writeback queue: entries waiting or being written")
Status = object_type_of(StatusPublic, "The backend state")


def item_of(view: ItemView) -> Item:
    """The GraphQL item of a service item view."""
    return Item.from_pydantic(ItemPublic.model_validate(view))


def label_event_of(printed: PrintedLabel) -> LabelEvent:
    """The GraphQL label event of a recorded print."""
    return LabelEvent.from_pydantic(label_event_public(printed))


def client_of(client: object) -> Client:
    """The GraphQL client of a stored client, read through its public view (nothing about its key)."""
    return Client.from_pydantic(ClientPublic.of(client))
