"""Sync uploads: the legacy agent's gzip TSV batches and Parquet files, streamed, validated and upserted.

A file is read as a stream (`upload_streams`): a gzip TSV is inflated and parsed a line at a time, a
Parquet file a batch at a time, both within `MAX_UPLOAD_INFLATED_BYTES` (413 the moment it is
passed). Rows are validated against what their item columns can hold and copied into a staging
table CHUNK_ROWS at a time, then merged into `items` once. The whole upload is one transaction: a
bad file is rejected with the line (TSV) or row (Parquet) and column at fault and changes nothing.
Uploads are recorded by content hash (file, format and timestamp), so a repeated upload is
recognised and answered with the same count without being applied again.

Sync state follows the legacy protocol (LEGACY_API.md): in full mode the batch's greatest
`item_record_id` (as the agent sent it) becomes the cursor and a batch shorter than the batch size
completes the full sync, with the first batch's timestamp as the watermark; in changes mode the
watermark becomes the batch's timestamp. An upload without a timestamp leaves the state alone.
"""

import csv
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from aws_lambda_powertools import Tracer
from sqlalchemy.orm import Session

from tarroitus.domain import SyncMode
from tarroitus.errors import BadRequestError
from tarroitus.models import JobState, SyncUpload
from tarroitus.repositories.item_upserts import ItemStage, StagedRowError
from tarroitus.services.sync.item_mapping import LegacyRows, RowError, legacy_columns
from tarroitus.services.sync.state import (
    begin_full_sync,
    check_sync_timestamp,
    complete_full_sync,
    current_mode,
    lock_sync_state,
)
from tarroitus.services.upload_streams import (
    GZIP_MAGIC,
    PARQUET_MAGIC,
    InflatedSize,
    ParquetReader,
    Reader,
    inflated_digest,
    peek,
    text_lines,
)
from tarroitus.settings import Settings

UploadFormat = Literal["tsv.gz", "parquet"]

#: Rows copied into the staging table at a time.
CHUNK_ROWS = 5_000
_MAX_DETAILS = 20
_PARQUET_UNAVAILABLE = "Parquet uploads need the analytics layer; send gzip TSV instead"
DEFAULT_INFLATED_LIMIT: int = Settings.model_fields["max_upload_inflated_bytes"].default

tracer = Tracer(auto_patch=False)


@dataclass(frozen=True)
class UploadResult:
    """What an upload did: rows upserted, whether it was a repeat, and the sync mode afterwards."""

    upserted: int
    repeated: bool
    sync_mode: SyncMode
    file_format: UploadFormat


class LegacyUploadReader:
    """The rows of one upload in the legacy columns, mapped as they are read.

    `records` gives each row's position (line or row number) and cells in header order. Bad rows are
    collected while reading goes on, so the refusal lists them all (up to _MAX_DETAILS) and names
    the first; once one is found nothing more is handed on. `count` and `max_source_id` (the greatest
    `item_record_id` as the agent sent it) grow as rows are read.
    """

    def __init__(self, header: Sequence[str], records: Iterable[tuple[int, Sequence[object]]], *, unit: str) -> None:
        self.unit = unit
        self.header = _checked_header(header)
        self.rows = LegacyRows(self.header)
        self.count = 0
        self.max_source_id: int | None = None
        self._records = records
        self._id_position = list(header).index("item_record_id")

    @property
    def columns(self) -> tuple[str, ...]:
        """The item columns the upload writes."""
        return self.rows.columns

    def staged_chunks(self) -> Iterator[list[list[object]]]:
        """Rows as the item stage takes them (position, then values), CHUNK_ROWS at a time."""
        chunk: list[list[object]] = []
        for position, values in self._mapped(self.rows.staged):
            values.insert(0, position)
            chunk.append(values)
            if len(chunk) == CHUNK_ROWS:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def _mapped[T](self, convert: Callable[[Sequence[object]], T]) -> Iterator[tuple[int, T]]:
        errors: list[dict[str, Any]] = []
        bad = 0
        for position, cells in self._records:
            try:
                mapped = convert(cells)
            except RowError as exc:
                bad += 1
                if len(errors) < _MAX_DETAILS:
                    errors.append({self.unit: position, "column": exc.column, "message": str(exc)})
                continue
            self.count += 1
            source_id = int(str(cells[self._id_position]).strip())
            if self.max_source_id is None or source_id > self.max_source_id:
                self.max_source_id = source_id
            if not errors:
                yield position, mapped
        if errors:
            first = errors[0]
            raise BadRequestError(
                f"{self.unit} {first[self.unit]}: {first['message']} ({bad} bad {self.unit}s; nothing was written)",
                code="bad_upload",
                details=errors,
            )


def detect_format(data: bytes) -> UploadFormat:
    """Tell a gzip TSV from a Parquet file by their magic bytes."""
    if data.startswith(GZIP_MAGIC):
        return "tsv.gz"
    if data.startswith(PARQUET_MAGIC):
        return "parquet"
    raise BadRequestError("The file is neither gzip-compressed TSV nor Parquet", code="unsupported_file")


def read_tsv(upload: Reader, cap: InflatedSize) -> LegacyUploadReader:
    """A gzip TSV batch (header row, `"` quoting, empty cell = null, UTF-8), read as it is inflated."""
    reader = csv.reader(
        text_lines(upload, cap, code="bad_upload", gzip_code="bad_gzip"), delimiter="\t", quotechar='"', strict=True
    )
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise _line_error(reader.line_num, None, f"malformed TSV: {exc}") from exc
    if not header:
        raise _line_error(1, None, "the header row is missing")
    return LegacyUploadReader(header, _tsv_records(reader, len(header)), unit="line")


