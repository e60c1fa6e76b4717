"""``python -m tarroitus writeback``: preview or write the next queued items, for going live against a new Sierra.

- ``--dry-run --items N``: read the next N due items from the queue and from the configured Sierra and print,
  per item, the current call number, the PUT body the writeback would send and the call number that would
  result. Nothing is written, to Sierra or to the queue.
- ``--items N``: write the next N due items now, as a scheduled run would (holding the job's lease, recording
  every outcome), then read each back from Sierra and print what it holds.

Both print JSON on stdout. Exit codes: 0 done; 1 an item was not written (or, in a dry run, could not be
read); 2 Sierra is unreachable, in maintenance, or refused the credentials.
"""

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from functools import partial
from typing import Any

from tarroitus.db import get_engine
from tarroitus.errors import TarroitusError
from tarroitus.jobs.sierra_connection import build_writeback_client
from tarroitus.jobs.sierra_writeback import run_writeback
from tarroitus.repositories import writeback as queue
from tarroitus.repositories.transactions import session_scope
from tarroitus.services.writeback.dry_run import MAX_DRY_RUN_ITEMS, preview_writeback
from tarroitus.services.writeback.plan import call_number_fields, call_number_text
from tarroitus.services.writeback.queue import ITEM_READ_FIELDS
from tarroitus.settings import Settings, get_settings
from tarroitus.sierra import SierraAuthError, SierraClient, SierraError, SierraUnavailableError

EXIT_NOT_WRITTEN = 1
EXIT_SIERRA_UNAVAILABLE = 2
#: How long a write from the command line may start items for, and the lease it holds meanwhile.
WRITE_BUDGET_SECONDS = 600
LEASE_SECONDS = 900


def register(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add the writeback command."""
    parser = subparsers.add_parser(
        "writeback",
        help="preview (--dry-run) or write the next queued items to Sierra",
        description=(
            "With --dry-run, show for the next N queued items the current call number, the PUT body the "
            "writeback would send and the resulting call number, writing nothing. Without it, write those N "
            "items now and read them back from Sierra."
        ),
    )
    parser.add_argument("--dry-run", action="store_true", help="read and plan only; write nothing")
    parser.add_argument(
        "--items", type=_item_count, required=True, help=f"how many queued items (1-{MAX_DRY_RUN_ITEMS})"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Preview or write `args.items` queued items; print JSON; exit code as the module says."""
    settings = get_settings()
    try:
        if args.dry_run:
            return _dry_run(settings, args.items)
        with build_writeback_client(settings) as sierra:
            return _write(settings, sierra, args.items)
    except (SierraAuthError, SierraUnavailableError, TarroitusError) as exc:
        message = exc.message if isinstance(exc, TarroitusError) else str(exc)
        sys.stderr.write(f"writeback: {message}\n")
        return EXIT_SIERRA_UNAVAILABLE


def _dry_run(settings: Settings, items: int) -> int:
    with session_scope(get_engine(settings)) as session:
        previews = preview_writeback(
            session, partial(build_writeback_client, settings), settings=settings, items=items, now=datetime.now(UTC)
        )
    _print({"dry_run": True, "items": [preview.model_dump() for preview in previews]})
    return EXIT_NOT_WRITTEN if any(preview.error for preview in previews) else 0


def _write(settings: Settings, sierra: SierraClient, items: int) -> int:
    engine = get_engine(settings)
    with session_scope(engine) as session:
        ids = [entry.item_record_id for entry in queue.list_due(session, now=datetime.now(UTC), limit=items)]
    result = None
    if ids:
        stop_at = time.monotonic() + WRITE_BUDGET_SECONDS
        result = run_writeback(
            engine, sierra, settings=settings, stop_at=stop_at, lease_seconds=LEASE_SECONDS, item_record_ids=ids
        )
    with session_scope(engine) as session:
        statuses = {
            item_id: entry.status.value if entry is not None else None
            for item_id in ids
            for entry in [queue.get_entry(session, item_record_id=item_id)]
        }
    read_back = [_read_back(sierra, settings, item_id, statuses[item_id]) for item_id in ids]
    _print({"dry_run": False, "run": result, "items": read_back})
    return 0 if all(item["status"] == "done" for item in read_back) else EXIT_NOT_WRITTEN


def _read_back(sierra: SierraClient, settings: Settings, item_id: int, status: str | None) -> dict[str, Any]:
    """What Sierra holds for the item now: its call-number fields and the two fixed fields the writeback sets."""
    found: dict[str, Any] = {"item_record_id": item_id, "status": status}
    try:
        item = sierra.get_item(item_id, fields=ITEM_READ_FIELDS).model_dump(by_alias=True, exclude_none=True)
    except SierraError as exc:
        return {**found, "error": str(exc)}
    fixed = item.get("fixedFields", {})
    inventory = fixed.get(str(settings.sierra_update_invda_field_number), {})
    internal_use = fixed.get(str(settings.sierra_update_iuse3_field_number), {})
    return {
        **found,
        "call_number_fields": [call_number_text(field) for field in call_number_fields(item.get("varFields"))],
        "inventory_date": inventory.get("value"),
        "internal_use": internal_use.get("value"),
    }


def _item_count(value: str) -> int:
    count = int(value) if value.strip().isdigit() else 0
    if not 1 <= count <= MAX_DRY_RUN_ITEMS:
        raise argparse.ArgumentTypeError(f"give a number of items from 1 to {MAX_DRY_RUN_ITEMS}")
    return count


def _print(document: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2, default=_json_value) + "\n")


def _json_value(value: object) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)
