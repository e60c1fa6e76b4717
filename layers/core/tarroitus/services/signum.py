"""The signum (Finnish shelf mark) and the new classification, computed from a Sierra bib's varFields.

Pure functions: no I/O, no settings, no exceptions for malformed input.

Main entry. Headings are tried in this order, and the first one whose subfield ``a`` yields at least one
signum character wins (a heading with no usable ``$a`` is skipped, not fatal):

1. The legacy priority list: 100 ind1=1, 110 ind1=2, 100 ind1=0, 100 ind1=2, 110 ind1=1, 110 ind1=0,
   100 ind1=3, 111 ind1=0/1/2.
2. Any other 100, then 110, then 111 (blank or unexpected ind1). The legacy list is silent on these
   cataloguing slips; we keep the author rather than fall back to the title.
3. 130 (uniform title main entry), skipping the non-filing characters given in 130 ind1. DESIGN.md lists
   130 as a signum input but its priority list does not place it: MARC only allows 130 when there is no
   1XX author, and the uniform title is the filing title the cataloguer chose, so it goes before 245.
4. 245, skipping the non-filing characters given in 245 ind2.

An indicator that is missing, blank, a space or not a digit counts as 0 non-filing characters.

Normalisation (:func:`normalise_signum_text`): Cyrillic is romanised by the Finnish national standard
SFS 4900, Russian rules (the language is unknown, so Ukrainian Г is read as G, not H; the letters і ї є ґ ў
that Russian lacks are added). Every other non-Latin script goes through ``anyascii`` (table look-up only,
no model, no download). Then only letters, decimal digits and letter-like numerals (Ⅻ) survive, uppercased:
A-Z, 0-9 and Å Ä Ö Ü Ø Æ as they are, every other letter folded to its base letters (É -> E, ß -> SS,
Œ -> OE, Þ -> TH); spaces, punctuation, symbols, fractions and superscripts are dropped. SFS 4900's own
Š and Ž are folded like a Czech Š, so Чехов -> Tšehov -> ``TSE`` and Жуков -> Žukov -> ``ZUK``.
``anyascii`` reads Han characters as Mandarin pinyin, also in Japanese names (村上春樹 -> ``CUN``).

Nothing usable gives :data:`SIGNUM_MARKER`.
"""

# Cyrillic letters that look like Latin ones are what this module transliterates, not a spoofing risk.
# ruff: noqa: RUF001, RUF002

import ast
import json
import re
import string
import unicodedata
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from anyascii import anyascii

SIGNUM_MARKER = "***"
"""The signum of a bib with no usable main entry."""

SIGNUM_LENGTH = 3

CLASSIFICATION_MARC_TAG = "097"

_ASCII_ALNUM = frozenset(string.ascii_uppercase + string.digits)
_KEPT = _ASCII_ALNUM | frozenset("ÅÄÖÜØÆ")
_DIGITS = frozenset(string.digits)
# Decimal digits in any script and letter-like numerals (Ⅻ) count; fractions and superscripts (½, ²) do not.
_NUMBER_CATEGORIES = frozenset({"Nd", "Nl"})

