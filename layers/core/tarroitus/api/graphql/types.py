"""GraphQL object types, built from what the services return (never from ORM rows directly).

Sierra record ids are 12-digit numbers, past GraphQL's 32-bit `Int`: they travel as `BigInt`.
Clients are shown without anything about their keys.
"""

import uuid
from datetime import datetime
from typing import Any, NewType, cast

import strawberry
from graphql import GraphQLError, IntValueNode, ValueNode, print_ast
from strawberry.scalars import JSON

from tarroitus.api.client_schemas import ClientPublic
from tarroitus.api.status_schemas import ItemProgressPublic, JobStatusPublic, QueueStatusPublic, StatusPublic
from tarroitus.domain import ClientRole, SyncMode
from tarroitus.services.items import ItemView, LabelState, WritebackState
from tarroitus.services.labels.prints import PrintedLabel
from tarroitus.services.status import BackendStatus

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


@strawberry.type(description="A client, by id and name")
class ClientRef:
    id: uuid.UUID
    name: str | None


@strawberry.type(description="The label as printed: classification left-aligned, signum right-aligned")
class Label:
    line: str | None = strawberry.field(description="Null when the item has no classification to print")
    width: int
    printable: bool


@strawberry.type(description="Whether the label was printed, how often, when and by whom last, and what it shows")
class ItemLabelState:
    state: LabelState
    print_count: int
    last_printed_at: datetime | None
    last_printed_by: ClientRef | None
    last_printed_classification: str | None
    last_printed_signum: str | None


@strawberry.type(description="Where the item stands in the queue that writes its call number back to Sierra")
class ItemWriteback:
    state: WritebackState
    queued_at: datetime | None
    attempts: int
    completed_at: datetime | None
    last_error: str | None


@strawberry.type(description="An item's label data")
class Item:
    item_id: BigInt = strawberry.field(description="Sierra item record id")
    item_number: str | None
    barcode: str | None
    bib_id: BigInt | None
    bib_number: str | None
    title: str | None
    author: str | None
    item_type_code: int | None
    item_type_name: str | None
    material_code: str | None
    material_name: str | None
    location_code: str | None
    call_number: str | None = strawberry.field(description="The call number Sierra has now")
    classification: str | None = strawberry.field(description="The new classification (override, else 097)")
    signum: str = strawberry.field(description='Three characters, or "***" when the bib has no usable main entry')
    label: Label
    label_state: ItemLabelState
    reprint_needed: bool = strawberry.field(
        description="The classification or signum changed since the last print: the label on the book is outdated"
    )
    writeback: ItemWriteback
    suppressed: bool
    deleted: bool


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


@strawberry.type(description="A recorded print of a label")
class LabelEvent:
    id: BigInt
    item_id: BigInt
    client: ClientRef | None
    classification: str
    signum: str
    label_line: str
    printed_at: datetime
    source: str = strawberry.field(description='"api", or "legacy" when printed through the legacy protocol')


@strawberry.type(description="A registered API client and its last heartbeat (nothing about its key)")
class Client:
    id: uuid.UUID
    name: str
    role: ClientRole
    active: bool = strawberry.field(description="False once the client is revoked")
    created_at: datetime
    revoked_at: datetime | None
    last_seen_at: datetime | None
    client_version: str | None
    host_name: str | None
    ip_address: str | None
    printer_state: str | None


@strawberry.type(name="JobRun", description="One run of a scheduled job")
class JobRunInfo:
    started_at: datetime
    finished_at: datetime | None
    outcome: str
    counts: JSON | None = strawberry.field(description="What the run counted (items written, skipped...)")
    error: str | None


@strawberry.type(name="JobStatus", description="A scheduled job: its mode and cursors, its last run and newest runs")
class JobStatusInfo:
    job_name: str
    mode: SyncMode | None
    full_sync_cursor: BigInt | None
    full_sync_completed_at: datetime | None
    changes_since: datetime | None
    last_run_started_at: datetime | None
    last_run_completed_at: datetime | None
    last_run_outcome: str | None
    last_error: str | None
    recent_runs: list[JobRunInfo]


@strawberry.experimental.pydantic.type(
    model=ItemProgressPublic, all_fields=True, description="Relabelling progress over items that are not deleted"
)
class ItemProgress:
    """The REST status's item progress, field for field."""


