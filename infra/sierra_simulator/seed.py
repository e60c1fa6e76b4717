"""Deterministic seed catalogue: base item and bib records computed on demand from (seed, id).

Nothing is stored per record: an item's or bib's base version is a pure function of the seed and
its id, built straight into JSON fragments (one pre-serialised JSON value per top-level field) so
that a 2000-item page costs string joins rather than per-record dicts and `json.dumps` calls.
The store keeps edited, PUT and deleted records in an overlay on top of this.

The data imitates a Finnish public library: Finnish, Swedish and English personal authors
(MARC 100 ind1=1), forenames (100 ind1=0) and families (100 ind1=3), corporate bodies (110 ind1=2
and jurisdictions with ind1=1), conferences (111), title-only records whose 245 ind2 counts the
non-filing article ("The " = 4, "A " = 2), Cyrillic, Greek and CJK headings, the new
classification in MARC 097 on most bibs (missing on some, repeated on some, with a collection
text on some), old item call numbers like `84.2 HEI` or `123.45, 678.90 Mystery Romance`,
duplicate and blank barcodes, suppressed and deleted items. As on real servers, most call numbers
sit in varField `c` with marcTag 099 and subfield `a`, some under marcTag 090 or 092, some as plain
content without a MARC tag (their `callNumber` then has no subfield markers), and some items carry
a note varField with an empty `subfields` list.
"""

import json
from array import array
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from random import Random
from typing import Any, NamedTuple

ITEM_ID_BASE = 1_000_000
BIB_ID_BASE = 3_000_000

_M64 = (1 << 64) - 1


def mix64(value: int) -> int:
    """SplitMix64 finaliser: a fast, well-distributed 64-bit hash of an integer."""
    value = (value + 0x9E3779B97F4A7C15) & _M64
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _M64
    return value ^ (value >> 31)


def _ts(year: int, month: int = 1, day: int = 1) -> int:
    return int(datetime(year, month, day, tzinfo=UTC).timestamp())


#: Base records were created from this moment on...
CREATED_START = _ts(2005)
#: ...and last updated before this one (edits made through the simulator come after it).
BASE_END = _ts(2026)
DELETED_START_DAY = date(2020, 1, 1).toordinal()
DELETED_END_DAY = date(2025, 12, 31).toordinal()
_EPOCH_DAY = date(1970, 1, 1).toordinal()


_TIMES_OF_DAY = [
    f"T{hour:02d}:{minute:02d}:{second:02d}Z" for hour in range(24) for minute in range(60) for second in range(60)
]
_DAYS: dict[int, str] = {}


def iso_day(days_since_epoch: int) -> str:
    """`YYYY-MM-DD` of a day counted from 1970-01-01 (memoised: there are only so many days)."""
    text = _DAYS.get(days_since_epoch)
    if text is None:
        text = _DAYS[days_since_epoch] = date.fromordinal(_EPOCH_DAY + days_since_epoch).isoformat()
    return text


def iso_datetime(timestamp: int) -> str:
    """Sierra's datetime format: UTC, seconds, `Z` (table look-ups: this is on the hot path)."""
    day, second = divmod(timestamp, 86400)
    return iso_day(day) + _TIMES_OF_DAY[second]


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# ----- Pools --------------------------------------------------------------------------------------


def _latin_signum(text: str) -> str:
    return "".join(ch for ch in text if ch.isalnum())[:3].upper()