_SFS4900 = {
    "А": "A",
    "Б": "B",
    "В": "V",
    "Г": "G",
    "Д": "D",
    "Ж": "Ž",
    "З": "Z",
    "И": "I",
    "К": "K",
    "Л": "L",
    "М": "M",
    "Н": "N",
    "О": "O",
    "П": "P",
    "Р": "R",
    "С": "S",
    "Т": "T",
    "У": "U",
    "Ф": "F",
    "Х": "H",
    "Ц": "TS",
    "Ч": "TŠ",
    "Ш": "Š",
    "Щ": "ŠTŠ",
    "Ъ": "",
    "Ы": "Y",
    "Ь": "",
    "Э": "E",
    "Ю": "JU",
    "Я": "JA",
    "І": "I",
    "Ї": "JI",
    "Є": "JE",
    "Ґ": "G",
    "Ў": "U",
}
_CYRILLIC_CONSONANTS = frozenset("БВГДЖЗЙКЛМНПРСТФХЦЧШЩҐЎ")
_CYRILLIC_VOWELS = frozenset("АЕЁИОУЫЭЮЯІЇЄ")
_CYRILLIC_HUSHING = frozenset("ЖЧШЩ")
# Stress accents are the only combining marks left on Cyrillic letters after NFC (й and ё compose).
_CYRILLIC_STRESS = re.compile(r"(?<=[\u0400-\u052f])[\u0300-\u036f]+")
# Every letter SFS 4900 reads is in these blocks or upper-cases into them (U+1C80 to U+0412): text with none
# of them is left as it is, without the letter-by-letter pass.
_CYRILLIC = re.compile(r"[\u0400-\u052f\u1c80-\u1c8f\u2de0-\u2dff\ua640-\ua69f]")

_PREVIEW_CHARS = 60


@dataclass(frozen=True)
class MainEntry:
    """The heading chosen for the signum: its MARC tag, indicators and subfield a."""

    marc_tag: str
    ind1: str
    ind2: str
    heading: str
    nonfiling: int = 0

    @property
    def text(self) -> str:
        """The heading without its non-filing characters."""
        return self.heading[self.nonfiling :]


class ShelfmarkParseError(ValueError):
    """The legacy sync agent's shelfmark_json value cannot be read."""


@dataclass(frozen=True)
class _Field:
    marc_tag: str
    ind1: str
    ind2: str
    subfields: tuple[tuple[str, str], ...]
    content: str | None


@dataclass(frozen=True)
class _Rule:
    marc_tag: str
    ind1: frozenset[str] | None = None
    nonfiling: Literal["ind1", "ind2"] | None = None

    def matches(self, field: _Field) -> bool:
        return field.marc_tag == self.marc_tag and (self.ind1 is None or field.ind1 in self.ind1)

    def nonfiling_count(self, field: _Field) -> int:
        indicator = {"ind1": field.ind1, "ind2": field.ind2, None: ""}[self.nonfiling]
        return int(indicator) if indicator in _DIGITS else 0


_RULES = (
    _Rule("100", frozenset("1")),
    _Rule("110", frozenset("2")),
    _Rule("100", frozenset("0")),
    _Rule("100", frozenset("2")),
    _Rule("110", frozenset("1")),
    _Rule("110", frozenset("0")),
    _Rule("100", frozenset("3")),
    _Rule("111", frozenset("012")),
    _Rule("100"),
    _Rule("110"),
    _Rule("111"),
    _Rule("130", nonfiling="ind1"),
    _Rule("245", nonfiling="ind2"),
)


class _ShelfmarkRow(NamedTuple):
    marc_tag: str
    ind1: str
    ind2: str
    field_type_code: str
    tag: str
    content: str


def compute_signum(var_fields: Sequence[Mapping[str, Any]]) -> str:
    """Return the three-character signum of a bib, or SIGNUM_MARKER when nothing is usable."""
    text = main_entry_text(var_fields)
    if text is None:
        return SIGNUM_MARKER
    return normalise_signum_text(text)[:SIGNUM_LENGTH]


def main_entry_text(var_fields: Sequence[Mapping[str, Any]]) -> str | None:
    """Return the chosen heading's subfield a minus its non-filing characters, not normalised."""
    entry = find_main_entry(var_fields)
    return None if entry is None else entry.text


def find_main_entry(var_fields: Sequence[Mapping[str, Any]]) -> MainEntry | None:
    """Return the first heading in signum priority order that yields a signum, if any."""
    fields = _parse_fields(var_fields)
    for rule in _RULES:
        for field in fields:
            if rule.matches(field):
                entry = _usable_entry(field, rule)
                if entry is not None:
                    return entry
    return None


