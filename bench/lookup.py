"""Benchmark: barcode look-up through the real API Lambda handler, at 1M items (`--quick`: 100,000).

`python bench/lookup.py [--items N] [--requests N] [--quick]`. The items are generated with
`generate_series` in a database of the benchmark's own on the embedded PostgreSQL server: realistic
14-digit barcodes, about 1% of them shared by two items (Sierra barcodes are not unique), a few blank,
a third of the items printed (with a writeback queue entry and the printing client). A printer client is
registered with a real API key.

- value: `GET /api/v1/items/{barcode}` as API Gateway HTTP API (payload 2.0) events, with `X-API-Key`,
  through `functions/api/handler.py:lambda_handler` in this process (Powertools decorators, Mangum,
  FastAPI, the key check, the query, the response model): p50 and p99 latency of REQUESTS sequential
  requests after a warm-up, and requests per second. One in fifty barcodes asked for is a shared one.
- baseline: the same requests through the same handler, with the item query swapped for a naive ORM
  path: `session.query(Item)` with `func.lower(Item.barcode) == barcode.lower()` (a case-insensitive match
  that the barcode index cannot serve), then the writeback entry and the printer's name loaded one query
  per item (N+1). Fewer requests (BASELINE_REQUESTS, at most BASELINE_SECONDS), as each scans the table.
- floor: `GET /api/v1/utils/health-check` through the same handler (no key, no query), as many requests, timed
  in blocks of FLOOR_BLOCK alternating with the look-ups' blocks, so both see the same machine: what the stack
  costs at that moment.

Prints two JSON result lines (bench/common.py): p99 in ms, target under 5 ms, `ratio` = baseline p99 / p99;
and p50 in ms against the health check's p50, target at most HEALTH_CHECK_FACTOR times it.
"""

import argparse
import random
import time
from collections.abc import Collection
from contextlib import AbstractContextManager
from types import ModuleType
from typing import Any
from unittest.mock import patch

from common import api_handler, bench_database, emit, percentile, stopwatch
from sqlalchemy import Connection, Engine, func, text
from sqlalchemy.orm import Session

from tarroitus.domain import ClientRole
from tarroitus.models import Client, Item, WritebackEntry
from tarroitus.repositories import items as items_repository
from tarroitus.repositories.items import Caller, ItemRow
from tarroitus.services.clients import register_client
from tarroitus.settings import DEVELOPMENT_PEPPER
from tests.events import FakeLambdaContext, http_api_event, response_json

DATABASE = "tarroitus_bench_lookup"
TARGET_P99_MS = 5.0
#: The look-up's p50 may be at most this many times the health check's p50 (one round trip to PostgreSQL).
HEALTH_CHECK_FACTOR = 3.0
SIZES = {"full": 1_000_000, "quick": 100_000}
REQUESTS = 2000
WARMUP = 200
BASELINE_REQUESTS = 100
BASELINE_SECONDS = 30.0
#: Look-ups and health checks alternate in blocks of this many requests.
FLOOR_BLOCK = 100
#: One in this many barcodes asked for is shared by two items.
SHARED_EVERY = 50

GENERATE_ITEMS = """
INSERT INTO items (item_record_id, item_number, barcode, bib_record_id, bib_number, best_author, best_title,
    itype_code_num, item_type_name, material_code, material_name, location_code, location_name, status_code,
    status_name, call_number, classification, signum, suppressed, deleted, sierra_created_at, sierra_updated_at,
    synced_at, print_count, last_printed_at, last_printed_by)
SELECT 1000000 + g, 'i' || (1000000 + g),
    CASE WHEN g % 331 = 0 THEN NULL WHEN g % 337 = 0 THEN ''
        ELSE '31234'
            || lpad((((CASE WHEN g % 97 = 0 THEN g - 1 ELSE g END)::bigint * 7919 + 7) % 1000000000)::text, 9, '0')
    END,
    3000000 + g / 3, 'b' || (3000000 + g / 3), 'Kirjoittaja ' || (g % 5000) || ', Etunimi', 'Teoksen nimi ' || g,
    g % 30, 'Aineistolaji ' || (g % 30), CASE WHEN g % 20 = 0 THEN '3' ELSE 'a' END, 'Materiaali ' || (g % 10),
    'h' || (g % 40), 'Toimipiste ' || (g % 40), '-', 'AVAILABLE', '84.2 KIR', (g % 100) || '.' || (g % 7),
    upper(substr(md5(g::text), 1, 3)), g % 50 = 0, g % 211 = 0,
    timestamptz '2015-01-01' + g * interval '1 minute', timestamptz '2026-01-01' + g * interval '1 second',
    now(), CASE WHEN g % 3 = 0 THEN 1 ELSE 0 END,
    CASE WHEN g % 3 = 0 THEN timestamptz '2026-06-01' + g * interval '1 second' END,
    CASE WHEN g % 3 = 0 THEN CAST(:printer AS uuid) END
FROM generate_series(1, :items) AS g
"""
QUEUE_WRITEBACKS = """
INSERT INTO writeback_queue (item_record_id, status, classification, attempts, completed_at)
SELECT item_record_id, 'done', classification, 1, last_printed_at FROM items WHERE print_count > 0
"""
SAMPLE_BARCODES = """
SELECT barcode FROM items TABLESAMPLE SYSTEM (:percent) REPEATABLE (1)
WHERE barcode <> '' AND (item_record_id - 1000000) % 97 NOT IN (0, 96) LIMIT :count
"""
SHARED_BARCODES = "SELECT barcode FROM items WHERE barcode <> '' GROUP BY barcode HAVING count(*) > 1 LIMIT :count"


