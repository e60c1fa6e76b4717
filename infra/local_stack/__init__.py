"""The whole system on one machine: PostgreSQL, the Sierra simulator, moto, the API, the schedules (docs/local.md)."""
