"""The HTTP API: FastAPI routers, dependencies and error handling."""