# Personal names as surname and forename.
_FINNISH = [
    ("Virtanen", "Matti"),
    ("Korhonen", "Aino"),
    ("Mäkinen", "Eino"),
    ("Nieminen", "Päivi"),
    ("Mäkelä", "Jyrki"),
    ("Hämäläinen", "Sirpa"),
    ("Heikkinen", "Olli"),
    ("Koskinen", "Riikka"),
    ("Järvinen", "Tuomas"),
    ("Lehtonen", "Kaarina"),
    ("Saarinen", "Eero"),
    ("Salminen", "Leena"),
    ("Kivi", "Aleksis"),
    ("Waltari", "Mika"),
    ("Linna", "Väinö"),
    ("Oksanen", "Sofi"),
    ("Ölander", "Henna"),
    ("Äijälä", "Pertti"),
    ("Haavikko", "Paavo"),
    ("Tuuri", "Antti"),
]
_SWEDISH = [
    ("Lindqvist", "Ulla"),
    ("Åberg", "Lars"),
    ("Öhman", "Eva"),
    ("Sjöberg", "Björn"),
    ("Lindström", "Märta"),
    ("Ekström", "Åsa"),
    ("Nyström", "Karl"),
    ("Jansson", "Tove"),
    ("Södergran", "Edith"),
    ("Åkesson", "Gunnel"),
]
_ENGLISH = [
    ("Smith", "John"),
    ("Johnson", "Emily"),
    ("O'Brien", "Edna"),
    ("McCarthy", "Cormac"),
    ("Le Guin", "Ursula K."),
    ("Atwood", "Margaret"),
    ("Brown", "Dan"),
    ("Williams", "Rowan"),
    ("Christie", "Agatha"),
    ("Pratchett", "Terry"),
]
# Non-Latin headings with the romanised signum a cataloguer would have used.
_NON_LATIN = [
    ("Толстой, Лев", "Война и мир", "rus", "TOL"),
    ("Достоевский, Фёдор", "Преступление и наказание", "rus", "DOS"),
    ("Чехов, Антон", "Вишнёвый сад", "rus", "TSE"),
    ("Ахматова, Анна", "Реквием", "rus", "AHM"),
    ("Καζαντζάκης, Νίκος", "Βίος και πολιτεία του Αλέξη Ζορμπά", "gre", "KAZ"),
    ("Σεφέρης, Γιώργος", "Ημερολόγιο καταστρώματος", "gre", "SEF"),
    ("村上, 春樹", "ノルウェイの森", "jpn", "MUR"),
    ("川端, 康成", "雪国", "jpn", "KAW"),
    ("莫言", "红高粱家族", "chi", "MOY"),
    ("한강", "채식주의자", "kor", "HAN"),
]
_FORENAME_ONLY = [("Homeros", "gre"), ("Sofokles", "gre"), ("Madonna", "eng"), ("Snorri Sturluson", "ice")]
_FAMILIES = ["Sibelius (suku)", "Medici (family)", "Fazer (suku)"]
_CORPORATE = [
    ("Suomen kirjastoseura", "fin"),
    ("Helsingin kaupunginkirjasto", "fin"),
    ("Svenska litteratursällskapet i Finland", "swe"),
    ("World Health Organization", "eng"),
    ("Tilastokeskus", "fin"),
    ("Ålands landskapsregering", "swe"),
]
_JURISDICTIONS = [
    ("Suomi. Opetusministeriö", "fin"),
    ("Finland. Utrikesministeriet", "swe"),
    ("Helsinki. Kaupunginvaltuusto", "fin"),
]
_CONFERENCES = [
    ("Kirjastopäivät", "fin"),
    ("Nordic Conference on Library Science", "eng"),
    ("International Conference on Digital Libraries", "eng"),
]
_TITLE_WORDS = {
    "fin": (
        ["Pimeä", "Viimeinen", "Kadonnut", "Hiljainen", "Kultainen", "Vieras", "Kylmä", "Ikuinen"],
        ["metsä", "kesä", "kaupunki", "ystävä", "laulu", "talvi", "satama", "perintö"],
    ),
    "swe": (
        ["Den sista", "Tysta", "Gyllene", "Mörka", "Förlorade", "Ljusa"],
        ["sommaren", "skogen", "staden", "vännen", "vintern", "hamnen"],
    ),
    "eng": (
        ["Silent", "Lost", "Last", "Hidden", "Broken", "Golden", "Winter", "Secret"],
        ["River", "Garden", "Promise", "Kingdom", "Letters", "Harbour", "Island", "Crown"],
    ),
}
# Title-only records: (article, language); 245 ind2 is the article's length.
# Title-only records: 245 ind2 counts the article's characters ("The " = 4, "A " = 2, "L'" = 2).
_ENGLISH_ARTICLES = ["The ", "A ", "An "]
_FOREIGN_TITLES = [
    ("Les misérables", 4, "fre"),
    ("L'étranger", 2, "fre"),
    ("Der Prozess", 4, "ger"),
    ("Das Boot", 4, "ger"),
    ("El laberinto de la soledad", 3, "spa"),
    ("Det sjunde inseglet", 4, "swe"),
]
_ODD_TITLES = [
    "1984",
    "100 ruokaa kasviksista",
    "...ja hiljaisuus",
    '"Kuka pelkää?"',
    "'Salem's lot",
    "¡Hola, Helsinki!",
    "Ääni pimeässä",
    "Öisin",
]
# YKL-style classes with weights; fiction dominates a public library.
_CLASSES = [
    ("84.2", 30),
    ("85.2", 12),
    ("84.22", 5),
    ("84.21", 3),
    ("99.1", 5),
    ("78.891", 4),
    ("79.1", 3),
    ("38.4", 2),
    ("46.1", 2),
    ("59.5", 3),
    ("66.8", 2),
    ("69.1", 2),
    ("12.3", 2),
    ("16.1", 2),
    ("17.2", 2),
    ("30.1", 2),
    ("36.3", 2),
    ("48.1", 2),
    ("58.1", 2),
    ("61.2", 2),
    ("77.3", 2),
    ("86.2", 2),
    ("92.7", 2),
    ("1.4", 1),
]
_CLASS_POOL = [code for code, weight in _CLASSES for _ in range(weight)]
_COLLECTION_TEXTS = ["Etelä-Haaga -kokoelma", "Dekkarit", "Selkokirja", "Fantasia", "Mystery Romance", "Kauhu", "Scifi"]
assert not any('"' in text or "\\" in text for text in (*_CLASS_POOL, *_COLLECTION_TEXTS)), "pool needs escaping"
_LANG_NAMES = {
    "fin": "Finnish",
    "swe": "Swedish",
    "eng": "English",
    "rus": "Russian",
    "gre": "Greek, Modern (1453- )",
    "jpn": "Japanese",
    "chi": "Chinese",
    "kor": "Korean",
    "fre": "French",
    "ger": "German",
    "spa": "Spanish",
    "ice": "Icelandic",
}
_MATERIAL_TYPES = [
    ("a", "BOOK", 70),
    ("i", "AUDIOBOOK", 8),
    ("g", "DVD", 8),
    ("j", "MUSIC CD", 6),
    ("s", "MAGAZINE", 3),
    ("c", "SHEET MUSIC", 2),
    ("m", "CONSOLE GAME", 3),
]
_MATERIAL_POOL = [(code, value) for code, value, weight in _MATERIAL_TYPES for _ in range(weight)]
_LOCATIONS = [
    ("h00aa", "Pasila aikuisten aineisto"),
    ("h00la", "Pasila lasten aineisto"),
    ("h01aa", "Oodi aikuisten aineisto"),
    ("h01la", "Oodi lasten aineisto"),
    ("h02aa", "Rikhardinkatu aikuisten aineisto"),
    ("h10aa", "Etelä-Haaga aikuisten"),
    ("h10la", "Etelä-Haaga lasten"),
    ("h12aa", "Kallio aikuisten aineisto"),
    ("h14aa", "Töölö aikuisten aineisto"),
    ("h20aa", "Itäkeskus aikuisten aineisto"),
    ("h23aa", "Vuosaari aikuisten aineisto"),
    ("h25ab", "Malmi vuokra-aineisto"),
    ("h30aa", "Kannelmäki aikuisten aineisto"),
    ("h40mu", "Entresse musiikki"),
    ("h50va", "Varasto"),
    ("e01aa", "Sello aikuisten aineisto"),
    ("e01la", "Sello lasten aineisto"),
    ("v01aa", "Tikkurila aikuisten aineisto"),
    ("k01aa", "Kauniainen aikuisten aineisto"),
    ("h99zz", "Kirjastoauto Helsinki"),
]
# (code, display, weight); an item checked out has status "-" and a due date.
_STATUSES = [
    ("-", "AVAILABLE", 78),
    ("-", "CHECKED OUT", 12),
    ("o", "LIB USE ONLY", 2),
    ("m", "MISSING", 2),
    ("t", "IN TRANSIT", 3),
    ("$", "BILLED", 1),
    ("p", "IN PROCESSING", 2),
]
_STATUS_POOL = [(code, display, display == "CHECKED OUT") for code, display, weight in _STATUSES for _ in range(weight)]
_ITEM_TYPES = [
    (0, "Kirja", 55),
    (1, "Lasten kirja", 15),
    (5, "Äänikirja", 6),
    (10, "DVD", 8),
    (22, "CD", 6),
    (30, "Lehti", 3),
    (37, "Konsolipeli", 3),
    (99, "Muu", 4),
]
_ITEM_TYPE_POOL = [(code, name) for code, name, weight in _ITEM_TYPES for _ in range(weight)]
_NOTES = ["Lahjoitus", "Kansi korjattu", "Tarkista osat", "Siirretty varastosta"]

