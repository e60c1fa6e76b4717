"""Reading uploaded files within bounds: gzip inflated as a stream under a cap, text line by line, Parquet in batches.

An upload's bytes are never inflated or decoded whole. A gzip stream is read a block at a time and
refused with 413 the moment its inflated size passes the cap (`MAX_UPLOAD_INFLATED_BYTES`); text
is handed on one physical line at a time with its number; a Parquet file is read in batches, and
the size of its cells (as text) is measured against the same cap, batch by batch, before any of
its rows becomes a Python object. Memory therefore stays at a few blocks or one batch, whatever the file.

Parquet needs polars, which only the analytics layer carries: it is imported when a Parquet file
arrives, never when the API starts.
"""

import collections
import gzip
import hashlib
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import IO, Any

from tarroitus.errors import BadRequestError, InvalidInputError, PayloadTooLargeError

GZIP_MAGIC = b"\x1f\x8b"
PARQUET_MAGIC = b"PAR1"
#: Inflated bytes read at a time.
BLOCK_BYTES = 1024 * 1024
#: The longest physical line of an uploaded text file.
MAX_LINE_BYTES = 1024 * 1024
#: Rows per Parquet batch, and the cell text (in bytes) at most materialised as Python objects at once.
PARQUET_BATCH_ROWS = 5_000
PARQUET_SLICE_BYTES = 8 * 1024 * 1024
#: What a Parquet cell that is not text counts as (a number, a boolean, a date); a null counts as nothing.
PARQUET_VALUE_BYTES = 8

Reader = IO[bytes]


@dataclass(frozen=True)
class InflatedSize:
    """The cap on an upload's inflated bytes."""

    limit: int

    def refuse(self) -> PayloadTooLargeError:
        """The 413 of a file past the cap."""
        return PayloadTooLargeError(
            f"The file is larger than {self.limit} bytes once decompressed; nothing was written",
            details=[{"field": "file", "type": "too_large", "limit_bytes": self.limit}],
        )


def peek(upload: Reader, size: int = 4) -> bytes:
    """The first `size` bytes of `upload`, which is left at its start."""
    upload.seek(0)
    head = upload.read(size)
    upload.seek(0)
    return head


def inflated_digest(upload: Reader, cap: InflatedSize, *, prefix: bytes, gzip_code: str) -> str:
    """SHA-256 of `prefix` and the file's content (gzip inflated); 413 past the cap, 400 for bad gzip."""
    digest = hashlib.sha256(prefix)
    for block in inflated_blocks(upload, cap, gzip_code=gzip_code):
        digest.update(block)
    return digest.hexdigest()


def inflated_blocks(upload: Reader, cap: InflatedSize, *, gzip_code: str) -> Iterator[bytes]:
    """The file's content (gzip inflated) a block at a time; 413 the moment it passes the cap, 400 for bad gzip.

    Inflating is zlib's work alone, so reading a file through once before parsing it refuses a bomb
    in a fraction of a second, before any row is parsed.
    """
    size = 0
    with _inflated(upload, gzip_code) as stream:
        while block := stream.read(BLOCK_BYTES):
            size += len(block)
            if size > cap.limit:
                raise cap.refuse()
            yield block
    upload.seek(0)


def text_lines(upload: Reader, cap: InflatedSize, *, code: str, gzip_code: str) -> Iterator[str]:
    """The file's lines decoded from UTF-8 (a BOM dropped), inflated first when gzip; 413 past the cap.

    A line that is not UTF-8, or longer than MAX_LINE_BYTES, is a BadRequestError (`code`) naming its number.
    """
    size = 0
    number = 0
    with _inflated(upload, gzip_code) as stream:
        while line := stream.readline(MAX_LINE_BYTES + 1):
            number += 1
            size += len(line)
            if size > cap.limit:
                raise cap.refuse()
            if len(line) > MAX_LINE_BYTES:
                raise _position_error(code, "line", number, f"the line is longer than {MAX_LINE_BYTES} bytes")
            try:
                text = line.decode()
            except UnicodeDecodeError as exc:
                raise _position_error(code, "line", number, "not valid UTF-8") from exc
            yield text.removeprefix("\ufeff") if number == 1 else text


@dataclass(frozen=True)
class ParquetBatch:
    """Consecutive rows of a Parquet file: the number of the first (1-based) and their values, by column."""

    first_row: int
    rows: list[tuple[Any, ...]]


