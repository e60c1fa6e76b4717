"""GraphQL: read-only queries over items, label events, clients, status and analytics, with the REST keys and roles.

Strawberry and graphql-core are imported on the first GraphQL request, not with the app: they
would add most of a second to every API Lambda cold start, and most requests never use them.
"""

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from tarroitus.api.auth import CurrentClient, PrinterClient
from tarroitus.api.deps import SessionDep, SettingsDep
from tarroitus.api.graphql.context import GraphQLContext
from tarroitus.api.graphql.limits import MAX_QUERY_CHARS
from tarroitus.api.schemas import error_responses
from tarroitus.deadlines import Deadline
from tarroitus.errors import BadRequestError
from tarroitus.settings import Settings

router = APIRouter(prefix="/graphql", tags=["graphql"])

#: Printers and admins; sync agents have nothing to read here, as in REST.
GraphQLReader = PrinterClient

NO_STORE = {"Cache-Control": "no-store"}


class GraphQLRequest(BaseModel):
    """A GraphQL request (GraphQL over HTTP): the document, its variables and the operation to run."""

    model_config = ConfigDict(populate_by_name=True)

    query: str = Field(min_length=1, max_length=MAX_QUERY_CHARS)
    variables: dict[str, Any] | None = None
    operation_name: str | None = Field(default=None, alias="operationName", max_length=200)
    extensions: dict[str, Any] | None = None


class GraphQLResponse(BaseModel):
    """The result: `data` (absent when the document was refused), and `errors` each with `extensions.code`."""

    data: dict[str, Any] | None = None
    errors: list[dict[str, Any]] | None = None


def answer(session: Session, settings: Settings, client: CurrentClient, request: GraphQLRequest) -> JSONResponse:
    """Run the request's query and answer its result (errors included) with 200, uncached."""
    # Imported on first use, not at start-up: see the module docstring.
    from tarroitus.api.graphql.execution import run_query

    deadline = Deadline.after(settings.graphql_time_budget_seconds)
    body = run_query(
        GraphQLContext(session=session, client=client, settings=settings, deadline=deadline),
        query=request.query,
        variables=request.variables,
        operation_name=request.operation_name,
    )
    return JSONResponse(body, headers=NO_STORE)


@router.post("", response_model=GraphQLResponse, responses=error_responses(401, 403, 413, 422))
def read_graphql(
    body: GraphQLRequest, session: SessionDep, settings: SettingsDep, client: GraphQLReader
) -> JSONResponse:
    """Run a read-only GraphQL query (printers: items and label events; admins: everything)."""
    return answer(session, settings, client, body)


@router.get("", response_model=GraphQLResponse, responses=error_responses(400, 401, 403, 422))
def read_graphql_by_get(
    session: SessionDep,
    settings: SettingsDep,
    client: GraphQLReader,
    query: Annotated[str, Query(min_length=1, max_length=MAX_QUERY_CHARS)],
    variables: Annotated[str | None, Query(max_length=MAX_QUERY_CHARS, description="A JSON object")] = None,
    operation_name: Annotated[str | None, Query(alias="operationName", max_length=200)] = None,
) -> JSONResponse:
    """The same query over GET, with `variables` as a JSON object in the query string."""
    try:
        decoded = json.loads(variables) if variables else None
    except json.JSONDecodeError as exc:
        raise BadRequestError("variables must be a JSON object") from exc
    if decoded is not None and not isinstance(decoded, dict):
        raise BadRequestError("variables must be a JSON object")
    request = GraphQLRequest(query=query, variables=decoded, operation_name=operation_name)
    return answer(session, settings, client, request)
