"""Opaque page cursors over item record ids: clients pass them back, never build or read them."""

import base64
import binascii

from tarroitus.errors import InvalidInputError

ITEM_CURSOR_PREFIX = "item:"


def encode_item_cursor(item_record_id: int) -> str:
    """The cursor of the page position just after item `item_record_id`."""
    return base64.urlsafe_b64encode(f"{ITEM_CURSOR_PREFIX}{item_record_id}".encode()).decode("ascii")


def decode_item_cursor(cursor: str) -> int:
    """The item record id a cursor from `encode_item_cursor` stands for; InvalidInputError for anything else."""
    try:
        text = base64.urlsafe_b64decode(cursor.encode("ascii")).decode("ascii")
    except (UnicodeError, binascii.Error, ValueError) as exc:
        raise _invalid_cursor() from exc
    number = text.removeprefix(ITEM_CURSOR_PREFIX)
    if not text.startswith(ITEM_CURSOR_PREFIX) or not number.isdigit() or len(number) > 19:
        raise _invalid_cursor()
    return int(number)


def _invalid_cursor() -> InvalidInputError:
    detail = {"field": "after", "message": "Pass the endCursor of a previous page", "type": "invalid_cursor"}
    return InvalidInputError("Invalid cursor", code="invalid_cursor", details=[detail])