# Pre-serialised JSON fragments for the pools.
_LOCATION_JSON = [_dumps({"code": code, "name": name}) for code, name in _LOCATIONS]
_LOCATION_FF = [_dumps({"label": "LOCATION", "value": code, "display": name}) for code, name in _LOCATIONS]
_STATUS_FF = [_dumps({"label": "STATUS", "value": code, "display": display}) for code, display, _ in _STATUS_POOL]
_ITEM_TYPE_JSON = [_dumps(name) for _, name in _ITEM_TYPE_POOL]
_ITEM_TYPE_FF = [_dumps({"label": "I TYPE", "value": str(code), "display": name}) for code, name in _ITEM_TYPE_POOL]
_CALL_NUMBER_FIELD = '{"fieldTag":"c","marcTag":"%s","ind1":" ","ind2":" ","subfields":[{"tag":"a","content":%s}]}'
_PLAIN_CALL_NUMBER_FIELD = '{"fieldTag":"c","content":%s}'
#: An item note as real records sometimes carry it: MARC-tagged, with no subfields at all.
_EMPTY_NOTE_JSON = '{"fieldTag":"n","marcTag":"500","ind1":" ","ind2":" ","subfields":[]}'
#: Percent of items whose call number is plain content (no MARC tag), under 090, and under 092; the rest use 099.
PLAIN_CALL_NUMBER_PERCENT = 5
CALL_NUMBER_090_PERCENT = 5
CALL_NUMBER_092_PERCENT = 3
EMPTY_NOTE_PERCENT = 5
_NOTE_JSON = [_dumps({"fieldTag": "x", "content": note}) for note in _NOTES]


# ----- Main entries -------------------------------------------------------------------------------


class MainEntry(NamedTuple):
    """A bib's main entry: optional 1XX heading with ind1, the 245 title with ind2, and the old signum."""

    tag: str | None
    ind1: str
    heading: str | None
    title: str
    title_ind2: str
    language: str
    signum: str


def _title(words: int, language: str) -> str:
    adjectives, nouns = _TITLE_WORDS.get(language, _TITLE_WORDS["eng"])
    return f"{adjectives[words % len(adjectives)]} {nouns[(words // 7) % len(nouns)]}"


def _personal(h: int, pool: list[tuple[str, str]], language: str) -> MainEntry:
    surname, forename = pool[h % len(pool)]
    return MainEntry(
        "100", "1", f"{surname}, {forename}", _title(h >> 8, language), "0", language, _latin_signum(surname)
    )


def _title_only(h: int) -> MainEntry:
    choice = h % 10
    if choice < 5:
        article = _ENGLISH_ARTICLES[(h >> 8) % len(_ENGLISH_ARTICLES)]
        base = _title(h >> 16, "eng")
        return MainEntry(None, " ", None, article + base, str(len(article)), "eng", _latin_signum(base))
    if choice < 6:
        title, skip, language = _FOREIGN_TITLES[(h >> 8) % len(_FOREIGN_TITLES)]
        return MainEntry(None, " ", None, title, str(skip), language, _latin_signum(title[skip:]))
    if choice < 8:
        odd = _ODD_TITLES[(h >> 8) % len(_ODD_TITLES)]
        return MainEntry(None, " ", None, odd, "0", "fin", _latin_signum(odd))
    # No article and a blank or non-numeric indicator: both occur in real data.
    base = _title(h >> 16, "fin")
    return MainEntry(None, " ", None, base, " " if choice == 8 else "#", "fin", _latin_signum(base))


