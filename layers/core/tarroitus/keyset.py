"""Keyset paging: rows read in key order after the last key seen, so every page costs one index range scan.

A page is asked for by the key it starts after (None for the first page) and the number of rows; whether
another page follows is known from the page being full (`iter_pages`, for readers that cannot ask for
one row more, such as the Sierra sync's passes) or from one row read past it (`read_page`, for a caller
that hands the next key out).
"""

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class KeysetPage[RowT]:
    """At most `limit` rows in key order, and the key to pass as `after` for the next page (None on the last)."""

    rows: list[RowT]
    next_after: int | None


def read_page[RowT](
    read: Callable[[int | None, int], Sequence[RowT]], *, after: int | None, limit: int, key: Callable[[RowT], int]
) -> KeysetPage[RowT]:
    """One page: `read(after, count)` gives up to `count` rows with key > `after`; one more than `limit` is read."""
    rows = list(read(after, limit + 1))
    page = rows[:limit]
    return KeysetPage(rows=page, next_after=key(page[-1]) if len(rows) > limit else None)


def iter_pages[RowT](
    read: Callable[[int], Sequence[RowT]], *, after: int, limit: int, key: Callable[[RowT], int]
) -> Iterator[KeysetPage[RowT]]:
    """Every page `read(after)` gives (up to `limit` rows with key > `after`), each with the key of the next.

    The last page is the first short one (empty when the rows end on a full page); it is yielded too, so a
    reader that records its progress page by page sees the end as a page.
    """
    while True:
        rows = list(read(after))
        next_after = key(rows[-1]) if len(rows) >= limit else None
        yield KeysetPage(rows=rows, next_after=next_after)
        if next_after is None:
            return
        after = next_after
