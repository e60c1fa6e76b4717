"""Benchmark: the sync agent's `POST /sync` of a 100,000-line gzip TSV (`--quick`: 20,000), in rows per second.

`python bench/ingest_upload.py [--lines N] [--quick]`. The file is what the legacy agent sends
(LEGACY_API.md; built with `tests/uploads.py`): a header row, Sierra database ids, `"` quoting, empty cells
for nulls, `shelfmark_json` as JSON for half the rows and as the Python-literal rendering field agents send
for the other half. It is posted as multipart (`file`, `timestamp`) with the agent's `x-api-key`, in an
API Gateway HTTP API (payload 2.0) event, to `functions/api/handler.py:lambda_handler` in this process:
the gzip stream inflated and parsed a line at a time, validation, mapping with signums (once per distinct
main entry), binary COPY into a staging table chunk by chunk, one merge, the sync state and the upload
record. PostgreSQL is a database of the benchmark's own on the embedded server.

- value: rows per second of that request, into an empty table.
- rss_growth_mib: how far the process's resident memory rose above its level before the request, at its
  peak during the request (sampled from /proc every 2 ms; tests/memory_probe.py).
- baseline: the same handler and request on a sample (BASELINE_LINES rows, other ids), with the staged
  store replaced by per-row ORM writes (`session.get(Item, id)`, then `session.add(Item(**row))` or
  attribute updates; autoflush sends one INSERT per row), the way a first ORM implementation stores rows.

Prints one JSON result line (bench/common.py); `ratio` = value / baseline. Targets: at least
TARGET_ROWS_PER_SECOND, ten times the original backend's 2,200 to 2,500 rows/s measured side by side on
this machine (bench/vs_original.py measures both in one run), and a memory growth under
TARGET_RSS_GROWTH_MIB whatever the file's size.
"""

import argparse
import ast
import json
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from types import ModuleType
from typing import Any
from unittest.mock import patch

import httpx
from common import api_handler, bench_database, emit, peak_rss_mb, stopwatch
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from tarroitus.domain import ClientRole
from tarroitus.models import Item
from tarroitus.services.clients import register_client
from tarroitus.services.sync import uploads as uploads_service
from tarroitus.services.sync.uploads import LegacyUploadReader
from tarroitus.settings import DEVELOPMENT_PEPPER
from tests.events import FakeLambdaContext, http_api_event, response_json
from tests.memory_probe import peak_growth
from tests.uploads import legacy_row, legacy_tsv_gz, shelfmark_json

DATABASE = "tarroitus_bench_ingest"
SIZES = {"full": 100_000, "quick": 20_000}
BASELINE_LINES = {"full": 5_000, "quick": 2_000}
#: Lambda's limit on a synchronous invocation's request payload.
LAMBDA_PAYLOAD_LIMIT = 6 * 1024 * 1024
TARGET_ROWS_PER_SECOND = 25_000.0
TARGET_RSS_GROWTH_MIB = 100.0
#: Sierra database ids are the record number plus the record type letter shifted left by 32 bits.
ITEM_ID = ord("i") << 32
BIB_ID = ord("b") << 32
FIRST_ITEM = 1_000_000
BASELINE_FIRST_ITEM = 5_000_000
AUTHORS = ("Jansson, Tove", "Waltari, Mika", "Kivi, Aleksis", "Linna, Väinö", "Södergran, Edith", "Leino, Eino")
TITLES = ("Taikurin hattu", "Sinuhe egyptiläinen", "Seitsemän veljestä", "Tuntematon sotilas", "Dikter")


