"""Classification overrides: an operator's mapping (item id or barcode -> classification) loaded in bulk.

The effective classification of an item is its override when set, else the bib's MARC 097. A
mapping is a CSV file (comma, semicolon or tab separated, UTF-8, optionally gzip-compressed) or a
Parquet file with the columns `classification` and `item_record_id` and/or `barcode`. Every row is
validated first; if any row is rejected nothing is applied, and the report names each rejected
line (CSV) or row (Parquet) with the reason.

Per row: an `item_record_id` must name an existing item (a `barcode` given with it must match);
otherwise the `barcode` must name exactly one item (Sierra barcodes are not unique); deleted items
are refused; the classification must be non-empty text of at most 100 characters; an item may
appear once per file.
"""

import csv
import gzip
import io
import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Tracer
from sqlalchemy.orm import Session

from tarroitus.errors import BadRequestError, InvalidInputError
from tarroitus.repositories.item_overrides import (
    OverrideTarget,
    list_override_targets,
    set_classification_overrides,
)
from tarroitus.services.uploads import read_untrusted_parquet

MAX_CLASSIFICATION_LENGTH = 100
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
_DELIMITERS = ",;\t"
_INTEGER = re.compile(r"[0-9]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

tracer = Tracer(auto_patch=False)


@dataclass(frozen=True)
class RejectedRow:
    """A row that cannot be applied: where it is, what it names, and why."""

    position: int
    key: str
    reason: str


@dataclass(frozen=True)
class OverrideReport:
    """The outcome of loading a mapping: rows read, overrides applied, and rejected rows."""

    unit: str
    rows: int
    applied: int
    changed: int
    dry_run: bool
    rejected: list[RejectedRow] = field(default_factory=list)

    def rejected_details(self) -> list[dict[str, Any]]:
        """The rejected rows as error details: `{"line"|"row": n, "key", "reason"}`."""
        return [{self.unit: row.position, "key": row.key, "reason": row.reason} for row in self.rejected]


@dataclass(frozen=True)
class _Candidate:
    position: int
    item_record_id: int | None
    barcode: str | None
    classification: str


@tracer.capture_method(capture_response=False)
def load_classification_overrides(session: Session, *, data: bytes, dry_run: bool = False) -> OverrideReport:
    """Validate a mapping file and, when no row is rejected (and not a dry run), apply all of it."""
    unit, records = read_mapping(data)
    rejected: list[RejectedRow] = []
    candidates: list[_Candidate] = []
    for position, record in records:
        candidate = _candidate(position, record, rejected)
        if candidate is not None:
            candidates.append(candidate)
    targets = list_override_targets(
        session,
        item_record_ids={c.item_record_id for c in candidates if c.item_record_id is not None},
        barcodes={c.barcode for c in candidates if c.barcode is not None},
    )
    resolved = _resolve(unit, candidates, targets, rejected)
    rejected.sort(key=lambda row: row.position)
    applied = 0 if rejected else len(resolved)
    changed = set_classification_overrides(session, overrides=resolved) if applied and not dry_run else 0
    return OverrideReport(unit, len(records), applied if not dry_run else 0, changed, dry_run, rejected)


def require_no_rejections(report: OverrideReport) -> OverrideReport:
    """The report, or a 422 listing the rejected rows when there are any."""
    if report.rejected:
        raise InvalidInputError(
            f"{len(report.rejected)} of {report.rows} rows rejected; nothing was applied",
            code="overrides_rejected",
            details=report.rejected_details(),
        )
    return report


def read_mapping(data: bytes) -> tuple[str, list[tuple[int, dict[str, object]]]]:
    """The mapping file's rows by column name, with their line (CSV) or row (Parquet) numbers."""
    if data.startswith(b"PAR1"):
        return "row", _parquet_records(data)
    if data.startswith(b"\x1f\x8b"):
        data = _gunzip(data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise BadRequestError(f"line {line}: not valid UTF-8", code="bad_mapping") from exc
    return "line", _csv_records(text)


def _csv_records(text: str) -> list[tuple[int, dict[str, object]]]:
    first_line = text.split("\n", 1)[0]
    delimiter = max(_DELIMITERS, key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"', strict=True)
    try:
        header = [cell.strip().lower() for cell in next(reader, [])]
        _check_header(header)
        records: list[tuple[int, dict[str, object]]] = [
            (reader.line_num, dict(zip(header, cells, strict=False))) for cells in reader if cells and any(cells)
        ]
    except csv.Error as exc:
        raise BadRequestError(f"line {reader.line_num}: malformed CSV: {exc}", code="bad_mapping") from exc
    return records


def _parquet_records(data: bytes) -> list[tuple[int, dict[str, object]]]:
    frame = read_untrusted_parquet(
        data, code="bad_mapping", unavailable="Parquet mappings need the analytics layer; send CSV instead"
    )
    names = [name.strip().lower() for name in frame.columns]
    if len(set(names)) != len(names):
        raise BadRequestError(
            "The mapping names a column twice (column names ignore case and spaces)", code="bad_mapping"
        )
    frame = frame.rename(dict(zip(frame.columns, names, strict=True)))
    _check_header(names)
    return list(enumerate(frame.iter_rows(named=True), start=1))


def _check_header(header: Sequence[str]) -> None:
    if "classification" not in header or not {"item_record_id", "barcode"} & set(header):
        raise BadRequestError(
            "The mapping needs a classification column and an item_record_id or barcode column",
            code="bad_mapping",
        )


def _gunzip(data: bytes) -> bytes:
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            raw = stream.read(MAX_UNCOMPRESSED_BYTES + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise BadRequestError(f"The file is not valid gzip: {exc}", code="bad_mapping") from exc
    if len(raw) > MAX_UNCOMPRESSED_BYTES:
        raise BadRequestError("The decompressed mapping is too large", code="bad_mapping")
    return raw


def _cell(record: Mapping[str, object], column: str) -> str | None:
    value = record.get(column)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


class _RowRejectedError(ValueError):
    """A mapping row that fails validation."""


def _candidate(position: int, record: Mapping[str, object], rejected: list[RejectedRow]) -> _Candidate | None:
    raw_id = _cell(record, "item_record_id")
    barcode = _cell(record, "barcode")
    try:
        item_record_id = _item_record_id(raw_id, barcode)
        classification = _classification(_cell(record, "classification"))
    except _RowRejectedError as exc:
        rejected.append(RejectedRow(position, raw_id or barcode or "", str(exc)))
        return None
    return _Candidate(position, item_record_id, barcode, classification)


def _item_record_id(raw_id: str | None, barcode: str | None) -> int | None:
    if raw_id is None:
        if barcode is None:
            raise _RowRejectedError("neither item_record_id nor barcode is given")
        return None
    if not _INTEGER.fullmatch(raw_id):
        raise _RowRejectedError(f"item_record_id {raw_id!r} is not a whole number")
    return int(raw_id)


def _classification(value: str | None) -> str:
    if value is None:
        raise _RowRejectedError("classification is empty")
    if len(value) > MAX_CLASSIFICATION_LENGTH:
        raise _RowRejectedError(f"classification is longer than {MAX_CLASSIFICATION_LENGTH} characters")
    if _CONTROL.search(value):
        raise _RowRejectedError("classification contains control characters")
    return value


def _resolve(
    unit: str, candidates: list[_Candidate], targets: list[OverrideTarget], rejected: list[RejectedRow]
) -> list[tuple[int, str]]:
    by_id = {target.item_record_id: target for target in targets}
    by_barcode: dict[str, list[OverrideTarget]] = {}
    for target in targets:
        if target.barcode is not None and not target.deleted:
            by_barcode.setdefault(target.barcode, []).append(target)
    seen: dict[int, int] = {}
    resolved: list[tuple[int, str]] = []
    for candidate in candidates:
        item_id, reason = _target_of(candidate, by_id, by_barcode)
        if item_id is not None and item_id in seen:
            reason = f"item {item_id} appears again (first on {unit} {seen[item_id]})"
            item_id = None
        if item_id is None:
            rejected.append(RejectedRow(candidate.position, str(candidate.item_record_id or candidate.barcode), reason))
            continue
        seen[item_id] = candidate.position
        resolved.append((item_id, candidate.classification))
    return resolved


def _target_of(
    candidate: _Candidate, by_id: dict[int, OverrideTarget], by_barcode: dict[str, list[OverrideTarget]]
) -> tuple[int | None, str]:
    if candidate.item_record_id is not None:
        target = by_id.get(candidate.item_record_id)
        if target is None:
            return None, f"no item {candidate.item_record_id}"
        if candidate.barcode is not None and candidate.barcode != target.barcode:
            return None, f"item {candidate.item_record_id} has another barcode"
    else:
        matches = by_barcode.get(candidate.barcode or "", [])
        if not matches:
            return None, f"no item with barcode {candidate.barcode}"
        if len(matches) > 1:
            return None, f"barcode {candidate.barcode} is shared by {len(matches)} items; give item_record_id"
        target = matches[0]
    if target.deleted:
        return None, f"item {target.item_record_id} is deleted in Sierra"
    return target.item_record_id, ""
