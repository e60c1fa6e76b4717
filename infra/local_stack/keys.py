"""The local stack's admin and printer keys: created on the first start, the same on every later one.

The keys live in `<state dir>/keys.json` (under the git-ignored `.data/`), readable by the user only.
Each start installs them again through the client services, so they work after the database was
wiped too; a printer client whose key no longer matches the file (or that was revoked) gets a new one.
"""

import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tarroitus.domain import ClientRole
from tarroitus.repositories.transactions import session_scope
from tarroitus.services.api_keys import generate_api_key
from tarroitus.services.clients import authenticate, ensure_admin_client, list_clients, register_client, rotate_key

ADMIN_NAME = "local-admin"
PRINTER_NAME = "local-printer"
KEYS_FILE = "keys.json"


@dataclass(frozen=True)
class LocalKeys:
    """A ready-to-use admin key and printer key."""

    admin: str
    printer: str


def install_local_keys(engine: Engine, *, pepper: str, state_dir: Path) -> LocalKeys:
    """Make the stored keys (new ones on the first start) the keys of the local admin and printer clients."""
    path = state_dir / KEYS_FILE
    stored = _read(path)
    admin = stored.get("admin") or generate_api_key()
    with session_scope(engine) as session:
        ensure_admin_client(session, name=ADMIN_NAME, api_key=admin, pepper=pepper)
        printer = _ensure_printer(session, stored.get("printer"), pepper)
    keys = LocalKeys(admin=admin, printer=printer)
    if stored != {"admin": keys.admin, "printer": keys.printer}:
        _write(path, {"admin": keys.admin, "printer": keys.printer})
    return keys


def _ensure_printer(session: Session, key: str | None, pepper: str) -> str:
    if key:
        holder = authenticate(session, api_key=key, pepper=pepper)
        if holder is not None and holder.role is ClientRole.PRINTER and holder.name.startswith(PRINTER_NAME):
            return key
    existing = next((client for client in list_clients(session) if client.name == PRINTER_NAME), None)
    if existing is None:
        return register_client(session, name=PRINTER_NAME, role=ClientRole.PRINTER, pepper=pepper, api_key=key).api_key
    if existing.revoked_at is None:
        return rotate_key(session, client=existing, pepper=pepper).api_key
    # Someone revoked the local printer on purpose: leave it revoked and register a fresh one.
    name = f"{PRINTER_NAME}-{uuid.uuid4().hex[:6]}"
    return register_client(session, name=name, role=ClientRole.PRINTER, pepper=pepper).api_key


def _read(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return {}
    return {name: value for name, value in data.items() if isinstance(value, str)} if isinstance(data, dict) else {}


def _write(path: Path, keys: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump(keys, file, indent=2)
        file.write("\n")
