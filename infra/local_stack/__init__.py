"""The whole system on one machine: PostgreSQL, the Sierra simulator, moto, the API and the schedules (see docs/local.md)."""