def main_entry_for(h: int) -> MainEntry:
    """The main entry of a bib whose hash is `h` (weights imitate a public library's catalogue)."""
    kind = h % 100
    rest = h >> 7
    if kind < 30:
        return _personal(rest, _FINNISH, "fin")
    if kind < 40:
        return _personal(rest, _SWEDISH, "swe")
    if kind < 52:
        return _personal(rest, _ENGLISH, "eng")
    if kind < 57:
        heading, title, language, signum = _NON_LATIN[rest % len(_NON_LATIN)]
        return MainEntry("100", "1", heading, title, "0", language, signum)
    if kind < 60:
        name, language = _FORENAME_ONLY[rest % len(_FORENAME_ONLY)]
        return MainEntry("100", "0", name, _title(rest >> 8, "eng"), "0", language, _latin_signum(name))
    if kind < 61:
        family = _FAMILIES[rest % len(_FAMILIES)]
        return MainEntry("100", "3", family, _title(rest >> 8, "fin"), "0", "fin", _latin_signum(family))
    if kind < 68:
        name, language = _CORPORATE[rest % len(_CORPORATE)]
        return MainEntry("110", "2", name, _title(rest >> 8, language), "0", language, _latin_signum(name))
    if kind < 70:
        name, language = _JURISDICTIONS[rest % len(_JURISDICTIONS)]
        return MainEntry("110", "1", name, _title(rest >> 8, language), "0", language, _latin_signum(name))
    if kind < 72:
        name, language = _CONFERENCES[rest % len(_CONFERENCES)]
        return MainEntry("111", "2", name, _title(rest >> 8, language), "0", language, _latin_signum(name))
    return _title_only(rest)


class BibSummary(NamedTuple):
    """What items need from their bib: their old call numbers, as JSON strings."""

    usual_json: str
    two_classes_json: str


# ----- The catalogue ------------------------------------------------------------------------------

_FF_ITEM_TYPE = [f'"61":{fragment},' for fragment in _ITEM_TYPE_FF]
_FF_LOCATION = [f'"79":{fragment},' for fragment in _LOCATION_FF]
_FF_STATUS = [f'"88":{fragment},' for fragment in _STATUS_FF]
_STATUS_JSON = [f'{{"code":"{code}","display":"{display}"' for code, display, _ in _STATUS_POOL]
_MATERIAL_JSON = [_dumps({"code": code, "value": value}) for code, value in _MATERIAL_POOL]
_MATERIAL_FF = [_dumps({"label": "MAT TYPE", "value": code, "display": value}) for code, value in _MATERIAL_POOL]
_LEADER_JSON = [_dumps({"fieldTag": "_", "content": f"00000n{code}m a2200000 a 4500"}) for code, _ in _MATERIAL_POOL]
_CLASS_FIELD = '{"fieldTag":"c","marcTag":"097","ind1":" ","ind2":" ","subfields":[{"tag":"a","content":%s}]}'
_PUBLICATION_FIELD = (
    '{"fieldTag":"p","marcTag":"264","ind1":" ","ind2":"1","subfields":[{"tag":"a","content":"Helsinki"},'
    '{"tag":"b","content":"Kustantamo"},{"tag":"c","content":"%d"}]}'
)
_ISBN_FIELD = '{"fieldTag":"i","marcTag":"020","ind1":" ","ind2":" ","subfields":[{"tag":"a","content":"978951%07d"}]}'


@dataclass(frozen=True, slots=True)
class _EntryJson:
    """Pre-serialised pieces of a main entry, shared by every bib with that heading and title."""

    var_fields: str
    title: str
    author: str
    lang: str
    fixed_lang: str


@lru_cache(maxsize=65536)
def _entry_json(entry: MainEntry) -> _EntryJson:
    fields = []
    if entry.tag is not None and entry.heading is not None:
        fields.append(_dumps(_marc("a", entry.tag, entry.ind1, " ", [("a", entry.heading)])))
    title_ind1 = "1" if entry.tag is not None else "0"
    fields.append(_dumps(_marc("t", "245", title_ind1, entry.title_ind2, [("a", entry.title)])))
    return _EntryJson(
        var_fields=",".join(fields),
        title=_dumps(entry.title),
        author=_dumps(entry.heading or ""),
        lang=_dumps({"code": entry.language, "name": _LANG_NAMES.get(entry.language, entry.language)}),
        fixed_lang=_dumps({"label": "LANG", "value": entry.language}),
    )