@strawberry.experimental.pydantic.type(
    model=QueueStatusPublic, all_fields=True, description="The writeback queue: entries waiting or being written"
)
class QueueStatus:
    """The REST status's writeback queue, field for field."""


@strawberry.type(description="The backend state")
class Status:
    server_time: datetime
    sync_mode: SyncMode | None
    jobs: list[JobStatusInfo]
    items: ItemProgress
    writeback_queue: QueueStatus
    clients: list[Client]


def client_ref(client_id: uuid.UUID | None, name: str | None) -> ClientRef | None:
    """A client reference, or None when there is no client."""
    return None if client_id is None else ClientRef(id=client_id, name=name)


def item_of(view: ItemView) -> Item:
    """The GraphQL item of a service item view."""
    state, writeback, printed_by = view.label_state, view.writeback, view.label_state.last_printed_by
    return Item(
        item_id=BigInt(view.item_id),
        item_number=view.item_number,
        barcode=view.barcode,
        bib_id=None if view.bib_id is None else BigInt(view.bib_id),
        bib_number=view.bib_number,
        title=view.title,
        author=view.author,
        item_type_code=view.item_type_code,
        item_type_name=view.item_type_name,
        material_code=view.material_code,
        material_name=view.material_name,
        location_code=view.location_code,
        call_number=view.call_number,
        classification=view.classification,
        signum=view.signum,
        label=Label(line=view.label.line, width=view.label.width, printable=view.label.printable),
        label_state=ItemLabelState(
            state=state.state,
            print_count=state.print_count,
            last_printed_at=state.last_printed_at,
            last_printed_by=None if printed_by is None else client_ref(printed_by.id, printed_by.name),
            last_printed_classification=state.last_printed_classification,
            last_printed_signum=state.last_printed_signum,
        ),
        reprint_needed=view.reprint_needed,
        writeback=ItemWriteback(
            state=writeback.state,
            queued_at=writeback.queued_at,
            attempts=writeback.attempts,
            completed_at=writeback.completed_at,
            last_error=writeback.last_error,
        ),
        suppressed=view.suppressed,
        deleted=view.deleted,
    )


def label_event_of(printed: PrintedLabel) -> LabelEvent:
    """The GraphQL label event of a recorded print."""
    return LabelEvent(
        id=BigInt(printed.id),
        item_id=BigInt(printed.item_id),
        client=client_ref(printed.client_id, printed.client_name),
        classification=printed.classification,
        signum=printed.signum,
        label_line=printed.label_line,
        printed_at=printed.printed_at,
        source=printed.source,
    )


def client_of(client: object) -> Client:
    """The GraphQL client of a stored client, read through its public view (nothing about its key)."""
    public = ClientPublic.of(client)
    return Client(
        id=public.id,
        name=public.name,
        role=public.type,
        active=public.active,
        created_at=public.created_at,
        revoked_at=public.revoked_at,
        last_seen_at=public.last_seen_at,
        client_version=public.client_version,
        host_name=public.host_name,
        ip_address=public.ip_address,
        printer_state=public.printer_state,
    )


def job_status_of(job: JobStatusPublic) -> JobStatusInfo:
    """The GraphQL view of a job's public view."""
    fields = job.model_dump(exclude={"recent_runs", "full_sync_cursor"})
    cursor = None if job.full_sync_cursor is None else BigInt(job.full_sync_cursor)
    runs = [
        JobRunInfo(**run.model_dump(exclude={"counts"}), counts=cast(JSON | None, run.counts))
        for run in job.recent_runs
    ]
    return JobStatusInfo(**fields, full_sync_cursor=cursor, recent_runs=runs)


def status_of(status: BackendStatus) -> Status:
    """The GraphQL view of the backend state, projected from its public (REST) view."""
    public = StatusPublic.of(status)
    return Status(
        server_time=public.server_time,
        sync_mode=public.sync_mode,
        jobs=[job_status_of(job) for job in public.jobs],
        items=ItemProgress.from_pydantic(public.items),
        writeback_queue=QueueStatus.from_pydantic(public.writeback_queue),
        clients=[client_of(client) for client in public.clients],
    )
