"""The call number rule: the new classification replaces the number part, the genre or collection text stays."""

import string

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tarroitus.services.writeback.call_number import replace_in_marked_text, replace_number_part, split_call_number


@pytest.mark.parametrize(
    ("current", "classification", "expected"),
    [
        ("84.2 Etelä-Haaga -kokoelma", "678.90", "678.90 Etelä-Haaga -kokoelma"),
        ("123.45, 678.90 Mystery Romance", "99.1", "99.1 Mystery Romance"),
        ("123.45;678.90 Mystery Romance", "99.1", "99.1 Mystery Romance"),
        ("123.45 , 678.90 ; 1.2 Dekkarit", "99.1", "99.1 Dekkarit"),
        ("84.2", "678.90", "678.90"),
        ("84", "84.2", "84.2"),
        ("  84.2   Kauhu", "85.1", "85.1 Kauhu"),
        ("84.2, Kauhu", "85.1", "85.1 Kauhu"),
        ("84.2,", "85.1", "85.1"),
        ("", "85.1", "85.1"),
        ("   ", "85.1", "85.1"),
        ("Etelä-Haaga -kokoelma", "678.90", "678.90 Etelä-Haaga -kokoelma"),
        ("84.2 2000-luvun runot", "85.1", "85.1 2000-luvun runot"),
        ("84.2 2000 Runoja", "85.1", "85.1 2000 Runoja"),
        ("1800-luku 84.2", "85.1", "85.1 1800-luku 84.2"),
        ("84.2a Kokoelma", "85.1", "85.1 84.2a Kokoelma"),
        ("78.891 POP", "78.8911", "78.8911 POP"),
        ("84.2 Kauhu  -kokoelma ", "85.1", "85.1 Kauhu  -kokoelma "),
        ("84.2\tKauhu", "85.1", "85.1 Kauhu"),
        ("84.2 Kauhu", "  85.1  ", "85.1 Kauhu"),
        ("84.2 SUO Kauhu", "84.2 SUO", "84.2 SUO Kauhu"),
        ("K Kauhu", "K", "K Kauhu"),
        ("Kauhu", "K", "K Kauhu"),
        ("84.2 Kauhu", "84.2", "84.2 Kauhu"),
    ],
)
def test_replace_number_part_keeps_the_genre_text(current: str, classification: str, expected: str) -> None:
    # Given a current call number and the new classification / When / Then
    assert replace_number_part(current, classification) == expected


@pytest.mark.parametrize(
    ("text", "number_part", "kept"),
    [
        ("84.2 Etelä-Haaga -kokoelma", "84.2", "Etelä-Haaga -kokoelma"),
        ("123.45, 678.90 Mystery Romance", "123.45, 678.90", "Mystery Romance"),
        ("Mystery", "", "Mystery"),
        ("1.2.3", "1.2.3", ""),
        ("84.2.", "", "84.2."),
        ("84.2-3 Kauhu", "", "84.2-3 Kauhu"),
    ],
)
def test_split_call_number_finds_the_number_list(text: str, number_part: str, kept: str) -> None:
    # Given / When
    split = split_call_number(text)
    # Then
    assert split == (number_part, kept)


def test_split_call_number_counts_a_non_numeric_classification_as_the_number_part() -> None:
    # Given a text that already starts with a classification that is not a plain number
    text = "84.2 SUO Kauhu"
    # When / Then
    assert split_call_number(text) == ("84.2", "SUO Kauhu")
    assert split_call_number(text, "84.2 SUO") == ("84.2 SUO", "Kauhu")
    assert split_call_number("84.2 SUOMI", "84.2 SUO") == ("84.2", "SUOMI")


@pytest.mark.parametrize("classification", ["", "   ", "\n"])
def test_replace_number_part_refuses_an_empty_classification(classification: str) -> None:
    # Given / When / Then
    with pytest.raises(ValueError, match="empty"):
        replace_number_part("84.2 Kauhu", classification)