class SeedCatalogue:
    """Base records for `item_count` items (ids from ITEM_ID_BASE) and their bibs (ids from BIB_ID_BASE)."""

    def __init__(self, *, item_count: int, seed: int, intl_use_label: str = "IUSE3") -> None:
        if item_count < 0:
            raise ValueError("item_count must be >= 0")
        self.item_count = item_count
        self.seed = seed
        self.intl_use_label = intl_use_label
        self._salt = mix64(seed * 0x2545F4914F6CDD1D + 1)
        self._bib_salt = mix64(self._salt ^ 0xB1B)
        self._group_start = self._build_groups(item_count, seed)
        self.bib_count = len(self._group_start)
        ff_93 = _dumps({"label": intl_use_label, "value": "0"})
        ff_74 = f'"74":{_dumps({"label": "IUSE3", "value": "0"})},' if intl_use_label != "IUSE3" else ""
        self._ff_tail = f'"93":{ff_93}}}'
        self._ff_74 = ff_74
        self.bib_summary = lru_cache(maxsize=8192)(self._bib_summary)
        self._entries: list[tuple[MainEntry, _EntryJson] | None] = [None] * MAIN_ENTRY_TABLE_SIZE

    @staticmethod
    def _build_groups(item_count: int, seed: int) -> array[int]:
        """Start index of each bib's run of items: mostly 1-3 items per bib, some popular titles with dozens."""
        rng = Random(seed)
        starts: array[int] = array("q")
        index = 0
        while index < item_count:
            starts.append(index)
            roll = rng.random()
            if roll < 0.40:
                size = 1
            elif roll < 0.62:
                size = 2
            elif roll < 0.78:
                size = 3
            elif roll < 0.98:
                size = rng.randint(4, 8)
            else:
                size = rng.randint(9, 40)
            index += size
        return starts

    # --- ids ---

    def has_item(self, item_id: int) -> bool:
        """True for ids in the base item range."""
        return ITEM_ID_BASE <= item_id < ITEM_ID_BASE + self.item_count

    def has_bib(self, bib_id: int) -> bool:
        """True for ids in the base bib range."""
        return BIB_ID_BASE <= bib_id < BIB_ID_BASE + self.bib_count

    def bib_id_for_item(self, item_id: int) -> int:
        """The bib an item belongs to."""
        return BIB_ID_BASE + bisect_right(self._group_start, item_id - ITEM_ID_BASE) - 1

    def item_ids_for_bib(self, bib_id: int) -> range:
        """The ids of a bib's base items (a contiguous run)."""
        index = bib_id - BIB_ID_BASE
        start = self._group_start[index]
        end = self._group_start[index + 1] if index + 1 < self.bib_count else self.item_count
        return range(ITEM_ID_BASE + start, ITEM_ID_BASE + end)

    # --- items ---

    def item_core(self, item_id: int) -> tuple[int, int, bool, bool, int | None, int]:
        """(created ts, updated ts, deleted, suppressed, deleted day ordinal or None, hash) of a base item."""
        h = mix64(self._salt ^ item_id)
        created = CREATED_START + h % (BASE_END - CREATED_START - 86400)
        h2 = ((h ^ (h >> 31)) * 0xBF58476D1CE4E5B9) & _M64
        h2 ^= h2 >> 29
        updated = created + h2 % (BASE_END - created)
        flags = h2 >> 40
        deleted = flags % 1000 < 8
        suppressed = (flags >> 10) % 100 < 2
        deleted_day = DELETED_START_DAY + (h >> 20) % (DELETED_END_DAY - DELETED_START_DAY + 1) if deleted else None
        return created, updated, deleted, suppressed, deleted_day, h2

    def barcode_for(self, item_id: int) -> str | None:
        """The base barcode: unique-looking 14 digits; some items copy the previous item's, some have none."""
        _, h4 = _derive(self.item_core(item_id)[5])
        return self._barcode(item_id, h4)

    def _barcode(self, item_id: int, h4: int) -> str | None:
        roll = h4 % 1000
        if roll < 3:
            return None
        if roll < 6:
            return ""
        index = item_id - ITEM_ID_BASE
        if roll < 16 and index > 0:
            index -= 1
        return f"31234{(index * _BARCODE_MULTIPLIER + 7) % 1_000_000_000:09d}"

    def item_ids_for_barcode(self, barcode: str) -> list[int]:
        """Base item ids whose base barcode equals `barcode` (inverse of the barcode scramble)."""
        if len(barcode) != 14 or not barcode.startswith("31234") or not barcode.isdigit():
            return []
        index = ((int(barcode[5:]) - 7) * _BARCODE_INVERSE) % 1_000_000_000
        candidates = (ITEM_ID_BASE + index, ITEM_ID_BASE + index + 1)
        return [item_id for item_id in candidates if self.has_item(item_id) and self.barcode_for(item_id) == barcode]

    def _item_parts(self, item_id: int, fixed_fields: bool, var_fields: bool) -> tuple[str, ...] | None:
        """Pre-serialised values of a live base item in ITEM_PARTS order ("" for an absent barcode or
        call number, and for fixedFields/varFields when not wanted); None for a deleted item."""
        created, updated, _deleted, suppressed, deleted_day, h2 = self.item_core(item_id)
        if deleted_day is not None:
            return None
        h3, h4 = _derive(h2)
        bib_id = BIB_ID_BASE + bisect_right(self._group_start, item_id - ITEM_ID_BASE) - 1
        location = h3 % len(_LOCATIONS)
        status_index = (h3 >> 8) % len(_STATUS_POOL)
        item_type = (h3 >> 16) % len(_ITEM_TYPE_POOL)
        roll = h3 >> 40
        if _STATUS_POOL[status_index][2]:
            status = f'{_STATUS_JSON[status_index]},"duedate":"{iso_datetime(BASE_END + (h4 >> 20) % 2_419_200)}"}}'
        else:
            status = _STATUS_JSON[status_index] + "}"
        barcode = self._barcode(item_id, h4)
        call_number = self.call_number_json(self.bib_summary(bib_id), (roll >> 8) % 100)
        call_number_tag = call_number_marc_tag((h4 >> 40) % 100)
        fixed = ""
        if fixed_fields:
            invda = (
                f'"69":{{"label":"INVDA","value":"{iso_day(updated // 86400)}T00:00:00Z"}},' if roll % 100 < 40 else ""
            )
            fixed = (
                f'{{"58":{{"label":"COPY #","value":{1 + (h3 >> 24) % 3}}},"59":{{"label":"ICODE1","value":"0"}},'
                f'{_FF_ITEM_TYPE[item_type]}"62":{{"label":"PRICE","value":"{10 + (h3 >> 28) % 40}.90"}},{invda}'
                f'{self._ff_74}"76":{{"label":"TOT CHKOUT","value":{(h3 >> 34) % 120}}},'
                f"{_FF_LOCATION[location]}{_FF_STATUS[status_index]}{self._ff_tail}"
            )
        var = ""
        if var_fields:
            parts = []
            if barcode is not None:
                parts.append(f'{{"fieldTag":"b","content":"{barcode}"}}')
            if call_number is not None:
                parts.append(
                    _PLAIN_CALL_NUMBER_FIELD % call_number
                    if call_number_tag is None
                    else _CALL_NUMBER_FIELD % (call_number_tag, call_number)
                )
            if (roll >> 12) % 100 < 8:
                parts.append(_NOTE_JSON[(roll >> 16) % len(_NOTE_JSON)])
            if (h4 >> 52) % 100 < EMPTY_NOTE_PERCENT:
                parts.append(_EMPTY_NOTE_JSON)
            var = "[" + ",".join(parts) + "]"
        return (
            f'"{item_id}"',
            f'"{iso_datetime(updated)}"',
            f'"{iso_datetime(created)}"',
            "true" if suppressed else "false",
            f'["{bib_id}"]',
            _LOCATION_JSON[location],
            status,
            "" if barcode is None else f'"{barcode}"',
            "" if call_number is None else call_number if call_number_tag is None else '"|a' + call_number[1:],
            _ITEM_TYPE_JSON[item_type],
            fixed,
            var,
        )

    def items_json_core(self, ids: Iterable[int]) -> list[str]:
        """`item_json(id, volumes=False, fixed_fields=False, var_fields=False)` for many ids at once.

        The sync's page shape, inlined into one loop (hashes, dates, barcode, bib look-up) because
        that is about twice as fast as calling the helpers per item; a test keeps it equal to `item_json`.
        """
        salt, starts, summary_of = self._salt, self._group_start, self.bib_summary
        days, times = _DAYS, _TIMES_OF_DAY
        locations, statuses, status_pool, item_types = _LOCATION_JSON, _STATUS_JSON, _STATUS_POOL, _ITEM_TYPE_JSON
        n_locations, n_statuses, n_item_types = len(locations), len(statuses), len(item_types)
        span = BASE_END - CREATED_START - 86400
        out: list[str] = []
        last_bib, usual, two_classes = -1, "", ""
        for item_id in ids:
            x = ((salt ^ item_id) + 0x9E3779B97F4A7C15) & _M64
            x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
            x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
            h = x ^ (x >> 31)
            created = CREATED_START + h % span
            h2 = ((h ^ (h >> 31)) * 0xBF58476D1CE4E5B9) & _M64
            h2 ^= h2 >> 29
            flags = h2 >> 40
            if flags % 1000 < 8:
                out.append(self.item_json(item_id, volumes=False, fixed_fields=False, var_fields=False))
                continue
            updated = created + h2 % (BASE_END - created)
            h3 = ((h2 ^ (h2 >> 29)) * 0xD6E8FEB86659FD93) & _M64
            h4 = ((h3 ^ (h3 >> 31)) * 0xA0761D6478BD642F) & _M64
            h3 ^= h3 >> 32
            h4 ^= h4 >> 29
            index = item_id - ITEM_ID_BASE
            bib_id = BIB_ID_BASE + bisect_right(starts, index) - 1
            if bib_id != last_bib:
                usual, two_classes = summary_of(bib_id)
                last_bib = bib_id
            status_index = (h3 >> 8) % n_statuses
            if status_pool[status_index][2]:
                due_day, due_second = divmod(BASE_END + (h4 >> 20) % 2_419_200, 86400)
                due = (days.get(due_day) or iso_day(due_day)) + times[due_second]
                status = f'{statuses[status_index]},"duedate":"{due}"}}'
            else:
                status = statuses[status_index] + "}"
            day, second = divmod(updated, 86400)
            updated_text = (days.get(day) or iso_day(day)) + times[second]
            day, second = divmod(created, 86400)
            created_text = (days.get(day) or iso_day(day)) + times[second]
            text = (
                f'{{"id":"{item_id}","updatedDate":"{updated_text}","createdDate":"{created_text}","deleted":false,'
                f'"suppressed":{"true" if (flags >> 10) % 100 < 2 else "false"},"bibIds":["{bib_id}"],'
                f'"location":{locations[h3 % n_locations]},"status":{status}'
            )
            barcode_roll = h4 % 1000
            if barcode_roll >= 6:
                if barcode_roll < 16 and index > 0:
                    index -= 1
                text += f',"barcode":"31234{(index * _BARCODE_MULTIPLIER + 7) % 1_000_000_000:09d}"'
            elif barcode_roll >= 3:
                text += ',"barcode":""'
            call_roll = (h3 >> 48) % 100
            if call_roll >= 3:
                call_number = two_classes if call_roll < 6 else usual
                if (h4 >> 40) % 100 < PLAIN_CALL_NUMBER_PERCENT:
                    text += ',"callNumber":' + call_number
                else:
                    text += ',"callNumber":"|a' + call_number[1:]
            out.append(f'{text},"itemType":{item_types[(h3 >> 16) % n_item_types]}}}')
        return out

    def _deleted_item(self, item_id: int) -> dict[str, str]:
        deleted_day = self.item_core(item_id)[4]
        assert deleted_day is not None
        return {"id": f'"{item_id}"', "deletedDate": f'"{iso_day(deleted_day - _EPOCH_DAY)}"', "deleted": "true"}

    def item_fragments(self, item_id: int, *, fixed_fields: bool = True, var_fields: bool = True) -> dict[str, str]:
        """The base item as JSON fragments, one per top-level field (deleted items: id, deletedDate, deleted).

        fixedFields and varFields are the expensive part; leave them out when the request did not ask for them.
        """
        parts = self._item_parts(item_id, fixed_fields, var_fields)
        if parts is None:
            return self._deleted_item(item_id)
        fragments = {name: value for name, value in zip(ITEM_PARTS, parts, strict=True) if value}
        fragments["deleted"] = "false"
        fragments["volumes"] = "[]"
        return fragments

    def item_json(self, item_id: int, *, volumes: bool, fixed_fields: bool, var_fields: bool) -> str:
        """The base item as one JSON object with ITEM_CORE_FIELDS plus the optional ones asked for.

        The fast path for `GET /items`: one f-string instead of a dict of fragments and a join.
        """
        parts = self._item_parts(item_id, fixed_fields, var_fields)
        if parts is None:
            stub = self._deleted_item(item_id)
            return f'{{"id":{stub["id"]},"deletedDate":{stub["deletedDate"]},"deleted":true}}'
        ident, updated, created, suppressed, bib_ids, location, status, barcode, call_number, item_type, fixed, var = (
            parts
        )
        text = (
            f'{{"id":{ident},"updatedDate":{updated},"createdDate":{created},"deleted":false,'
            f'"suppressed":{suppressed},"bibIds":{bib_ids},"location":{location},"status":{status}'
        )
        if volumes:
            text += ',"volumes":[]'
        if barcode:
            text += ',"barcode":' + barcode
        if call_number:
            text += ',"callNumber":' + call_number
        text += ',"itemType":' + item_type
        if fixed:
            text += ',"fixedFields":' + fixed
        if var:
            text += ',"varFields":' + var
        return text + "}"

    # --- bibs ---

    def bib_hash(self, bib_id: int) -> int:
        """The hash every base attribute of a bib is derived from."""
        return mix64(self._bib_salt ^ bib_id)

    def bib_core(self, bib_id: int) -> tuple[int, int, bool]:
        """(created ts, updated ts, suppressed) of a base bib."""
        return _bib_core(self.bib_hash(bib_id))

    def main_entry(self, h: int) -> tuple[MainEntry, _EntryJson]:
        """The main entry of the bib with hash `h`, from a table of MAIN_ENTRY_TABLE_SIZE headings (filled lazily)."""
        index = (h >> 3) % MAIN_ENTRY_TABLE_SIZE
        found = self._entries[index]
        if found is None:
            entry = main_entry_for(mix64(self._bib_salt ^ (index << 24) ^ 0x3A1))
            found = self._entries[index] = (entry, _entry_json(entry))
        return found

    @staticmethod
    def _classes(h: int) -> list[str]:
        roll = (h >> 20) % 100
        first = _CLASS_POOL[(h >> 27) % len(_CLASS_POOL)]
        if roll < 8:
            return []
        if roll < 12:
            return [first, _CLASS_POOL[(h >> 35) % len(_CLASS_POOL)]]
        if roll < 16:
            return [f"{first} {_COLLECTION_TEXTS[(h >> 35) % len(_COLLECTION_TEXTS)]}"]
        return [first]

    def _bib_summary(self, bib_id: int) -> BibSummary:
        h = self.bib_hash(bib_id)
        entry = self.main_entry(h)[0]
        classes = self._classes(h)
        new_class = classes[0].split(" ", 1)[0] if classes else _CLASS_POOL[(h >> 44) % len(_CLASS_POOL)]
        old_class = new_class if (h >> 50) % 100 < 70 else _CLASS_POOL[(h >> 52) % len(_CLASS_POOL)]
        collection = _COLLECTION_TEXTS[(h >> 58) % len(_COLLECTION_TEXTS)] if (h >> 44) % 100 < 6 else None
        second = _CLASS_POOL[(h >> 30) % len(_CLASS_POOL)]
        # Pool texts and signums need no JSON escaping (checked at import), so quoting is enough.
        usual = f'"{old_class} {collection or entry.signum or "???"}"'
        two_classes = f'"{old_class}, {second} {collection or "Mystery Romance"}"'
        return BibSummary(usual, two_classes)

    def call_number_json(self, summary: BibSummary, roll: int) -> str | None:
        """An item's old call number (JSON string) by a roll of 0-99: 3 % none, 3 % two classes, else the usual."""
        if roll < 3:
            return None
        return summary.two_classes_json if roll < 6 else summary.usual_json

    def _bib_parts(self, bib_id: int) -> tuple[int, int, bool, int, int, _EntryJson, str]:
        h = self.bib_hash(bib_id)
        created, updated, suppressed = _bib_core(h)
        entry = self.main_entry(h)[1]
        material = (h >> 8) % len(_MATERIAL_POOL)
        year = 1950 + (h >> 14) % 76
        var_fields = _LEADER_JSON[material]
        if _MATERIAL_POOL[material][0] == "a":
            var_fields += "," + _ISBN_FIELD % ((h >> 24) % 10_000_000)
        var_fields += "," + entry.var_fields + "," + _PUBLICATION_FIELD % year
        for value in self._classes(h):
            var_fields += "," + _CLASS_FIELD % f'"{value}"'
        return created, updated, suppressed, material, year, entry, "[" + var_fields + "]"

    def bib_fragments(self, bib_id: int) -> dict[str, str]:
        """The base bib as JSON fragments, one per top-level field."""
        created, updated, suppressed, material, year, entry, var_fields = self._bib_parts(bib_id)
        return {
            "id": f'"{bib_id}"',
            "updatedDate": f'"{iso_datetime(updated)}"',
            "createdDate": f'"{iso_datetime(created)}"',
            "deleted": "false",
            "suppressed": "true" if suppressed else "false",
            "available": "true",
            "lang": entry.lang,
            "title": entry.title,
            "author": entry.author,
            "materialType": _MATERIAL_JSON[material],
            "bibLevel": '{"code":"m","value":"MONOGRAPH"}',
            "publishYear": str(year),
            "catalogDate": f'"{iso_day(created // 86400)}"',
            "country": '{"code":"fi","name":"Finland"}',
            "fixedFields": (
                f'{{"24":{entry.fixed_lang},"30":{_MATERIAL_FF[material]},"31":{{"label":"BIB LVL","value":"m"}}}}'
            ),
            "varFields": var_fields,
        }

    def bib_json(self, bib_id: int, *, var_fields: bool) -> str:
        """The base bib as one JSON object with BIB_CORE_FIELDS (plus varFields): the `GET /bibs` fast path."""
        created, updated, suppressed, material, _, entry, var_json = self._bib_parts(bib_id)
        text = (
            f'{{"id":"{bib_id}","updatedDate":"{iso_datetime(updated)}","createdDate":"{iso_datetime(created)}",'
            f'"deleted":false,"suppressed":{"true" if suppressed else "false"},"lang":{entry.lang},'
            f'"title":{entry.title},"author":{entry.author},"materialType":{_MATERIAL_JSON[material]}'
        )
        return text + (',"varFields":' + var_json + "}" if var_fields else "}")


