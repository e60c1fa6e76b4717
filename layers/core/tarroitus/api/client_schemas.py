"""Request and response schemas of the clients and status routes."""

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from tarroitus.domain import ClientRole

#: Legacy client types, accepted as `type` so an admin can register a station the way it was known.
LEGACY_TYPE_NAMES = {"SIGNUM_PRINTER": ClientRole.PRINTER, "ETL": ClientRole.SYNC}

MIN_ADOPTED_KEY_LENGTH = 16


class ClientCreate(BaseModel):
    """A client to register; `api_key` adopts a key a legacy station already uses (else one is generated)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=120, examples=["pasila-station-3"])
    type: ClientRole = Field(description="printer, sync or admin (SIGNUM_PRINTER and ETL are accepted too)")
    api_key: SecretStr | None = Field(default=None, min_length=MIN_ADOPTED_KEY_LENGTH, max_length=512)

    @field_validator("type", mode="before")
    @classmethod
    def _legacy_type(cls, value: Any) -> Any:
        return LEGACY_TYPE_NAMES.get(value, value) if isinstance(value, str) else value


class ClientPublic(BaseModel):
    """A registered client; its key is never shown again after it was issued."""

    id: uuid.UUID
    name: str
    type: ClientRole
    key_id: str = Field(description="Public identifier of the current key (a prefix of its hash)")
    active: bool = Field(description="False once the key is revoked")
    created_at: datetime
    key_rotated_at: datetime | None
    revoked_at: datetime | None
    last_seen_at: datetime | None
    client_version: str | None
    host_name: str | None
    ip_address: str | None
    printer_state: str | None

    @model_validator(mode="before")
    @classmethod
    def _from_row(cls, data: Any) -> Any:
        """A stored client (any object with its attributes) read as its public view."""
        if isinstance(data, dict | BaseModel):
            return data
        fields = {name: getattr(data, name) for name in cls.model_fields if hasattr(data, name)}
        return {**fields, "type": data.role, "active": data.revoked_at is None}

    @classmethod
    def of(cls, client: object) -> "ClientPublic":
        """The public view of a stored client."""
        return cls.model_validate(client)


class ClientWithKey(ClientPublic):
    """A client with its API key: shown in this response only, stored only as a hash."""

    api_key: str

    @classmethod
    def issued(cls, client: object, api_key: str) -> "ClientWithKey":
        """The response to registration or key rotation."""
        return cls(**ClientPublic.of(client).model_dump(), api_key=api_key)


class ClientsPublic(BaseModel):
    """Every registered client, by name."""

    data: list[ClientPublic]
    count: int
