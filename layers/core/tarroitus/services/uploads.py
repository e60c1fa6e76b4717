"""Sync uploads: the legacy agent's gzip TSV batches and Parquet files, parsed, validated and upserted.

A file is read completely before anything is written, and the whole upload is one transaction: a
bad file is rejected with the line (TSV) or row (Parquet) at fault and changes nothing. Uploads are
recorded by content hash (file, format and timestamp), so a repeated upload is recognised and
answered with the same count without being applied again.

Sync state follows the legacy protocol (LEGACY_API.md): in full mode the batch's greatest
`item_record_id` (as the agent sent it) becomes the cursor and a batch shorter than the batch size
completes the full sync, with the first batch's timestamp as the watermark; in changes mode the
watermark becomes the batch's timestamp. An upload without a timestamp leaves the state alone.

Parquet needs polars, which only the analytics layer carries: it is imported when a Parquet file
arrives, never when the API starts.
"""

import csv
import gzip
import hashlib
import io
import uuid
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from aws_lambda_powertools import Tracer
from sqlalchemy.orm import Session

from tarroitus.errors import BadRequestError, InvalidInputError, PayloadTooLargeError
from tarroitus.models import JobState, SyncMode, SyncUpload
from tarroitus.repositories.item_upserts import upsert_items
from tarroitus.services.item_mapping import ItemRow, RowError, legacy_columns, map_legacy_row
from tarroitus.services.sync_state import begin_full_sync, complete_full_sync, current_mode, lock_sync_state

UploadFormat = Literal["tsv.gz", "parquet"]

GZIP_MAGIC = b"\x1f\x8b"
PARQUET_MAGIC = b"PAR1"
#: A decompressed TSV may be this many times larger than the configured request body limit.
MAX_EXPANSION = 20
_MAX_DETAILS = 20

tracer = Tracer(auto_patch=False)


@dataclass(frozen=True)
class ParsedUpload:
    """A validated upload: the item columns it writes, its rows, and the greatest id as the agent sent it."""

    columns: tuple[str, ...]
    rows: list[ItemRow]
    max_source_id: int | None


@dataclass(frozen=True)
class UploadResult:
    """What an upload did: rows upserted, whether it was a repeat, and the sync mode afterwards."""

    upserted: int
    repeated: bool
    sync_mode: SyncMode
    file_format: UploadFormat


def detect_format(data: bytes) -> UploadFormat:
    """Tell a gzip TSV from a Parquet file by their magic bytes."""
    if data.startswith(GZIP_MAGIC):
        return "tsv.gz"
    if data.startswith(PARQUET_MAGIC):
        return "parquet"
    raise BadRequestError("The file is neither gzip-compressed TSV nor Parquet", code="unsupported_file")


def parse_tsv_gzip(data: bytes, *, max_uncompressed_bytes: int) -> ParsedUpload:
    """Read a gzip TSV batch (header row, `"` quoting, empty cell = null, UTF-8) into item rows."""
    return parse_tsv(_gunzip(data, max_uncompressed_bytes))


def parse_tsv(raw: bytes) -> ParsedUpload:
    """Read a decompressed TSV batch into item rows."""
    text = _decode(raw)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t", quotechar='"', strict=True)
    try:
        header = _header(next(reader, None))
        rows = [(reader.line_num, cells) for cells in _data_rows(reader)]
    except csv.Error as exc:
        raise _line_error(reader.line_num, None, f"malformed TSV: {exc}") from exc
    records: list[tuple[int, dict[str, object]]] = []
    for line, cells in rows:
        if len(cells) != len(header):
            raise _line_error(line, None, f"expected {len(header)} cells, found {len(cells)}")
        records.append((line, {name: cell or None for name, cell in zip(header, cells, strict=True)}))
    return _mapped(header, records, unit="line")


def parse_parquet(data: bytes) -> ParsedUpload:
    """Read a Parquet file with the legacy upload's columns into item rows (needs the analytics layer)."""
    frame = read_untrusted_parquet(
        data, code="bad_parquet", unavailable="Parquet uploads need the analytics layer; send gzip TSV instead"
    )
    header = [str(name) for name in frame.columns]
    records = [(number, dict(row)) for number, row in enumerate(frame.iter_rows(named=True), start=1)]
    return _mapped(_header(header), records, unit="row")


def read_untrusted_parquet(data: bytes, *, code: str, unavailable: str) -> Any:
    """A polars frame from uploaded bytes; a file polars cannot read is a BadRequestError with `code`.

    Without the analytics layer (no polars) it is an InvalidInputError "parquet_unsupported" saying
    `unavailable`. polars raises several unrelated types for unreadable files, and its Rust code panics
    on some damaged ones: pyo3 raises that as `PanicException`, a BaseException, which would otherwise
    escape every `except Exception` up to the Lambda runtime.
    """
    try:
        import polars as pl
    except ImportError as exc:
        raise InvalidInputError(unavailable, code="parquet_unsupported") from exc
    try:
        return pl.read_parquet(io.BytesIO(data))
    except Exception as exc:
        raise BadRequestError(f"The file is not readable Parquet: {exc}"[:300], code=code) from exc
    except BaseException as exc:
        if type(exc).__name__ != "PanicException":
            raise
        raise BadRequestError("The file is not readable Parquet (damaged)", code=code) from exc


