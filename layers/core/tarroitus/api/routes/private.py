"""Local-only diagnostics; the router is mounted only when ENV=local."""

from typing import Any

from fastapi import APIRouter

from tarroitus.api.deps import EngineDep, SettingsDep
from tarroitus.services.diagnostics import describe_database, describe_settings

router = APIRouter(prefix="/private/diagnostics", tags=["private"])


@router.get("/settings")
def read_settings(settings: SettingsDep) -> dict[str, Any]:
    """The effective settings, with every secret masked."""
    return describe_settings(settings)


@router.get("/database")
def read_database(engine: EngineDep) -> dict[str, Any]:
    """Server version, schema revision and row counts of the main tables."""
    return describe_database(engine)
