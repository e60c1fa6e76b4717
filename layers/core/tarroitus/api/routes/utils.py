"""Liveness and readiness probes."""

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from tarroitus.api.deps import EngineDep
from tarroitus.api.schemas import HealthCheck, Readiness, error_responses
from tarroitus.errors import ServiceUnavailableError
from tarroitus.services.health import check_database

router = APIRouter(prefix="/utils", tags=["utils"])


@router.get("/health-check", response_model=HealthCheck)
def read_health_check() -> HealthCheck:
    """Liveness: answers as long as the process runs; touches nothing."""
    return HealthCheck()


@router.get("/readiness", response_model=Readiness, responses=error_responses(503))
def read_readiness(engine: EngineDep) -> Readiness | JSONResponse:
    """Readiness: queries the database and reports its migration revision."""
    try:
        status = check_database(engine)
    except SQLAlchemyError as exc:
        raise ServiceUnavailableError("Database is not reachable") from exc
    return Readiness(
        status="ready" if status.up_to_date else "migrations_pending",
        database="ok",
        migration_revision=status.current_revision,
        expected_revision=status.expected_revision,
    )
