"""Client registration and authentication."""

import enum
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from tarroitus.domain import ClientRole
from tarroitus.errors import ConflictError, NotFoundError
from tarroitus.models import Client
from tarroitus.repositories import clients as clients_repository
from tarroitus.services.api_keys import generate_api_key, hash_api_key, hashes_match, key_id_for


@dataclass(frozen=True)
class IssuedKey:
    """A client together with its plain API key, which exists only in this response."""

    client: Client
    api_key: str


def register_client(
    session: Session, *, name: str, role: ClientRole, pepper: str, api_key: str | None = None
) -> IssuedKey:
    """Register a client with a new key (or adopt an existing station's key); the key is returned once."""
    if clients_repository.get_by_name(session, name=name) is not None:
        raise ConflictError(f"A client named {name!r} exists already", code="client_exists")
    key = api_key or generate_api_key()
    key_hash = hash_api_key(key, pepper)
    if clients_repository.get_by_key_hash(session, key_hash=key_hash) is not None:
        raise ConflictError("That API key belongs to another client", code="key_in_use")
    client = clients_repository.add_client(
        session, name=name, role=role, key_hash=key_hash, key_id=key_id_for(key_hash)
    )
    return IssuedKey(client=client, api_key=key)


def authenticate(session: Session, *, api_key: str, pepper: str) -> Client | None:
    """The active client holding `api_key`, or None (unknown and revoked keys alike)."""
    presented = hash_api_key(api_key, pepper)
    client = clients_repository.get_by_key_hash(session, key_hash=presented)
    if client is None or client.revoked_at is not None or not hashes_match(presented, client.key_hash):
        return None
    return client


def rotate_key(session: Session, *, client: Client, pepper: str) -> IssuedKey:
    """Replace the client's key; the old key stops working at once."""
    key = generate_api_key()
    client.key_hash = hash_api_key(key, pepper)
    client.key_id = key_id_for(client.key_hash)
    client.key_rotated_at = datetime.now(UTC)
    session.flush()
    return IssuedKey(client=client, api_key=key)


def revoke(session: Session, *, client: Client) -> Client:
    """Revoke the client's key; every later request with it is refused."""
    if client.revoked_at is None:
        client.revoked_at = datetime.now(UTC)
        session.flush()
    return client


class AdminKeyOutcome(enum.StrEnum):
    """What `ensure_admin_client` did."""

    CREATED = "created"
    UNCHANGED = "unchanged"
    KEY_REPLACED = "key_replaced"


@dataclass(frozen=True)
class AdminKeyInstall:
    """The admin client `ensure_admin_client` left in place, and what it did."""

    client: Client
    outcome: AdminKeyOutcome


def ensure_admin_client(session: Session, *, name: str, api_key: str, pepper: str) -> AdminKeyInstall:
    """Make `api_key` the key of the admin client `name`; running it again with the same key changes nothing.

    The key comes from a secret, which is the source of truth: when the secret changed, the
    client's key is replaced (and a revocation of the old key lifted). The same key on a revoked
    client stays revoked. A non-admin client of that name, or the key on another client, is a
    ConflictError: installing it would hand admin rights to a station or steal its key.
    """
    key_hash = hash_api_key(api_key, pepper)
    holder = clients_repository.get_by_key_hash(session, key_hash=key_hash)
    if holder is not None and holder.name != name:
        raise ConflictError("That API key belongs to another client", code="key_in_use")
    client = holder or clients_repository.get_by_name(session, name=name)
    if client is None:
        created = register_client(session, name=name, role=ClientRole.ADMIN, pepper=pepper, api_key=api_key)
        return AdminKeyInstall(client=created.client, outcome=AdminKeyOutcome.CREATED)
    if client.role is not ClientRole.ADMIN:
        raise ConflictError(f"Client {name!r} exists and is not an admin", code="client_exists")
    if hashes_match(key_hash, client.key_hash):
        return AdminKeyInstall(client=client, outcome=AdminKeyOutcome.UNCHANGED)
    client.key_hash = key_hash
    client.key_id = key_id_for(key_hash)
    client.key_rotated_at = datetime.now(UTC)
    client.revoked_at = None
    session.flush()
    return AdminKeyInstall(client=client, outcome=AdminKeyOutcome.KEY_REPLACED)


def list_clients(session: Session) -> Sequence[Client]:
    """Every registered client, by name."""
    return clients_repository.list_clients(session)


def get_client(session: Session, *, client_id: uuid.UUID) -> Client:
    """The client with this id; NotFoundError when there is none."""
    client = clients_repository.get_by_id(session, client_id=client_id)
    if client is None:
        raise NotFoundError(f"Client {client_id} not found", code="client_not_found")
    return client


def get_client_by_name(session: Session, *, name: str) -> Client:
    """The client with this name; NotFoundError when there is none."""
    client = clients_repository.get_by_name(session, name=name)
    if client is None:
        raise NotFoundError(f"No client named {name!r}", code="client_not_found")
    return client


def rotate_client_key(session: Session, *, client_id: uuid.UUID, pepper: str) -> IssuedKey:
    """Give an active client a new key (shown once); a revoked client cannot be given one."""
    client = get_client(session, client_id=client_id)
    if client.revoked_at is not None:
        raise ConflictError(f"Client {client.name!r} is revoked; register a new client", code="client_revoked")
    return rotate_key(session, client=client, pepper=pepper)


def revoke_client(session: Session, *, client_id: uuid.UUID) -> Client:
    """Revoke a client's key at once; the last active admin cannot be revoked (nobody could manage clients)."""
    client = get_client(session, client_id=client_id)
    if client.role is ClientRole.ADMIN and client.revoked_at is None:
        active_admins = [
            other for other in list_clients(session) if other.role is ClientRole.ADMIN and other.revoked_at is None
        ]
        if len(active_admins) <= 1:
            raise ConflictError("The last active admin client cannot be revoked", code="last_admin")
    return revoke(session, client=client)