def normalise_signum_text(text: str) -> str:
    """Romanise text and keep only signum characters, uppercased (may return an empty string)."""
    if not isinstance(text, str):
        return ""
    latin = unicodedata.normalize("NFC", romanise_cyrillic(text).upper())
    return "".join(_fold_char(char) for char in latin)


def romanise_cyrillic(text: str) -> str:
    """Transliterate the Cyrillic letters in text by SFS 4900, leaving other characters as they are."""
    text = unicodedata.normalize("NFC", text)
    if _CYRILLIC.search(text) is None:
        return text
    return _romanised(_CYRILLIC_STRESS.sub("", text))


def _romanised(text: str) -> str:
    upper = "".join(_upper_char(char) for char in text)
    return "".join(_romanise_at(text, upper, index) for index in range(len(text)))


def classification_from_var_fields(var_fields: Sequence[Mapping[str, Any]]) -> str | None:
    """Return the bib's new classification (MARC 097), the greatest when there are several."""
    values = [_field_text(field) for field in _parse_fields(var_fields) if field.marc_tag == CLASSIFICATION_MARC_TAG]
    return max((value for value in values if value), default=None)


def parse_shelfmark_json(raw: str) -> list[dict[str, Any]]:
    """Convert the legacy shelfmark_json column (JSON or Python literal) to Sierra-style varFields."""
    data = _load_literal(raw)
    if data is None:
        return []
    if not isinstance(data, list | tuple):
        raise ShelfmarkParseError(f"shelfmark_json must be a list of objects, got {type(data).__name__}")
    return _group_rows([_shelfmark_row(index, item) for index, item in enumerate(data)])


def _usable_entry(field: _Field, rule: _Rule) -> MainEntry | None:
    heading = next((content for code, content in field.subfields if code == "a"), None)
    if heading is None:
        return None
    entry = MainEntry(field.marc_tag, field.ind1, field.ind2, heading, rule.nonfiling_count(field))
    return entry if normalise_signum_text(entry.text) else None


def _parse_fields(var_fields: object) -> list[_Field]:
    if isinstance(var_fields, str | bytes | bytearray) or not isinstance(var_fields, Sequence):
        return []
    return [field for field in map(_as_field, var_fields) if field is not None]


def _as_field(raw: object) -> _Field | None:
    if not isinstance(raw, Mapping):
        return None
    marc_tag = _marc_tag(raw.get("marcTag"))
    if marc_tag is None:
        return None
    content = raw.get("content")
    return _Field(
        marc_tag=marc_tag,
        ind1=_indicator(raw.get("ind1")),
        ind2=_indicator(raw.get("ind2")),
        subfields=_subfields(raw.get("subfields")),
        content=content if isinstance(content, str) else None,
    )


def _marc_tag(value: object) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 999:
        return f"{value:03d}"
    if isinstance(value, str):
        tag = value.strip()
        if len(tag) == 3 and all(char in _DIGITS for char in tag):
            return tag
    return None