def main() -> None:
    """Build the files, post both through the handler, print the result line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int)
    parser.add_argument("--quick", action="store_true", help="20,000 lines instead of 100,000")
    args = parser.parse_args()
    size = "quick" if args.quick else "full"
    lines = args.lines or SIZES[size]
    baseline_lines = min(BASELINE_LINES[size], lines)
    data = legacy_tsv_gz(agent_rows(FIRST_ITEM, lines))
    sample = legacy_tsv_gz(agent_rows(BASELINE_FIRST_ITEM, baseline_lines))
    with bench_database(DATABASE) as engine:
        api_key = register_sync_agent(engine)
        event = upload_event(data, api_key, at=datetime(2026, 11, 23, 8, tzinfo=UTC))
        sample_event = upload_event(sample, api_key, at=datetime(2026, 11, 23, 9, tzinfo=UTC))
        with api_handler(DATABASE) as handler:
            warm_up(handler, api_key)
            with peak_growth() as memory, stopwatch() as bulk:
                post(handler, event, expected=lines)
            with per_row_orm_writes(), stopwatch() as naive:
                post(handler, sample_event, expected=baseline_lines)
        stored = count_items(engine)
    if stored != lines + baseline_lines:
        raise RuntimeError(f"stored {stored} items of {lines + baseline_lines}")
    event_bytes = len(json.dumps(event))
    value = lines / bulk["seconds"]
    emit(
        "ingest_upload",
        metric="rows_per_second",
        unit="rows/s",
        value=value,
        baseline=baseline_lines / naive["seconds"],
        target=TARGET_ROWS_PER_SECOND,
        ok=value >= TARGET_ROWS_PER_SECOND and memory["mib"] < TARGET_RSS_GROWTH_MIB,
        lines=lines,
        seconds=round(bulk["seconds"], 3),
        rss_growth_mib=round(memory["mib"], 1),
        target_rss_growth_mib=TARGET_RSS_GROWTH_MIB,
        gzip_bytes=len(data),
        event_bytes=event_bytes,
        within_lambda_payload_limit=event_bytes <= LAMBDA_PAYLOAD_LIMIT,
        baseline_lines=baseline_lines,
        baseline_seconds=round(naive["seconds"], 3),
        path="functions/api/handler.py:lambda_handler, POST /sync (legacy multipart, x-api-key), in-process",
        baseline_method="same handler and request; rows stored by session.get + session.add per row (autoflush)",
        peak_rss_mib=round(peak_rss_mb(), 1),
    )


def agent_rows(first: int, count: int) -> list[dict[str, Any]]:
    """`count` rows as the agent reads them from Sierra's database, record numbers from `first`."""
    rows = []
    for number in range(first, first + count):
        author = AUTHORS[number % len(AUTHORS)]
        heading = shelfmark_json(author)
        if number % 2:
            heading = json.dumps(ast.literal_eval(heading), ensure_ascii=False)
        rows.append(
            legacy_row(
                ITEM_ID + number,
                item_number=f"i{number}",
                barcode=f"31234{number * 7919 % 1_000_000_000:09d}",
                bib_record_id=BIB_ID + 3_000_000 + number // 2,
                bib_number=f"b{3_000_000 + number // 2}",
                best_author=author,
                best_title=f'{TITLES[number % len(TITLES)]} "{number}"',
                itype_code_num=number % 30,
                material_code="3" if number % 20 == 0 else "a",
                classification=f"{number % 100}.{number % 7}" if number % 40 else None,
                shelfmark_json=heading,
            )
        )
    return rows


def register_sync_agent(engine: Engine) -> str:
    """Register the legacy sync agent (an ETL client: role sync) and return its key."""
    with Session(engine) as session, session.begin():
        issued = register_client(session, name="bench sync agent", role=ClientRole.SYNC, pepper=DEVELOPMENT_PEPPER)
        return issued.api_key


def upload_event(data: bytes, api_key: str, *, at: datetime) -> dict[str, Any]:
    """The agent's multipart POST /sync as an HTTP API event."""
    request = httpx.Request(
        "POST",
        "https://api.example.com/sync",
        files={"file": ("data.tsv.gz", data, "application/gzip")},
        data={"timestamp": at.isoformat()},
    )
    body = request.read()
    headers = {"x-api-key": api_key, "content-type": request.headers["content-type"]}
    return http_api_event("POST", "/sync", headers=headers, body=body)


def warm_up(handler: ModuleType, api_key: str) -> None:
    """The agent's `GET /sync` first, so the timed request finds the Lambda warm (connections, imports)."""
    response = handler.lambda_handler(
        http_api_event("GET", "/sync", headers={"x-api-key": api_key}), FakeLambdaContext()
    )
    if response["statusCode"] != 200:
        raise RuntimeError(f"GET /sync: {response['statusCode']} {response.get('body')}")


def post(handler: ModuleType, event: dict[str, Any], *, expected: int) -> None:
    """Invoke the handler; the upload must be accepted whole."""
    response = handler.lambda_handler(event, FakeLambdaContext())
    body = response_json(response)
    if response["statusCode"] != 200 or body != {"upserted": expected}:
        raise RuntimeError(f"POST /sync: {response['statusCode']} {str(body)[:300]}")


def per_row_store(session: Session, reader: LegacyUploadReader) -> None:
    """Store the upload's rows one ORM object at a time: look the item up, then update it or add a new one."""
    for values in (values for chunk in reader.staged_chunks() for values in chunk):
        row = dict(zip(reader.columns, values[1:], strict=True))
        if isinstance(row.get("main_entry"), str):
            row["main_entry"] = json.loads(str(row["main_entry"]))
        item = session.get(Item, row["item_record_id"])
        if item is None:
            session.add(Item(**row))
        else:
            for column, value in row.items():
                setattr(item, column, value)
    session.flush()


def per_row_orm_writes() -> AbstractContextManager[object]:
    """Inside the block the upload service stores rows with `per_row_store`."""
    return patch.object(uploads_service, "_store", per_row_store)


def count_items(engine: Engine) -> int:
    """Items stored."""
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(Item)) or 0)


if __name__ == "__main__":
    main()
