"""The domain's vocabulary, free of storage: client roles, writeback states, sync modes and job names."""

import enum


class ClientRole(enum.StrEnum):
    """What a registered API client may do."""

    PRINTER = "printer"
    SYNC = "sync"
    ADMIN = "admin"


class WritebackStatus(enum.StrEnum):
    """Where an item stands in the writeback queue."""

    QUEUED = "queued"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    DEAD = "dead"


class SyncMode(enum.StrEnum):
    """Which pass the Sierra sync runs next."""

    FULL = "full"
    CHANGES = "changes"


SYNC_JOB_NAME = "sierra_sync"
WRITEBACK_JOB_NAME = "sierra_writeback"
ETL_JOB_NAME = "etl"

#: Every scheduled job (as stored in `job_state.job_name` and `job_runs.job_name`), in the order the status
#: view lists them.
JOB_NAMES = (SYNC_JOB_NAME, WRITEBACK_JOB_NAME, ETL_JOB_NAME)