def _indicator(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 9:
        return str(value)
    return value.strip() if isinstance(value, str) else ""


def _subfields(value: object) -> tuple[tuple[str, str], ...]:
    if isinstance(value, str | bytes | bytearray) or not isinstance(value, Sequence):
        return ()
    return tuple(
        (item["tag"], item["content"])
        for item in value
        if isinstance(item, Mapping) and isinstance(item.get("tag"), str) and isinstance(item.get("content"), str)
    )


def _field_text(field: _Field) -> str:
    parts = [content for _, content in field.subfields] if field.subfields else [field.content or ""]
    return " ".join(stripped for part in parts if (stripped := part.strip()))


def _upper_char(char: str) -> str:
    upper = char.upper()
    return upper if len(upper) == 1 else char


def _romanise_at(text: str, upper: str, index: int) -> str:
    latin = _sfs4900_letter(upper, index)
    if latin is None:
        return text[index]
    following = text[index + 1 : index + 2]
    # A capital's letters are all capitals in an all-capital word: the next letter tells, else (at the end of
    # a word) the previous one. ЩИ -> ŠTŠI, ПЛЮЩ -> PLJUŠTŠ, Щукин -> Štšukin.
    neighbour = following if following.isalpha() else text[index - 1 : index]
    return _match_case(latin, text[index], neighbour)


def _sfs4900_letter(upper: str, index: int) -> str | None:
    char = upper[index]
    prev = upper[index - 1] if index > 0 else ""
    if char == "Е":
        return "E" if prev in _CYRILLIC_CONSONANTS else "JE"
    if char == "Ё":
        return "O" if prev in _CYRILLIC_HUSHING else "JO"
    if char == "И" and prev == "Ь":
        return "JI"
    if char == "Й":
        return _short_i(prev, upper[index + 1 : index + 2])
    return _SFS4900.get(char)


def _short_i(prev: str, following: str) -> str:
    if prev == "И":
        # The adjective ending -ий is written -i: Достоевский -> Dostojevski.
        return "J" if following.isalpha() else ""
    return "I" if prev in _CYRILLIC_VOWELS else "J"


def _match_case(latin: str, source: str, neighbour: str) -> str:
    if source.islower():
        return latin.lower()
    if neighbour.isupper():
        return latin
    return latin.capitalize()


def _fold_char(char: str) -> str:
    if char in _KEPT:
        return char
    category = unicodedata.category(char)
    if category[0] != "L" and category not in _NUMBER_CATEGORIES:
        return ""
    return "".join(ascii_char for ascii_char in anyascii(char).upper() if ascii_char in _ASCII_ALNUM)


def _load_literal(raw: object) -> object:
    if not isinstance(raw, str):
        raise ShelfmarkParseError(f"shelfmark_json must be text, got {type(raw).__name__}")
    text = raw.strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        pass
    try:
        # Field agents render the list with Python's repr(); compiling such text can warn about escapes.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError) as exc:
        preview = text if len(text) <= _PREVIEW_CHARS else text[:_PREVIEW_CHARS] + "..."
        raise ShelfmarkParseError(f"shelfmark_json is neither JSON nor a Python literal: {preview!r}") from exc


def _shelfmark_row(index: int, item: object) -> _ShelfmarkRow:
    if not isinstance(item, dict):
        raise ShelfmarkParseError(f"shelfmark_json item {index} is not an object")
    marc_tag = _marc_tag(item.get("marc_tag"))
    if marc_tag is None:
        raise ShelfmarkParseError(f"shelfmark_json item {index} has no valid marc_tag: {item.get('marc_tag')!r}")
    return _ShelfmarkRow(
        marc_tag=marc_tag,
        ind1=_row_text(item, index, "marc_ind1", " "),
        ind2=_row_text(item, index, "marc_ind2", " "),
        field_type_code=_row_text(item, index, "field_type_code", ""),
        tag=_row_text(item, index, "tag", ""),
        content=_row_text(item, index, "content", ""),
    )


def _row_text(item: dict[Any, Any], index: int, key: str, default: str) -> str:
    value = item.get(key)
    if value is None:
        return default
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise ShelfmarkParseError(f"shelfmark_json item {index}: {key} must be text, got {type(value).__name__}")


def _group_rows(rows: list[_ShelfmarkRow]) -> list[dict[str, Any]]:
    fields: list[dict[str, Any]] = []
    previous: tuple[str, str, str] | None = None
    for row in rows:
        key = (row.marc_tag, row.ind1, row.ind2)
        if key != previous:
            fields.append(
                {
                    "fieldTag": row.field_type_code,
                    "marcTag": row.marc_tag,
                    "ind1": row.ind1,
                    "ind2": row.ind2,
                    "subfields": [],
                }
            )
            previous = key
        fields[-1]["subfields"].append({"tag": row.tag, "content": row.content})
    return fields
