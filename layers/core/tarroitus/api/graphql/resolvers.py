"""Query resolvers: check the arguments, call one service function, convert what it returns."""

from typing import Annotated

import strawberry
from strawberry import Info

from tarroitus.api.graphql.context import GraphQLContext
from tarroitus.api.graphql.cursors import decode_item_cursor, encode_item_cursor
from tarroitus.api.graphql.limits import MAX_ITEMS_PAGE, MAX_LABEL_EVENTS, bounded
from tarroitus.api.graphql.types import (
    BigInt,
    Client,
    Item,
    ItemConnection,
    ItemEdge,
    LabelEvent,
    PageInfo,
    client_of,
    item_of,
    label_event_of,
)
from tarroitus.api.status_schemas import StatusPublic
from tarroitus.services import clients as clients_service
from tarroitus.services import items as items_service
from tarroitus.services import status as status_service
from tarroitus.services.items import LabelState, WritebackState
from tarroitus.services.labels import prints as labels_service

Context = Info[GraphQLContext, None]


def resolve_item(info: Context, item_id: Annotated[BigInt, strawberry.argument(description="Sierra item id")]) -> Item:
    """One item by its Sierra item record id."""
    return item_of(items_service.get_item(info.context.session, item_id=item_id))


def resolve_items_by_barcode(
    info: Context,
    barcode: str,
    label_width: Annotated[int, strawberry.argument(description="Characters in the label line")] = (
        items_service.LABEL_WIDTH
    ),
) -> list[Item]:
    """Every item with this barcode (Sierra barcodes are not unique), live items first."""
    width = bounded("labelWidth", label_width, 8, 120)
    views = items_service.find_items_by_barcode(info.context.session, barcode=barcode, width=width)
    return [item_of(view) for view in views]


def resolve_items(
    info: Context,
    first: int = 50,
    after: Annotated[str | None, strawberry.argument(description="The endCursor of the previous page")] = None,
    label_state: LabelState | None = None,
    writeback_state: WritebackState | None = None,
    has_classification: bool | None = None,
    reprint_needed: Annotated[
        bool | None, strawberry.argument(description="Only items whose label is outdated (true), or the others")
    ] = None,
    search: Annotated[
        str | None, strawberry.argument(description="Barcode prefix, exact item number, or part of title or author")
    ] = None,
    include_deleted: bool = False,
) -> ItemConnection:
    """A page of items by item id, filtered by label, reprint and writeback state."""
    limit = bounded("first", first, 1, MAX_ITEMS_PAGE)
    if search is not None:
        bounded("search length", len(search), 1, 200)
    filters = items_service.ItemFilter(
        label_state=label_state,
        writeback_state=writeback_state,
        has_classification=has_classification,
        reprint_needed=reprint_needed,
        search=search,
        include_deleted=include_deleted,
    )
    start = None if after is None else decode_item_cursor(after)
    page = items_service.list_items(info.context.session, filters=filters, after=start, limit=limit)
    edges = [ItemEdge(cursor=encode_item_cursor(view.item_id), node=item_of(view)) for view in page.items]
    page_info = PageInfo(has_next_page=page.next_after is not None, end_cursor=edges[-1].cursor if edges else None)
    return ItemConnection(edges=edges, page_info=page_info)


def resolve_label_events(info: Context, item_id: BigInt, first: int = 100) -> list[LabelEvent]:
    """An item's print events, newest first (reprints included)."""
    limit = bounded("first", first, 1, MAX_LABEL_EVENTS)
    printed = labels_service.list_prints(info.context.session, item_id=item_id, limit=limit)
    return [label_event_of(event) for event in printed]


def resolve_clients(info: Context) -> list[Client]:
    """Every registered client, by name, with its last heartbeat."""
    return [client_of(client) for client in clients_service.list_clients(info.context.session)]


def resolve_status(info: Context) -> StatusPublic:
    """Sync mode and runs per job, item progress, the writeback queue and every client's last heartbeat."""
    return StatusPublic.of(status_service.read_backend_status(info.context.session))