def _bib_core(h: int) -> tuple[int, int, bool]:
    created = CREATED_START + h % (BASE_END - CREATED_START - 86400)
    h2 = mix64(h)
    updated = created + h2 % (BASE_END - created)
    return created, updated, (h2 >> 40) % 100 < 1


#: Names of the values `_item_parts` returns, in order.
ITEM_PARTS = (
    "id",
    "updatedDate",
    "createdDate",
    "suppressed",
    "bibIds",
    "location",
    "status",
    "barcode",
    "callNumber",
    "itemType",
    "fixedFields",
    "varFields",
)
#: Fields `bib_json` renders (with varFields on request); other field sets go through `bib_fragments`.
BIB_CORE_FIELDS = frozenset(
    {
        "id",
        "updatedDate",
        "createdDate",
        "deletedDate",
        "deleted",
        "suppressed",
        "lang",
        "title",
        "author",
        "materialType",
    }
)
#: Distinct main entries (heading + title) the seeded bibs draw from.
MAIN_ENTRY_TABLE_SIZE = 8192
#: Fields `item_json` always renders (it adds volumes, fixedFields and varFields on request).
ITEM_CORE_FIELDS = frozenset(ITEM_PARTS) - {"fixedFields", "varFields"} | {"deletedDate", "deleted"}


