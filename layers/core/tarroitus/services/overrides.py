"""Classification overrides: an operator's mapping (item id or barcode -> classification) loaded in bulk.

The effective classification of an item is its override when set, else the bib's MARC 097. A
mapping is a CSV file (comma, semicolon or tab separated, UTF-8, optionally gzip-compressed) or a
Parquet file with the columns `classification` and `item_record_id` and/or `barcode`. Every row is
validated first; if any row is rejected nothing is applied, and the report names the rejected lines
(CSV) or rows (Parquet), the first LISTED_REJECTIONS of them, with the reason, and counts them all.

The file is read as a stream within `MAX_UPLOAD_INFLATED_BYTES` (413 past it, `upload_streams`);
rows that pass their own checks are staged in the database CHUNK_ROWS at a time and resolved
against the items there (`repositories.item_overrides`), so memory stays at one chunk.

Per row: an `item_record_id` must name an existing item (a `barcode` given with it must match);
otherwise the `barcode` must name exactly one item (Sierra barcodes are not unique); deleted items
are refused; the classification must be non-empty text of at most 100 characters; an item may
appear once per file.
"""

import collections
import csv
import io
import itertools
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Tracer
from sqlalchemy.orm import Session

from tarroitus.errors import BadRequestError, InvalidInputError
from tarroitus.repositories.item_columns import column_limits
from tarroitus.repositories.item_overrides import OverrideCandidate, OverrideStage, RejectedRow
from tarroitus.services.sync.uploads import DEFAULT_INFLATED_LIMIT
from tarroitus.services.upload_streams import PARQUET_MAGIC, InflatedSize, ParquetReader, inflated_blocks, text_lines

