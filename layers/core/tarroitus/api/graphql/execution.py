"""Run one GraphQL request and shape its answer: data, and errors each with a machine-readable code."""

from typing import Any

from aws_lambda_powertools import Logger
from graphql import GraphQLError

from tarroitus.api.graphql.budget import budget_error
from tarroitus.api.graphql.context import GraphQLContext
from tarroitus.api.graphql.schema import get_schema
from tarroitus.errors import TarroitusError

logger = Logger(child=True)


def run_query(
    context: GraphQLContext, *, query: str, variables: dict[str, Any] | None, operation_name: str | None
) -> dict[str, Any]:
    """The GraphQL response body of `query` (the schema has no mutations: they are refused in validation).

    A query stopped by its time budget answers that one error and no data: what was resolved before
    the budget ran out is a partial answer with a null wherever the stop reached.
    """
    result = get_schema().execute_sync(
        query,
        variable_values=variables,
        context_value=context,
        operation_name=operation_name,
    )
    stopped = budget_error(result.errors or [])
    if stopped is not None:
        return {"data": None, "errors": [format_error(stopped)]}
    errors = [format_error(error) for error in result.errors or []]
    # Per the GraphQL spec, `data` is absent when the request failed before execution (no error has a path).
    executed = result.data is not None or any(error.path for error in result.errors or [])
    body: dict[str, Any] = {"data": result.data} if executed else {}
    if errors:
        body["errors"] = errors
    return body


def format_error(error: GraphQLError) -> dict[str, Any]:
    """One error as the response shows it; an unexpected exception is logged and answered generically."""
    formatted: dict[str, Any] = dict(error.formatted)
    original = error.original_error
    if isinstance(original, TarroitusError):
        formatted["message"] = original.message
        formatted["extensions"] = {"code": original.code, "details": original.details}
    elif original is not None and not isinstance(original, GraphQLError):
        logger.error(
            "Unhandled error in a GraphQL resolver",
            extra={"path": error.path, "error_type": type(original).__name__},
            exc_info=original,
        )
        formatted["message"] = "Internal server error"
        formatted["extensions"] = {"code": "internal_error"}
    else:
        formatted.setdefault("extensions", {"code": "invalid_query"})
    return formatted