def read_parquet(data: bytes, cap: InflatedSize) -> LegacyUploadReader:
    """A Parquet file with the legacy upload's columns, read in batches (needs the analytics layer)."""
    parquet = ParquetReader(data, cap, code="bad_parquet", unavailable=_PARQUET_UNAVAILABLE)
    records = ((batch.first_row + offset, row) for batch in parquet.batches() for offset, row in enumerate(batch.rows))
    return LegacyUploadReader(parquet.columns, records, unit="row")


def apply_agent_upload(
    session: Session,
    settings: Settings,
    *,
    upload: Reader,
    timestamp: datetime | None,
    client_id: uuid.UUID,
    allowed_formats: Sequence[UploadFormat] = ("tsv.gz", "parquet"),
) -> UploadResult:
    """A sync agent's upload under the settings' limits: its timestamp checked first, then the batch applied."""
    if timestamp is not None:
        check_sync_timestamp(
            timestamp, now=datetime.now(UTC), max_future_seconds=settings.sync_timestamp_max_future_seconds
        )
    return apply_sync_upload(
        session,
        upload=upload,
        timestamp=timestamp,
        batch_size=settings.full_sync_batch_size,
        max_inflated_bytes=settings.max_upload_inflated_bytes,
        client_id=client_id,
        allowed_formats=allowed_formats,
    )


@tracer.capture_method(capture_response=False)
def apply_sync_upload(
    session: Session,
    *,
    upload: Reader,
    timestamp: datetime | None,
    batch_size: int,
    max_inflated_bytes: int,
    client_id: uuid.UUID | None = None,
    allowed_formats: Sequence[UploadFormat] = ("tsv.gz", "parquet"),
) -> UploadResult:
    """Validate and upsert one uploaded batch and advance the sync state; a repeat is not applied again."""
    file_format = detect_format(peek(upload))
    if file_format not in allowed_formats:
        raise BadRequestError(f"This endpoint accepts {', '.join(allowed_formats)} files", code="unsupported_file")
    moment = _aware(timestamp)
    cap = InflatedSize(max_inflated_bytes)
    # A TSV batch is recognised by its decompressed text: gzip stamps the compression time into its
    # header, so an agent re-sending the same batch produces different bytes.
    prefix = f"{file_format}\n{moment.isoformat() if moment else ''}\n".encode()
    digest = inflated_digest(upload, cap, prefix=prefix, gzip_code="bad_gzip")
    state = lock_sync_state(session)
    previous = session.get(SyncUpload, digest)
    if previous is not None:
        return UploadResult(previous.row_count, repeated=True, sync_mode=current_mode(state), file_format=file_format)
    reader = read_parquet(upload.read(), cap) if file_format == "parquet" else read_tsv(upload, cap)
    _store(session, reader)
    if moment is not None:
        _advance_state(state, reader, timestamp=moment, batch_size=batch_size)
    session.add(SyncUpload(content_sha256=digest, client_id=client_id, row_count=reader.count, file_format=file_format))
    session.flush()
    return UploadResult(reader.count, repeated=False, sync_mode=current_mode(state), file_format=file_format)


def _store(session: Session, reader: LegacyUploadReader) -> None:
    """Copy the upload into the item stage chunk by chunk, then merge it into items once."""
    if reader.columns == ("item_record_id",):
        others = ", ".join(name for name in reader.header if name != "item_record_id")[:200] or "none"
        message = f"the header names no item column besides item_record_id (other columns: {others})"
        raise _line_error(1, None, message)
    stage = ItemStage(session, reader.columns)
    try:
        for chunk in reader.staged_chunks():
            stage.copy(chunk)
        stage.merge()
    except StagedRowError as exc:
        column = "shelfmark_json" if exc.column in {"main_entry", "signum"} else exc.column
        where = f"{reader.unit} {exc.position}" if exc.position is not None else "the upload"
        message = f"the database refused {column or 'a value'}: {exc}"
        raise BadRequestError(
            f"{where}: {message}; nothing was written",
            code="bad_upload",
            details=[{reader.unit: exc.position, "column": column, "message": message}],
        ) from exc


def _tsv_records(reader: Any, width: int) -> Iterator[tuple[int, list[str]]]:
    try:
        for cells in reader:
            if not cells or not any(cells):
                continue
            if len(cells) != width:
                raise _line_error(reader.line_num, None, f"expected {width} cells, found {len(cells)}")
            yield reader.line_num, cells
    except csv.Error as exc:
        raise _line_error(reader.line_num, None, f"malformed TSV: {exc}") from exc


def _checked_header(cells: Sequence[object]) -> list[str]:
    header = [str(cell).strip() for cell in cells]
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        raise _line_error(1, None, f"repeated columns in the header: {', '.join(duplicates)}")
    try:
        legacy_columns(header)
    except RowError as exc:
        raise _line_error(1, exc.column, str(exc)) from exc
    return header


def _advance_state(state: JobState, reader: LegacyUploadReader, *, timestamp: datetime, batch_size: int) -> None:
    if current_mode(state) is SyncMode.CHANGES:
        state.changes_since = timestamp
        return
    begin_full_sync(state, started_at=timestamp)
    if reader.max_source_id is not None:
        state.full_sync_cursor = max(state.full_sync_cursor, reader.max_source_id)
    if reader.count < batch_size:
        complete_full_sync(state, completed_at=datetime.now(UTC))


def _aware(timestamp: datetime | None) -> datetime | None:
    if timestamp is None or timestamp.tzinfo is not None:
        return timestamp
    return timestamp.replace(tzinfo=UTC)


def _line_error(line: int, column: str | None, message: str) -> BadRequestError:
    return BadRequestError(
        f"line {line}: {message}; nothing was written",
        code="bad_upload",
        details=[{"line": line, "column": column, "message": message}],
    )
