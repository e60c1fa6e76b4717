"""Client registration and authentication."""

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from tarroitus.errors import ConflictError
from tarroitus.models import Client, ClientRole
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
