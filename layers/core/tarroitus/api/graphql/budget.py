"""The execution time budget of a GraphQL request (GRAPHQL_TIME_BUDGET_SECONDS), checked before every field.

The cost limits (cost.py) bound what a document may ask for; the budget bounds how long answering it
may take, whatever the data or the database's load: once it has run out, no further field is resolved
and the request answers one error instead of a late, partial result.
"""

from typing import Any

from graphql import GraphQLError
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from tarroitus.api.graphql.context import GraphQLContext
from tarroitus.errors import TarroitusError


class QueryTimeBudgetExceededError(TarroitusError):
    """The query was still running when its time budget ran out."""

    status_code = 503
    code = "query_time_budget_exceeded"


class BudgetedExecutor(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor (with Strawberry's resolve info) that stops resolving once the deadline has passed."""

    def execute_field(self, *args: Any, **kwargs: Any) -> Any:
        """Resolve the field, or raise QueryTimeBudgetExceededError when the request's budget is spent."""
        context = self.context_value
        if isinstance(context, GraphQLContext) and not context.deadline.allows(0):
            raise QueryTimeBudgetExceededError(
                f"The query ran past its time budget of {context.settings.graphql_time_budget_seconds:g} s;"
                " ask for fewer fields or smaller pages"
            )
        return super().execute_field(*args, **kwargs)


def budget_error(errors: list[GraphQLError]) -> GraphQLError | None:
    """The first error that stopped the query for its time budget, if one did."""
    return next((error for error in errors if isinstance(error.original_error, QueryTimeBudgetExceededError)), None)
