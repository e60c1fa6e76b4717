"""Names of the scheduled jobs, as stored in `job_state.job_name` and `job_runs.job_name`."""

SYNC_JOB_NAME = "sierra_sync"
WRITEBACK_JOB_NAME = "sierra_writeback"
ETL_JOB_NAME = "etl"

#: Every scheduled job, in the order the status view lists them.
JOB_NAMES = (SYNC_JOB_NAME, WRITEBACK_JOB_NAME, ETL_JOB_NAME)