@pytest.mark.parametrize(
    ("current", "classification", "expected"),
    [
        ("|a84.2|hHEI", "678.90", "|a678.90|hHEI"),
        ("|a84.2 Etelä-Haaga -kokoelma|hHEI|iX", "678.90", "|a678.90 Etelä-Haaga -kokoelma|hHEI|iX"),
        ("|hHEI|a84.2", "678.90", "|hHEI|a678.90"),
        ("|hHEI", "678.90", "|a678.90|hHEI"),
        ("84.2 Kauhu", "678.90", "678.90 Kauhu"),
        ("84.2|hHEI", "678.90", "678.90|hHEI"),
        ("", "678.90", "678.90"),
        ("|a84.2||hHEI", "678.90", "|a678.90||hHEI"),
    ],
)
def test_replace_in_marked_text_changes_only_subfield_a(current: str, classification: str, expected: str) -> None:
    # Given a flattened call number with subfield markers / When / Then
    assert replace_in_marked_text(current, classification) == expected


def test_replace_in_marked_text_refuses_a_marker_in_the_classification() -> None:
    # Given / When / Then
    with pytest.raises(ValueError, match="marker"):
        replace_in_marked_text("|a84.2", "84|h2")


number = st.from_regex(r"\A[0-9]{1,3}(\.[0-9]{1,4}){0,2}\Z")
separator = st.sampled_from([", ", ",", "; ", " , ", ";"])
number_list = st.builds(
    lambda first, rest: first + "".join(sep + value for sep, value in rest),
    number,
    st.lists(st.tuples(separator, number), max_size=3),
)
genre_word = st.text(alphabet=string.ascii_letters + "ÄÖÅäöå-", min_size=1, max_size=12)
genre = st.lists(genre_word, min_size=1, max_size=4).map(" ".join)
any_text = st.text(alphabet=string.ascii_letters + string.digits + " .,;-|ÄÖäö\t", max_size=30)
classification = st.one_of(number_list, any_text.filter(lambda value: value.strip()))


@given(current=number_list, kept=genre, new=number_list)
def test_replace_number_part_keeps_any_genre_after_a_number_list(current: str, kept: str, new: str) -> None:
    # Given a call number made of a number list and a genre text / When
    result = replace_number_part(f"{current} {kept}", new)
    # Then
    assert result == f"{new} {kept}"


@given(text=any_text, new=classification)
@example(text="X 2 foo", new="X")
@example(text="1 , x", new="1 ,")
def test_replace_number_part_is_idempotent(text: str, new: str) -> None:
    # Given / When
    once = replace_number_part(text, new)
    # Then
    assert replace_number_part(once, new) == once
    assert once.startswith(new.strip())


@given(text=any_text, new=classification)
def test_split_call_number_parts_come_from_the_text_in_order(text: str, new: str) -> None:
    # Given / When
    number_part, kept = split_call_number(text, new)
    # Then the number part leads the text and the kept text ends it, with only separators between
    body = text.lstrip()
    assert body.startswith(number_part)
    assert body.endswith(kept)
    between = body[len(number_part) : len(body) - len(kept)]
    assert len(number_part) + len(kept) <= len(body)
    assert between.strip(" \t,;") == ""


@given(others=st.lists(st.tuples(st.sampled_from("bhiz"), any_text.map(lambda s: s.replace("|", ""))), max_size=3))
def test_replace_in_marked_text_keeps_other_subfields(others: list[tuple[str, str]]) -> None:
    # Given a marked call number with subfield a and others
    text = "|a84.2 Kauhu" + "".join(f"|{tag}{content}" for tag, content in others)
    # When
    result = replace_in_marked_text(text, "85.1")
    # Then
    assert result == "|a85.1 Kauhu" + "".join(f"|{tag}{content}" for tag, content in others)
    assert replace_in_marked_text(result, "85.1") == result
