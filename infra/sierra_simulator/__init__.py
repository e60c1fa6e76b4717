"""A Sierra REST API v6 simulator for tests, local development and benchmarks (see shared/SIERRA.md)."""

from .app import API_PREFIX, SimulatorConfig, create_simulator_app
from .faults import FaultConfig, FaultInjector
from .seed import BIB_ID_BASE, ITEM_ID_BASE
from .store import PutLogEntry, SierraStore, StoreError

__all__ = [
    "API_PREFIX",
    "BIB_ID_BASE",
    "ITEM_ID_BASE",
    "FaultConfig",
    "FaultInjector",
    "PutLogEntry",
    "SierraStore",
    "SimulatorConfig",
    "StoreError",
    "create_simulator_app",
]