@tracer.capture_method(capture_response=False)
def apply_sync_upload(
    session: Session,
    *,
    data: bytes,
    timestamp: datetime | None,
    batch_size: int,
    max_request_body_bytes: int,
    client_id: uuid.UUID | None = None,
    allowed_formats: Sequence[UploadFormat] = ("tsv.gz", "parquet"),
) -> UploadResult:
    """Validate and upsert one uploaded batch and advance the sync state; a repeat is not applied again."""
    if len(data) > max_request_body_bytes:
        raise PayloadTooLargeError(f"The file exceeds {max_request_body_bytes} bytes")
    file_format = detect_format(data)
    if file_format not in allowed_formats:
        raise BadRequestError(f"This endpoint accepts {', '.join(allowed_formats)} files", code="unsupported_file")
    moment = _aware(timestamp)
    # A TSV batch is recognised by its decompressed text: gzip stamps the compression time into its
    # header, so an agent re-sending the same batch produces different bytes.
    content = data if file_format == "parquet" else _gunzip(data, max_request_body_bytes * MAX_EXPANSION)
    digest = upload_digest(content, file_format=file_format, timestamp=moment)
    state = lock_sync_state(session)
    previous = session.get(SyncUpload, digest)
    if previous is not None:
        return UploadResult(previous.row_count, repeated=True, sync_mode=current_mode(state), file_format=file_format)
    parsed = parse_parquet(data) if file_format == "parquet" else parse_tsv(content)
    if parsed.rows:
        upsert_items(session, rows=parsed.rows, columns=parsed.columns)
    if moment is not None:
        _advance_state(state, parsed, timestamp=moment, batch_size=batch_size)
    session.add(
        SyncUpload(content_sha256=digest, client_id=client_id, row_count=len(parsed.rows), file_format=file_format)
    )
    session.flush()
    return UploadResult(len(parsed.rows), repeated=False, sync_mode=current_mode(state), file_format=file_format)


def upload_digest(data: bytes, *, file_format: str, timestamp: datetime | None) -> str:
    """The key an upload is recognised by: its content (TSV decompressed), format and timestamp."""
    digest = hashlib.sha256()
    digest.update(f"{file_format}\n{timestamp.isoformat() if timestamp else ''}\n".encode())
    digest.update(data)
    return digest.hexdigest()


def _advance_state(state: JobState, parsed: ParsedUpload, *, timestamp: datetime, batch_size: int) -> None:
    if current_mode(state) is SyncMode.CHANGES:
        state.changes_since = timestamp
        return
    begin_full_sync(state, started_at=timestamp)
    if parsed.max_source_id is not None:
        state.full_sync_cursor = max(state.full_sync_cursor, parsed.max_source_id)
    if len(parsed.rows) < batch_size:
        complete_full_sync(state, completed_at=datetime.now(UTC))


def _aware(timestamp: datetime | None) -> datetime | None:
    if timestamp is None or timestamp.tzinfo is not None:
        return timestamp
    return timestamp.replace(tzinfo=UTC)


def _gunzip(data: bytes, limit: int) -> bytes:
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            raw = stream.read(limit + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise BadRequestError(f"The file is not valid gzip: {exc}", code="bad_gzip") from exc
    if len(raw) > limit:
        raise PayloadTooLargeError(f"The decompressed file exceeds {limit} bytes")
    return raw


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise _line_error(line, None, "not valid UTF-8") from exc


def _header(cells: Sequence[str] | None) -> list[str]:
    if not cells:
        raise _line_error(1, None, "the header row is missing")
    header = [cell.strip() for cell in cells]
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        raise _line_error(1, None, f"repeated columns in the header: {', '.join(duplicates)}")
    try:
        legacy_columns(header)
    except RowError as exc:
        raise _line_error(1, exc.column, str(exc)) from exc
    return header


def _data_rows(reader: Iterator[list[str]]) -> Iterator[list[str]]:
    for cells in reader:
        if cells and any(cells):
            yield cells


def _mapped(header: list[str], records: list[tuple[int, dict[str, object]]], *, unit: str) -> ParsedUpload:
    rows: list[ItemRow] = []
    errors: list[dict[str, Any]] = []
    max_source_id: int | None = None
    for number, record in records:
        try:
            rows.append(map_legacy_row(record))
        except RowError as exc:
            errors.append({unit: number, "column": exc.column, "message": str(exc)})
            continue
        source_id = int(str(record["item_record_id"]).strip())
        max_source_id = source_id if max_source_id is None else max(max_source_id, source_id)
    if errors:
        first = errors[0]
        raise BadRequestError(
            f"{unit} {first[unit]}: {first['message']} ({len(errors)} bad {unit}s; nothing was written)",
            code="bad_upload",
            details=errors[:_MAX_DETAILS],
        )
    return ParsedUpload(columns=legacy_columns(header), rows=rows, max_source_id=max_source_id)


def _line_error(line: int, column: str | None, message: str) -> BadRequestError:
    return BadRequestError(
        f"line {line}: {message}; nothing was written",
        code="bad_upload",
        details=[{"line": line, "column": column, "message": message}],
    )
