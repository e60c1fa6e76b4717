"""Pydantic models of the Sierra REST API v6 records this project reads.

Field names are snake_case with Sierra's camelCase as aliases; unknown keys are ignored so a
newer Sierra adding fields never breaks parsing. Record ids are strings of digits in Sierra's
JSON and stay strings here, with an `int_id` property for database keys.
"""

from datetime import date, datetime
from typing import Any, Required, TypedDict

from pydantic import BaseModel, ConfigDict, Field, field_validator

FixedFieldValue = str | int | float | bool | None


class SierraModel(BaseModel):
    """Base for Sierra records: camelCase aliases, populate by name too, extra keys ignored."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class Subfield(SierraModel):
    """One MARC subfield of a varField: `{"tag": "a", "content": "..."}`."""

    tag: str
    content: str = ""


class VarField(SierraModel):
    """A variable-length field: either plain `content` or MARC `subfields` with indicators."""

    field_tag: str = Field(alias="fieldTag")
    marc_tag: str | None = Field(default=None, alias="marcTag")
    ind1: str | None = None
    ind2: str | None = None
    content: str | None = None
    subfields: list[Subfield] | None = None

    def subfield(self, tag: str) -> str | None:
        """Content of the first subfield with this tag, or None."""
        for sub in self.subfields or ():
            if sub.tag == tag:
                return sub.content
        return None

    def subfield_contents(self) -> list[str]:
        """All subfield contents in order (or the plain content as a one-item list)."""
        if self.subfields is not None:
            return [sub.content for sub in self.subfields]
        return [self.content] if self.content is not None else []

    def to_sierra(self) -> dict[str, Any]:
        """The field as Sierra's JSON (camelCase, absent keys omitted), for a PUT body."""
        return self.model_dump(by_alias=True, exclude_none=True)


class FixedField(SierraModel):
    """A fixed-length field: `{"label": "INVDA", "value": "...", "display": "..."}`."""

    label: str = ""
    value: FixedFieldValue = None
    display: str | None = None


class CodeName(SierraModel):
    """A coded value with a name, e.g. an item location or a bib language/country."""

    code: str = ""
    name: str | None = None


class ItemStatus(SierraModel):
    """An item's circulation status; `duedate` is set when it is checked out."""

    code: str = ""
    display: str | None = None
    duedate: datetime | None = None


class _Record(SierraModel):
    id: str
    updated_date: datetime | None = Field(default=None, alias="updatedDate")
    created_date: datetime | None = Field(default=None, alias="createdDate")
    deleted_date: date | None = Field(default=None, alias="deletedDate")
    deleted: bool = False
    suppressed: bool = False
    fixed_fields: dict[str, FixedField] = Field(default_factory=dict, alias="fixedFields")
    var_fields: list[VarField] = Field(default_factory=list, alias="varFields")

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_string(cls, value: object) -> object:
        return str(value) if isinstance(value, int) else value

    @property
    def int_id(self) -> int:
        """The record id as an integer."""
        return int(self.id)

    def var_fields_with(self, *, field_tag: str | None = None, marc_tag: str | None = None) -> list[VarField]:
        """varFields matching the given field tag and/or MARC tag, in record order."""
        return [
            field
            for field in self.var_fields
            if (field_tag is None or field.field_tag == field_tag) and (marc_tag is None or field.marc_tag == marc_tag)
        ]

    def fixed_field(self, number: int | str) -> FixedField | None:
        """The fixed field with this number, or None."""
        return self.fixed_fields.get(str(number))


class SierraItem(_Record):
    """An item record. Deleted items carry only `id`, `deletedDate` and `deleted`."""

    bib_ids: list[str] = Field(default_factory=list, alias="bibIds")
    location: CodeName | None = None
    status: ItemStatus | None = None
    barcode: str | None = None
    call_number: str | None = Field(default=None, alias="callNumber")
    item_type: str | None = Field(default=None, alias="itemType")

    @field_validator("bib_ids", mode="before")
    @classmethod
    def _bib_ids_as_strings(cls, value: object) -> object:
        if isinstance(value, list):
            return [str(item) if isinstance(item, int) else item for item in value]
        return value

    @field_validator("item_type", mode="before")
    @classmethod
    def _item_type_as_string(cls, value: object) -> object:
        return str(value) if isinstance(value, int) else value

    @property
    def bib_id(self) -> int | None:
        """The item's bib (`bibIds[0]`) as an integer, or None for an item without a bib."""
        return int(self.bib_ids[0]) if self.bib_ids else None


class ItemPage(SierraModel):
    """One page of `GET /items`: `total` is the number of entries in this page."""

    total: int = 0
    start: int = 0
    entries: list[SierraItem] = Field(default_factory=list)


# Raw JSON shapes, for bulk paths that skip validation (`SierraClient.list_items_raw` and friends):
# `json.loads` is 2-4x faster than building models for a 2000-record page.


class SubfieldJson(TypedDict):
    """A subfield as Sierra sends it."""

    tag: str
    content: str


class VarFieldJson(TypedDict, total=False):
    """A varField as Sierra sends it."""

    fieldTag: Required[str]
    marcTag: str
    ind1: str
    ind2: str
    content: str
    subfields: list[SubfieldJson]


class FixedFieldJson(TypedDict, total=False):
    """A fixed field as Sierra sends it."""

    label: str
    value: FixedFieldValue
    display: str


class CodeNameJson(TypedDict, total=False):
    """`{"code", "name"}` as Sierra sends it."""

    code: str
    name: str


class CodeValueJson(TypedDict, total=False):
    """`{"code", "value"}` as Sierra sends it."""

    code: str
    value: str


class ItemStatusJson(TypedDict, total=False):
    """An item status as Sierra sends it."""

    code: str
    display: str
    duedate: str


class RecordJson(TypedDict, total=False):
    """What items and bibs share, as Sierra sends it."""

    id: Required[str]
    updatedDate: str
    createdDate: str
    deletedDate: str
    deleted: bool
    suppressed: bool
    fixedFields: dict[str, FixedFieldJson]
    varFields: list[VarFieldJson]


class ItemJson(RecordJson, total=False):
    """An item entry as Sierra sends it (deleted items: only id, deletedDate, deleted)."""

    bibIds: list[str]
    location: CodeNameJson
    status: ItemStatusJson
    barcode: str
    callNumber: str
    itemType: str


class BibJson(RecordJson, total=False):
    """A bib entry as Sierra sends it."""

    title: str
    author: str
    materialType: CodeValueJson
    lang: CodeNameJson


class ItemPageJson(TypedDict):
    """A `GET /items` page as Sierra sends it."""

    total: int
    start: int
    entries: list[ItemJson]


class BibPageJson(TypedDict):
    """A `GET /bibs` page as Sierra sends it."""

    total: int
    start: int
    entries: list[BibJson]