def call_number_marc_tag(roll: int) -> str | None:
    """The marcTag of an item's call-number field by a roll of 0-99 (None: plain content without a tag)."""
    if roll < PLAIN_CALL_NUMBER_PERCENT:
        return None
    if roll < PLAIN_CALL_NUMBER_PERCENT + CALL_NUMBER_090_PERCENT:
        return "090"
    if roll < PLAIN_CALL_NUMBER_PERCENT + CALL_NUMBER_090_PERCENT + CALL_NUMBER_092_PERCENT:
        return "092"
    return "099"


def _derive(h2: int) -> tuple[int, int]:
    """Two more hashes from one, cheaply (xorshift-multiply steps rather than full mixes)."""
    h3 = ((h2 ^ (h2 >> 29)) * 0xD6E8FEB86659FD93) & _M64
    h4 = ((h3 ^ (h3 >> 31)) * 0xA0761D6478BD642F) & _M64
    return h3 ^ (h3 >> 32), h4 ^ (h4 >> 29)


def _marc(field_tag: str, marc_tag: str, ind1: str, ind2: str, subfields: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "fieldTag": field_tag,
        "marcTag": marc_tag,
        "ind1": ind1,
        "ind2": ind2,
        "subfields": [{"tag": tag, "content": content} for tag, content in subfields],
    }


# An odd multiplier coprime to 10**9 scrambles barcodes; its inverse turns them back into ids.
_BARCODE_MULTIPLIER = 740_461_133
_BARCODE_INVERSE = pow(_BARCODE_MULTIPLIER, -1, 1_000_000_000)
