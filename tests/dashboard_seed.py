"""A relabelling project in mid-flight, for the dashboard tests: stations, prints over two weeks, a writeback queue
with done, queued and dead-lettered items, and a sync run."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from tarroitus.domain import SYNC_JOB_NAME, ClientRole, SyncMode, WritebackStatus
from tarroitus.models import Client, Item, LabelEvent, WritebackEntry
from tarroitus.repositories import job_state
from tarroitus.repositories.writeback import enqueue_item
from tarroitus.services.analytics import refresh_aggregates
from tarroitus.services.items import label_line_of
from tests.factories import make_client, make_item

PRINT_DAYS = 14
DEAD_ERRORS = (
    (116, "Invalid varField: the call number field is too long (max 100 characters)"),
    (132, "Record locked: item i1234567 is being edited in Sierra"),
)
#: What Sierra accepted and refused of the first dead letter's write.
DEAD_PARTS = (["call_number", "internal_use"], ["inventory_date"])


@dataclass(frozen=True)
class SeededProject:
    """What the seed created that a test refers to."""

    admin_key: str
    stations: dict[str, Client]
    dead_item_ids: list[int]
    reprint_item_ids: list[int]
    printed_per_day: dict[str, int]


def _station(session: Session, name: str, seen_ago: timedelta | None, **reported: str) -> Client:
    last_seen = None if seen_ago is None else datetime.now(UTC) - seen_ago
    return make_client(session, role=ClientRole.PRINTER, name=name, last_seen_at=last_seen, **reported)[0]


def _print(session: Session, item: Item, station: Client, printed_at: datetime) -> None:
    line = label_line_of(item)
    assert line is not None and item.classification and item.signum
    session.add(
        LabelEvent(
            item_record_id=item.item_record_id,
            client_id=station.id,
            classification=item.classification,
            signum=item.signum,
            printed_at=printed_at,
            source="api",
        )
    )
    item.print_count += 1
    item.last_printed_at = printed_at
    item.last_printed_by = station.id
    item.last_printed_classification = item.classification
    item.last_printed_signum = item.signum


def _queue(session: Session, item: Item, status: WritebackStatus, at: datetime, error: tuple[int, str] | None) -> None:
    assert item.classification
    enqueue_item(session, item_record_id=item.item_record_id, classification=item.classification, now=at)
    entry = session.get(WritebackEntry, item.item_record_id)
    assert entry is not None
    entry.status = status
    if status in (WritebackStatus.DONE, WritebackStatus.DEAD):
        entry.completed_at = at + timedelta(minutes=5)
    if error is not None:
        entry.attempts = 8
        entry.last_error_code, entry.last_error = error


def seed_project(session: Session) -> SeededProject:
    """3 stations, 40 items, prints over PRINT_DAYS days, a writeback queue, a sync run, refreshed aggregates."""
    now = datetime.now(UTC).replace(microsecond=0)
    _, admin_key = make_client(session, role=ClientRole.ADMIN, name="operaattori")
    stations = {
        "pasila-1": _station(
            session,
            "pasila-1",
            timedelta(minutes=2),
            host_name="pasila-ws-01",
            client_version="2.4.1",
            printer_state="ready",
        ),
        "kallio-2": _station(
            session,
            "kallio-2",
            timedelta(hours=3),
            host_name="kallio-ws-02",
            client_version="2.4.0",
            printer_state="paper out",
        ),
        "itis-3": _station(session, "itis-3", None),
    }
    classes = ["84.2", "99.1", "78.891", "46.4", "1.42", "85.3"]
    items = [
        make_item(session, classification=classes[n % len(classes)], signum=f"A{n % 10}K", location_code="pas")
        for n in range(34)
    ]
    for _ in range(3):
        make_item(session, classification=None, signum=None, main_entry=None)
    for _ in range(3):
        make_item(session, deleted=True)
    printed_per_day: dict[str, int] = {}
    printers = [stations["pasila-1"], stations["kallio-2"]]
    for n, item in enumerate(items[:26]):
        printed_at = now - timedelta(days=(n * 5) % PRINT_DAYS, hours=n % 7)
        _print(session, item, printers[n % 2], printed_at)
        day = printed_at.date().isoformat()
        printed_per_day[day] = printed_per_day.get(day, 0) + 1
    dead = items[:2]
    for item, error in zip(dead, DEAD_ERRORS, strict=True):
        _queue(session, item, WritebackStatus.DEAD, now - timedelta(days=2), error)
    first_dead = session.get(WritebackEntry, dead[0].item_record_id)
    assert first_dead is not None
    first_dead.written_parts, first_dead.refused_parts = DEAD_PARTS
    for item in items[2:17]:
        _queue(session, item, WritebackStatus.DONE, now - timedelta(days=1), None)
    for item in items[17:26]:
        _queue(session, item, WritebackStatus.QUEUED, now - timedelta(minutes=20), None)
    # Changed since printed: an override on one, a new heading on another's bib.
    items[24].classification_override = "99.9"
    items[25].signum = "ZZZ"
    state = job_state.get_or_create(session, job_name=SYNC_JOB_NAME)
    state.mode = SyncMode.CHANGES
    state.changes_since = now - timedelta(minutes=10)
    state.full_sync_completed_at = now - timedelta(days=20)
    run = job_state.add_run(session, job_name=SYNC_JOB_NAME, started_at=now - timedelta(minutes=9))
    job_state.finish_run(
        session,
        run_id=run.id,
        job_name=SYNC_JOB_NAME,
        finished_at=now - timedelta(minutes=8),
        outcome="succeeded",
        counts={"items": 31, "bibs": 12, "deleted": 1},
        error=None,
    )
    session.flush()
    refresh_aggregates(session, since=None)
    return SeededProject(
        admin_key=admin_key,
        stations=stations,
        dead_item_ids=[item.item_record_id for item in dead],
        reprint_item_ids=[items[24].item_record_id, items[25].item_record_id],
        printed_per_day=printed_per_day,
    )