def main() -> None:
    """Seed the items, time both paths through the handler, print the result line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int)
    parser.add_argument("--requests", type=int, default=REQUESTS)
    parser.add_argument("--quick", action="store_true", help="100,000 items instead of 1M")
    args = parser.parse_args()
    items = args.items or SIZES["quick" if args.quick else "full"]
    with bench_database(DATABASE) as engine:
        with stopwatch() as seeding:
            api_key = seed(engine, items)
        barcodes, shared = sample_barcodes(engine, args.requests + WARMUP, items=items)
        with api_handler(DATABASE) as handler:
            measured, floor = measure(handler, api_key, barcodes, shared, requests=args.requests, floor=True)
            with naive_item_query():
                naive, _ = measure(
                    handler, api_key, barcodes, shared, requests=BASELINE_REQUESTS, budget_seconds=BASELINE_SECONDS
                )
    emit(
        "lookup",
        metric="p99_latency",
        unit="ms",
        value=measured["p99_ms"],
        baseline=naive["p99_ms"],
        target=TARGET_P99_MS,
        higher_is_better=False,
        p50_ms=round(measured["p50_ms"], 3),
        p95_ms=round(measured["p95_ms"], 3),
        requests_per_second=round(measured["requests_per_second"], 1),
        baseline_p50_ms=round(naive["p50_ms"], 3),
        baseline_requests_per_second=round(naive["requests_per_second"], 2),
        requests_per_second_ratio=round(measured["requests_per_second"] / naive["requests_per_second"], 1),
        health_check_p50_ms=round(floor["p50_ms"], 3),
        health_check_p99_ms=round(floor["p99_ms"], 3),
        items=items,
        requests=int(measured["requests"]),
        warmup_requests=WARMUP,
        baseline_requests=int(naive["requests"]),
        shared_barcode_requests=int(measured["shared"]),
        seed_seconds=round(seeding["seconds"], 1),
        path="functions/api/handler.py:lambda_handler, GET /api/v1/items/{barcode}, X-API-Key, in-process",
        baseline_method=(
            "same handler; key, then items by func.lower(barcode) == lower(:barcode), writeback and printer N+1"
        ),
    )
    emit(
        "lookup",
        metric="p50_latency",
        unit="ms",
        value=measured["p50_ms"],
        baseline=floor["p50_ms"],
        target=round(HEALTH_CHECK_FACTOR * floor["p50_ms"], 3),
        higher_is_better=False,
        times_health_check=round(measured["p50_ms"] / floor["p50_ms"], 2),
        target_times_health_check=HEALTH_CHECK_FACTOR,
        health_check_p99_ms=round(floor["p99_ms"], 3),
        items=items,
        requests=int(measured["requests"]),
        baseline_method="GET /api/v1/utils/health-check through the same handler, blocks alternating with look-ups",
    )


def seed(engine: Engine, items: int) -> str:
    """Register a printer client and generate `items` items; return the printer's API key."""
    with Session(engine) as session, session.begin():
        issued = register_client(session, name="bench printer", role=ClientRole.PRINTER, pepper=DEVELOPMENT_PEPPER)
        printer_id, api_key = str(issued.client.id), issued.api_key
    with engine.begin() as connection:
        connection.execute(text(GENERATE_ITEMS), {"items": items, "printer": printer_id})
        connection.execute(text(QUEUE_WRITEBACKS))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE items, writeback_queue, clients"))
    return api_key


