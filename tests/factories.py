"""Factories for test rows: ORM inserts with realistic defaults, any column overridable by keyword."""

import itertools
import uuid
from typing import Any

from sqlalchemy.orm import Session

from tarroitus.domain import ClientRole
from tarroitus.models import Client, Item
from tarroitus.services.api_keys import generate_api_key, hash_api_key, key_id_for
from tarroitus.settings import DEVELOPMENT_PEPPER

# Sierra item record ids are 12-digit numbers; start far from anything a test would spell out.
_item_ids = itertools.count(450_000_000_001)


def next_item_id() -> int:
    """A fresh item record id."""
    return next(_item_ids)


def barcode_for(item_record_id: int) -> str:
    """A 14-digit library barcode derived from the item id (matches the barcode rule)."""
    return f"3123400{item_record_id % 10_000_000:07d}"


def make_item(session: Session, **overrides: Any) -> Item:
    """Insert an item with a classification and signum (printable) and flush; any column can be overridden."""
    item_record_id = overrides.pop("item_record_id", None) or next_item_id()
    values: dict[str, Any] = {
        "item_record_id": item_record_id,
        "item_number": f"i{item_record_id % 100_000_000:08d}",
        "barcode": barcode_for(item_record_id),
        "bib_record_id": 420_000_000_000 + item_record_id % 1_000_000,
        "bib_number": f"b{item_record_id % 100_000_000:08d}",
        "best_author": "Kivi, Aleksis",
        "best_title": "Seitsemän veljestä",
        "itype_code_num": 1,
        "item_type_name": "Kirja",
        "material_code": "a",
        "material_name": "Kirja",
        "location_code": "pas",
        "call_number": "84.2 KIV",
        "classification": "84.2",
        "signum": "KIV",
    }
    values.update(overrides)
    if values.get("print_count"):
        # A printed item carries its current label unless the test says otherwise.
        printed_classification = values.get("classification_override") or values["classification"]
        values.setdefault("last_printed_classification", printed_classification)
        values.setdefault("last_printed_signum", values["signum"])
    item = Item(**values)
    session.add(item)
    session.flush()
    return item


def make_client(
    session: Session,
    *,
    role: ClientRole = ClientRole.PRINTER,
    name: str | None = None,
    api_key: str | None = None,
    pepper: str = DEVELOPMENT_PEPPER,
    **overrides: Any,
) -> tuple[Client, str]:
    """Insert a client and flush; returns it with its plain API key (hashed with the test settings' pepper)."""
    key = api_key or generate_api_key()
    key_hash = hash_api_key(key, pepper)
    values: dict[str, Any] = {
        "name": name or f"{role.value}-{uuid.uuid4().hex[:8]}",
        "role": role,
        "key_hash": key_hash,
        "key_id": key_id_for(key_hash),
    }
    values.update(overrides)
    client = Client(**values)
    session.add(client)
    session.flush()
    return client, key
