"""Registered API clients."""

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from tarroitus.domain import ClientRole
from tarroitus.models import Client


def get_by_key_hash(session: Session, *, key_hash: str) -> Client | None:
    """The client holding the key with this hash, revoked or not."""
    return session.scalars(select(Client).where(Client.key_hash == key_hash)).one_or_none()


def get_by_id(session: Session, *, client_id: uuid.UUID) -> Client | None:
    """The client with this id."""
    return session.get(Client, client_id)


def get_by_name(session: Session, *, name: str) -> Client | None:
    """The client with this name."""
    return session.scalars(select(Client).where(Client.name == name)).one_or_none()


def list_clients(session: Session) -> Sequence[Client]:
    """Every client, by name."""
    return session.scalars(select(Client).order_by(Client.name)).all()


def add_client(session: Session, *, name: str, role: ClientRole, key_hash: str, key_id: str) -> Client:
    """Insert a client and flush, so its id is known."""
    client = Client(name=name, role=role, key_hash=key_hash, key_id=key_id)
    session.add(client)
    session.flush()
    return client