def sample_barcodes(engine: Engine, count: int, *, items: int) -> tuple[list[str], set[str]]:
    """`count` barcodes in random order, one in SHARED_EVERY of them shared by two items; and the shared set."""
    percent = min(100.0, 100.0 * 3 * count / items)  # enough blocks for `count` barcodes, with room to spare
    with engine.connect() as connection:
        unique = list(connection.execute(text(SAMPLE_BARCODES), {"count": count, "percent": percent}).scalars())
        shared = list(connection.execute(text(SHARED_BARCODES), {"count": count // SHARED_EVERY + 1}).scalars())
    if len(unique) < count - len(shared) or not shared:
        raise RuntimeError(f"the sample holds {len(unique)} unique and {len(shared)} shared barcodes")
    chosen = unique[: count - count // SHARED_EVERY] + shared[: count // SHARED_EVERY]
    random.Random(1).shuffle(chosen)
    return chosen, set(shared)


def measure(
    handler: ModuleType,
    api_key: str,
    barcodes: list[str],
    shared: set[str],
    *,
    requests: int,
    budget_seconds: float | None = None,
    floor: bool = False,
) -> tuple[dict[str, float], dict[str, float]]:
    """Warm up, then time `requests` look-ups one after another (stopping early past `budget_seconds`).

    With `floor`, as many health checks are timed, in blocks alternating with the look-ups' blocks; their p50
    and p99 are the second figures.
    """
    events = [http_api_event("GET", f"/api/v1/items/{barcode}", headers={"X-API-Key": api_key}) for barcode in barcodes]
    health = http_api_event("GET", "/api/v1/utils/health-check")
    warmup, timed = events[:WARMUP], events[WARMUP : WARMUP + requests]
    for event in warmup[: 20 if budget_seconds else WARMUP]:
        check(handler.lambda_handler(event, FakeLambdaContext()), event, shared)
    latencies: list[float] = []
    floor_latencies: list[float] = []
    started = time.perf_counter()
    for event in timed:
        context = FakeLambdaContext()
        before = time.perf_counter()
        response = handler.lambda_handler(event, context)
        latencies.append(time.perf_counter() - before)
        check(response, event, shared)
        if floor and len(latencies) % FLOOR_BLOCK == 0:
            floor_latencies += [time_health_check(handler, health) for _ in range(FLOOR_BLOCK)]
        if budget_seconds is not None and time.perf_counter() - started > budget_seconds and len(latencies) >= 20:
            break
    elapsed = time.perf_counter() - started - sum(floor_latencies)
    asked = [event["rawPath"].rsplit("/", 1)[1] for event in timed[: len(latencies)]]
    figures = {
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p95_ms": percentile(latencies, 0.95) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "requests_per_second": len(latencies) / elapsed,
        "requests": len(latencies),
        "shared": sum(barcode in shared for barcode in asked),
    }
    floor_figures = (
        {"p50_ms": percentile(floor_latencies, 0.50) * 1000, "p99_ms": percentile(floor_latencies, 0.99) * 1000}
        if floor
        else {}
    )
    return figures, floor_figures


def time_health_check(handler: ModuleType, event: dict[str, Any]) -> float:
    """Seconds of one `GET /api/v1/utils/health-check` through the handler (no key, no query).

    The floor of the stack on this machine at this moment: a latency above the target here is the machine's
    (a shared, loaded 2-core host), not the look-up's.
    """
    before = time.perf_counter()
    response = handler.lambda_handler(event, FakeLambdaContext())
    elapsed = time.perf_counter() - before
    if response["statusCode"] != 200:
        raise RuntimeError(f"health check: {response['statusCode']}")
    return elapsed


def check(response: dict[str, Any], event: dict[str, Any], shared: set[str]) -> None:
    """Every look-up must answer 200 with the items of its barcode (two for a shared barcode)."""
    barcode = event["rawPath"].rsplit("/", 1)[1]
    body = response_json(response)
    expected = 2 if barcode in shared else 1
    if response["statusCode"] != 200 or body["count"] != expected or body["data"][0]["barcode"] != barcode:
        raise RuntimeError(f"GET {event['rawPath']}: {response['statusCode']} {str(body)[:200]}")


def naive_list_by_barcode_for_key(
    connection: Connection, *, key_hash: str, barcode: str | None, roles: Collection[ClientRole]
) -> tuple[Caller | None, list[ItemRow]]:
    """A plausible first implementation: the key's client, then a case-insensitive ORM query and one query per row."""
    session = Session(bind=connection)
    client = session.query(Client).filter(Client.key_hash == key_hash).first()
    if client is None:
        return None, []
    caller = Caller(id=client.id, role=client.role, key_hash=client.key_hash, revoked=client.revoked_at is not None)
    if barcode is None or caller.revoked or caller.role not in roles:
        return caller, []
    rows = []
    for item in session.query(Item).filter(func.lower(Item.barcode) == barcode.lower()).all():
        entry = session.query(WritebackEntry).filter(WritebackEntry.item_record_id == item.item_record_id).first()
        printer = session.query(Client).filter(Client.id == item.last_printed_by).first()
        rows.append(items_repository.item_row_of(item, entry, printer.name if printer else None))
    return caller, sorted(rows, key=lambda row: row.item.item_record_id)


def naive_item_query() -> AbstractContextManager[object]:
    """Inside the block the barcode look-up reads the key and the items with `naive_list_by_barcode_for_key`."""
    return patch.object(items_repository, "list_by_barcode_for_key", naive_list_by_barcode_for_key)


if __name__ == "__main__":
    main()
