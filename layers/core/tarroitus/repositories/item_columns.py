"""What each column of `items` can hold, read from its ORM definition: text length, integer range, COPY type.

Uploads are validated against these limits before anything is copied, so a cell the column cannot
hold is refused with its line and column instead of failing inside PostgreSQL; the limits follow the
model, so a migration that widens a column widens the check with it.
"""

from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import BigInteger, Boolean, DateTime, Integer, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeEngine

from tarroitus.models import Item

_INTEGER_BITS = {BigInteger: 64, Integer: 32}
#: The PostgreSQL type a binary COPY sends each column type as; the first that matches counts (a
#: BigInteger is an Integer too).
_COPY_TYPES: dict[type[TypeEngine[Any]], str] = {
    BigInteger: "int8",
    Integer: "int4",
    Boolean: "bool",
    DateTime: "timestamptz",
    JSONB: "jsonb",
    String: "text",
}


@dataclass(frozen=True)
class ColumnLimits:
    """What a column accepts: at most `max_length` characters (text), values in `min_value..max_value` (integers).

    No column of PostgreSQL's text types, JSONB included, can hold a NUL character.
    """

    max_length: int | None = None
    min_value: int | None = None
    max_value: int | None = None


@cache
def column_limits(column: str) -> ColumnLimits:
    """The limits of `items.<column>` as the model declares it."""
    sql_type = Item.__table__.c[column].type
    for integer_type, bits in _INTEGER_BITS.items():
        if isinstance(sql_type, integer_type):
            return ColumnLimits(min_value=-(2 ** (bits - 1)), max_value=2 ** (bits - 1) - 1)
    if isinstance(sql_type, String):
        return ColumnLimits(max_length=sql_type.length)
    return ColumnLimits()


@cache
def copy_type(column: str) -> str:
    """The PostgreSQL type a binary COPY sends `items.<column>` as."""
    sql_type = Item.__table__.c[column].type
    for column_type, copy_name in _COPY_TYPES.items():
        if isinstance(sql_type, column_type):
            return copy_name
    raise TypeError(f"items.{column} has a type binary COPY does not send: {sql_type!r}")
