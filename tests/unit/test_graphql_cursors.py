"""Opaque item cursors of the GraphQL item list."""

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tarroitus.api.graphql.cursors import decode_item_cursor, encode_item_cursor
from tarroitus.errors import InvalidInputError


@given(st.integers(min_value=0, max_value=2**63 - 1))
def test_item_cursor_round_trips_any_item_id(item_id: int) -> None:
    # Given
    cursor = encode_item_cursor(item_id)
    # When
    decoded = decode_item_cursor(cursor)
    # Then
    assert decoded == item_id
    assert str(item_id) not in cursor


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not base64!",
        base64.urlsafe_b64encode(b"item:").decode(),
        base64.urlsafe_b64encode(b"item:-5").decode(),
        base64.urlsafe_b64encode(b"item:12a").decode(),
        base64.urlsafe_b64encode(b"bib:123").decode(),
        base64.urlsafe_b64encode(b"item:" + b"9" * 20).decode(),
        base64.urlsafe_b64encode("item:١٢".encode()).decode(),
    ],
)
def test_item_cursor_refuses_anything_it_did_not_make(cursor: str) -> None:
    # When / Then
    with pytest.raises(InvalidInputError) as raised:
        decode_item_cursor(cursor)
    assert raised.value.code == "invalid_cursor"