class ParquetReader:
    """A Parquet upload read in batches within the cap (polars; without it, 422 saying `unavailable`).

    `columns` are the file's column names; `batches()` gives its rows as tuples in that order. The
    file is measured first, batch by batch without a row becoming a Python object, so a file past the
    cap is refused before any of it is parsed. A file polars cannot read is a BadRequestError (`code`).
    """

    def __init__(self, data: bytes, cap: InflatedSize, *, code: str, unavailable: str) -> None:
        try:
            import polars as pl
        except ImportError as exc:
            raise InvalidInputError(unavailable, code="parquet_unsupported") from exc
        self._pl = pl
        self._cap = cap
        self._code = code
        self._frame = self._read(lambda: pl.scan_parquet(data))
        self.columns: list[str] = self._read(lambda: list(self._frame.collect_schema().names()))
        self._row_count = int(self._read(lambda: self._frame.select(pl.len()).collect().item()))
        if self._row_count * max(1, len(self.columns)) > cap.limit:
            raise cap.refuse()
        collections.deque(self._sized_batches(), maxlen=0)

    def batches(self) -> Iterator[ParquetBatch]:
        """The file's rows, at most PARQUET_SLICE_BYTES of cell text at a time."""
        for first_row, frame, row_bytes in self._sized_batches():
            for start, length in _slices(row_bytes, PARQUET_SLICE_BYTES):
                rows = self._read(partial(_rows, frame, start, length))
                yield ParquetBatch(first_row + start, rows)

    def _sized_batches(self) -> Iterator[tuple[int, Any, list[int]]]:
        """Each batch's first row number, frame and rows' sizes as text; 413 past the cap.

        A row whose cells come to more than MAX_LINE_BYTES is refused like an over-long line of text.
        """
        pl = self._pl
        size = 0
        first_row = 1
        frames = self._read(lambda: iter(self._frame.collect_batches(chunk_size=PARQUET_BATCH_ROWS)))
        while (frame := self._read(lambda: next(frames, None))) is not None:
            row_bytes: list[int] = self._read(lambda: frame.select(_row_bytes(pl, frame)).to_series().to_list())
            size += sum(row_bytes)
            if size > self._cap.limit:
                raise self._cap.refuse()
            too_long = next((index for index, row in enumerate(row_bytes) if row > MAX_LINE_BYTES), None)
            if too_long is not None:
                message = f"the row's cells are longer than {MAX_LINE_BYTES} bytes"
                raise _position_error(self._code, "row", first_row + too_long, message)
            yield first_row, frame, row_bytes
            first_row += frame.height
        # polars decodes batches in threads of its own: a panic there (a damaged file) ends the batches early.
        if first_row - 1 != self._row_count:
            message = f"The file is not readable Parquet (damaged: {first_row - 1} of {self._row_count} rows read)"
            raise BadRequestError(message, code=self._code)

    def _read[T](self, step: Callable[[], T]) -> T:
        """Run a polars step; a file polars cannot read is a 400 (`code`).

        polars raises several unrelated types for unreadable files, and its Rust code panics on some
        damaged ones: pyo3 raises that as `PanicException`, a BaseException, which would otherwise
        escape every `except Exception` up to the Lambda runtime.
        """
        try:
            return step()
        except Exception as exc:
            raise BadRequestError(f"The file is not readable Parquet: {exc}"[:300], code=self._code) from exc
        except BaseException as exc:
            if type(exc).__name__ != "PanicException":
                raise
            raise BadRequestError("The file is not readable Parquet (damaged)", code=self._code) from exc


def _rows(frame: Any, start: int, length: int) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = frame.slice(start, length).rows()
    return rows


def _row_bytes(pl: Any, frame: Any) -> Any:
    """Each row's size as text: strings by their UTF-8 bytes, other values PARQUET_VALUE_BYTES, one per cell."""
    cells = []
    for name, dtype in frame.schema.items():
        column = pl.col(name)
        size = column.str.len_bytes() if dtype == pl.String else pl.lit(PARQUET_VALUE_BYTES)
        cells.append(pl.when(column.is_null()).then(0).otherwise(size).cast(pl.Int64) + 1)
    return pl.sum_horizontal(cells) if cells else pl.lit(0)


def _slices(row_bytes: list[int], budget: int) -> Iterator[tuple[int, int]]:
    """(start, length) of consecutive rows whose bytes stay within `budget` (a row on its own may exceed it)."""
    start = 0
    size = 0
    for index, row in enumerate(row_bytes):
        if size + row > budget and index > start:
            yield start, index - start
            start, size = index, 0
        size += row
    if start < len(row_bytes):
        yield start, len(row_bytes) - start


@contextmanager
def _inflated(upload: Reader, gzip_code: str) -> Iterator[Reader | gzip.GzipFile]:
    """The upload from its start, inflated as it is read when it is gzip; a damaged stream is a 400 (`gzip_code`)."""
    gzipped = peek(upload, 2) == GZIP_MAGIC
    try:
        yield gzip.GzipFile(fileobj=upload, mode="rb") if gzipped else upload
    except (OSError, EOFError, zlib.error) as exc:
        raise BadRequestError(f"The file is not valid gzip: {exc}", code=gzip_code) from exc


def _position_error(code: str, unit: str, number: int, message: str) -> BadRequestError:
    return BadRequestError(
        f"{unit} {number}: {message}; nothing was written",
        code=code,
        details=[{unit: number, "column": None, "message": message}],
    )
