"""The whole system on one machine: embedded PostgreSQL, migrations and the API (see README)."""