MAX_CLASSIFICATION_LENGTH = 100
#: Rejected rows a report lists, first by position (all of them are counted).
LISTED_REJECTIONS = 1000
#: Candidate rows staged at a time.
CHUNK_ROWS = 5_000
_DELIMITERS = ",;\t"
_INTEGER = re.compile(r"[0-9]{1,19}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CODE = "bad_mapping"
_MAX_ITEM_ID = column_limits("item_record_id").max_value or 0

tracer = Tracer(auto_patch=False)

Record = tuple[int, dict[str, object]]


@dataclass(frozen=True)
class OverrideReport:
    """The outcome of loading a mapping: rows read, overrides applied, and rejected rows (listed and counted)."""

    unit: str
    rows: int
    applied: int
    changed: int
    dry_run: bool
    rejected: list[RejectedRow] = field(default_factory=list)
    rejected_count: int = 0

    def rejected_details(self) -> list[dict[str, Any]]:
        """The listed rejected rows as error details: `{"line"|"row": n, "key", "reason"}`."""
        return [{self.unit: row.position, "key": row.key, "reason": row.reason} for row in self.rejected]


@tracer.capture_method(capture_response=False)
def load_classification_overrides(
    session: Session, *, data: bytes, dry_run: bool = False, max_inflated_bytes: int = DEFAULT_INFLATED_LIMIT
) -> OverrideReport:
    """Validate a mapping file and, when no row is rejected (and not a dry run), apply all of it."""
    unit, records = mapping_records(data, InflatedSize(max_inflated_bytes))
    stage = OverrideStage(session)
    rejected: list[RejectedRow] = []
    rejected_count = rows = 0
    for chunk in itertools.batched(records, CHUNK_ROWS):
        candidates = []
        for position, record in chunk:
            try:
                candidates.append(_candidate(position, record))
            except _RowRejectedError as exc:
                rejected_count += 1
                if len(rejected) < LISTED_REJECTIONS:
                    rejected.append(RejectedRow(position, exc.key, str(exc)))
        stage.copy(candidates)
        rows += len(chunk)
    resolution = stage.resolve(unit=unit, listed=LISTED_REJECTIONS)
    rejected += resolution.first_rejections
    rejected.sort(key=lambda row: row.position)
    rejected_count += resolution.rejected
    applied = resolution.resolved if rejected_count == 0 and not dry_run else 0
    changed = stage.apply() if applied else 0
    return OverrideReport(unit, rows, applied, changed, dry_run, rejected[:LISTED_REJECTIONS], rejected_count)


def require_no_rejections(report: OverrideReport) -> OverrideReport:
    """The report, or a 422 listing the (first) rejected rows when there are any."""
    if report.rejected_count:
        raise InvalidInputError(
            f"{report.rejected_count} of {report.rows} rows rejected; nothing was applied",
            code="overrides_rejected",
            details=report.rejected_details(),
        )
    return report


def mapping_records(data: bytes, cap: InflatedSize) -> tuple[str, Iterator[Record]]:
    """The unit of position ("line" or "row") and the mapping's rows by column name, read as they are needed."""
    if data.startswith(PARQUET_MAGIC):
        return "row", _parquet_records(data, cap)
    return "line", _csv_records(data, cap)


def _csv_records(data: bytes, cap: InflatedSize) -> Iterator[Record]:
    upload = io.BytesIO(data)
    collections.deque(inflated_blocks(upload, cap, gzip_code=_CODE), maxlen=0)
    lines = text_lines(upload, cap, code=_CODE, gzip_code=_CODE)
    first_line = next(lines, "")
    delimiter = max(_DELIMITERS, key=first_line.count)
    reader = csv.reader(itertools.chain([first_line], lines), delimiter=delimiter, quotechar='"', strict=True)
    try:
        header = [cell.strip().lower() for cell in next(reader, [])]
        _check_header(header)
    except csv.Error as exc:
        raise _malformed(reader.line_num, exc) from exc
    return _csv_rows(reader, header)


def _csv_rows(reader: Any, header: list[str]) -> Iterator[Record]:
    try:
        for cells in reader:
            if cells and any(cells):
                yield reader.line_num, dict(zip(header, cells, strict=False))
    except csv.Error as exc:
        raise _malformed(reader.line_num, exc) from exc


def _malformed(line: int, exc: csv.Error) -> BadRequestError:
    return BadRequestError(f"line {line}: malformed CSV: {exc}", code=_CODE)


def _parquet_records(data: bytes, cap: InflatedSize) -> Iterator[Record]:
    parquet = ParquetReader(
        data, cap, code=_CODE, unavailable="Parquet mappings need the analytics layer; send CSV instead"
    )
    names = [name.strip().lower() for name in parquet.columns]
    if len(set(names)) != len(names):
        raise BadRequestError("The mapping names a column twice (column names ignore case and spaces)", code=_CODE)
    _check_header(names)
    return (
        (batch.first_row + offset, dict(zip(names, row, strict=True)))
        for batch in parquet.batches()
        for offset, row in enumerate(batch.rows)
    )


def _check_header(header: Sequence[str]) -> None:
    if "classification" not in header or not {"item_record_id", "barcode"} & set(header):
        raise BadRequestError(
            "The mapping needs a classification column and an item_record_id or barcode column", code=_CODE
        )


def _cell(record: Mapping[str, object], column: str) -> str | None:
    value = record.get(column)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


class _RowRejectedError(ValueError):
    """A mapping row that fails validation; `key` is what it names."""

    def __init__(self, message: str, key: str) -> None:
        super().__init__(message)
        self.key = key


def _candidate(position: int, record: Mapping[str, object]) -> OverrideCandidate:
    raw_id = _cell(record, "item_record_id")
    barcode = _cell(record, "barcode")
    key = raw_id or barcode or ""
    try:
        item_record_id = _item_record_id(raw_id, barcode)
        classification = _classification(_cell(record, "classification"))
    except ValueError as exc:
        raise _RowRejectedError(str(exc), key) from exc
    return OverrideCandidate(position, item_record_id, barcode, classification)


def _item_record_id(raw_id: str | None, barcode: str | None) -> int | None:
    if barcode is not None and "\x00" in barcode:
        raise ValueError("barcode contains a NUL character")
    if raw_id is None:
        if barcode is None:
            raise ValueError("neither item_record_id nor barcode is given")
        return None
    if not _INTEGER.fullmatch(raw_id) or int(raw_id) > _MAX_ITEM_ID:
        raise ValueError(f"item_record_id {raw_id[:40]!r} is not a whole number")
    return int(raw_id)


def _classification(value: str | None) -> str:
    if value is None:
        raise ValueError("classification is empty")
    if len(value) > MAX_CLASSIFICATION_LENGTH:
        raise ValueError(f"classification is longer than {MAX_CLASSIFICATION_LENGTH} characters")
    if _CONTROL.search(value):
        raise ValueError("classification contains control characters")
    return value
