"""Operational rows for ETL and analytics tests: items, clients, label events and writeback attempts.

Values are varied on purpose: NULLs next to empty strings, quotes, commas, newlines and non-Latin
text (they all cross a CSV boundary in the export), events on both sides of UTC midnight,
successful and failed writebacks with several Sierra error codes.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from tarroitus.domain import ClientRole, WritebackStatus
from tarroitus.models import Client, Item, LabelEvent, WritebackAttempt, WritebackEntry
from tests.factories import barcode_for, make_client, make_item, next_item_id

#: The first day events are spread over; tests pick run dates after it.
FIRST_DAY = datetime(2026, 3, 9, tzinfo=UTC)

TITLES = [
    "Seitsemän veljestä",
    'Title with "quotes", commas, and\na newline',
    "",
    None,
    "Война и мир",
    "Tab\tseparated\\backslash",
]
LOCATIONS = [("pk", "Pääkirjasto"), ("lp", "Lasten puoli"), ("vm", None)]
ITEM_TYPES = [(1, "Kirja"), (3, "CD"), (None, None)]
CLASSIFICATIONS = ["84.2", "84.21", "99.1", "1.42", ""]
SIERRA_ERRORS = [(107, 404, "Record not found"), (109, 500, "Internal server error"), (None, 503, "timed out")]


@dataclass
class SeededData:
    """What was inserted, for tests that need ids."""

    items: list[Item] = field(default_factory=list)
    clients: list[Client] = field(default_factory=list)
    events: list[LabelEvent] = field(default_factory=list)
    attempts: list[WritebackAttempt] = field(default_factory=list)


def seed(session: Session, *, items: int = 24, days: int = 3, first_day: datetime = FIRST_DAY) -> SeededData:
    """Insert `items` items, three clients (two printers, one admin) and events over `days` days."""
    data = SeededData()
    for number, role in enumerate([ClientRole.PRINTER, ClientRole.PRINTER, ClientRole.ADMIN]):
        client, _ = make_client(
            session,
            role=role,
            name=f"{role.value}-{number}",
            created_at=first_day - timedelta(days=30),
            last_seen_at=first_day + timedelta(hours=number) if number < 2 else None,
            client_version="2.1.0" if number == 0 else None,
            host_name=f"host-{number}",
            ip_address="192.0.2.7",
        )
        data.clients.append(client)
    for index in range(items):
        location = LOCATIONS[index % len(LOCATIONS)]
        item_type = ITEM_TYPES[index % len(ITEM_TYPES)]
        item = make_item(
            session,
            barcode=None if index % 5 == 0 else "" if index % 5 == 1 else barcode_for(next_item_id()),
            best_author="Kivi, Aleksis" if index % 2 else None,
            best_title=TITLES[index % len(TITLES)],
            itype_code_num=item_type[0],
            item_type_name=item_type[1],
            location_code=location[0],
            location_name=location[1],
            classification=CLASSIFICATIONS[index % len(CLASSIFICATIONS)],
            suppressed=index % 7 == 0,
            deleted=index % 11 == 10,
            sierra_updated_at=first_day - timedelta(days=1, microseconds=index),
            print_count=0,
        )
        data.items.append(item)
    _print_labels(session, data, days=days, first_day=first_day)
    _write_back(session, data, first_day=first_day)
    session.flush()
    return data


def _print_labels(session: Session, data: SeededData, *, days: int, first_day: datetime) -> None:
    printers = data.clients[:2]
    for index, item in enumerate(data.items[: len(data.items) * 2 // 3]):
        for repeat in range(1 + index % 3):
            # Around UTC midnight: the hour before and after, so the day boundary is exercised.
            hour = 23 if repeat else 0
            printed_at = first_day + timedelta(days=index % days, hours=hour, minutes=index, seconds=repeat)
            client = printers[(index + repeat) % 2] if index % 9 else None
            event = LabelEvent(
                item_record_id=item.item_record_id,
                client_id=client.id if client else None,
                classification=item.classification or "",
                signum=item.signum or "",
                printed_at=printed_at,
                source="api" if repeat % 2 == 0 else "legacy",
            )
            data.events.append(event)
            item.print_count += 1
            item.last_printed_at = max(item.last_printed_at or printed_at, printed_at)
            item.last_printed_classification = event.classification or None
            item.last_printed_signum = event.signum
        if index % 4 == 1:
            # Overridden after it was printed: the label on the book is outdated.
            item.classification_override = "99.9"
    session.add_all(data.events)


def _write_back(session: Session, data: SeededData, *, first_day: datetime) -> None:
    for index, item in enumerate(data.items[: len(data.items) // 2]):
        failures = index % 3
        for attempt in range(failures + 1):
            succeeded = attempt == failures and index % 4 != 3
            code, status, message = SIERRA_ERRORS[(index + attempt) % len(SIERRA_ERRORS)]
            data.attempts.append(
                WritebackAttempt(
                    item_record_id=item.item_record_id,
                    attempted_at=first_day + timedelta(days=index % 2, hours=2 + attempt, microseconds=index),
                    outcome=_outcome(succeeded=succeeded, attempt=attempt, last=failures, index=index),
                    classification=item.classification,
                    http_status=200 if succeeded else status,
                    sierra_code=None if succeeded else code,
                    error=None if succeeded else f"{message} (item {item.item_record_id})",
                    duration_ms=100 + index,
                )
            )
        session.add(
            WritebackEntry(
                item_record_id=item.item_record_id,
                status=WritebackStatus.DONE if index % 4 != 3 else WritebackStatus.DEAD,
                classification=item.classification or "",
                attempts=failures + 1,
                completed_at=first_day + timedelta(days=1) if index % 4 != 3 else None,
            )
        )
    session.add_all(data.attempts)


def _outcome(*, succeeded: bool, attempt: int, last: int, index: int) -> str:
    """The writeback job's outcome names: written or skipped, retried, dead-lettered, claim expired."""
    if succeeded:
        return "skipped_as_done" if index % 5 == 0 else "written"
    if attempt == last:
        return "dead_lettered"
    return "claim_expired" if index % 6 == 5 else "failed_retrying"
