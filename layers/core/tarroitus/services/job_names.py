"""Names of the scheduled jobs, as recorded in `job_state` and `job_runs`."""

SYNC_JOB_NAME = "sierra_sync"
WRITEBACK_JOB_NAME = "sierra_writeback"
ETL_JOB_NAME = "etl"
