"""Response schemas shared by every router."""

from typing import Any

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    """What went wrong: a machine-readable code, a message for people, and per-field details."""

    code: str = Field(examples=["not_found"])
    message: str = Field(examples=["Item not found"])
    details: list[dict[str, Any]] = Field(default_factory=list)


class ErrorResponse(BaseModel):
    """The one shape of every /api/v1 error response."""

    error: ErrorBody


def error_responses(*status_codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries documenting the error body for each status code."""
    return {status: {"model": ErrorResponse} for status in status_codes}


class HealthCheck(BaseModel):
    """Liveness: the process answers."""

    status: str = "ok"


class Readiness(BaseModel):
    """Readiness: the database answered and carries this schema revision."""

    status: str
    database: str
    migration_revision: str | None
    expected_revision: str | None
