"""Scheduled jobs: each `run(...)` opens its session(s), builds its clients and calls services."""
