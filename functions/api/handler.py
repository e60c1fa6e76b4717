"""API Lambda: API Gateway HTTP API (payload v2) events into the FastAPI app through Mangum."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from mangum import Mangum

from tarroitus.api.app import create_app
from tarroitus.observability import COLD_START_METRIC, handler_invocation
from tarroitus.settings import get_settings
from tarroitus.tracing import trace_libraries_when_imported

logger = Logger()
tracer = Tracer(auto_patch=False)
trace_libraries_when_imported(tracer)
metrics = Metrics()

asgi = Mangum(create_app(get_settings()), lifespan="off")


@handler_invocation(logger, correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics(capture_cold_start_metric=COLD_START_METRIC)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Serve one HTTP request."""
    response: dict[str, Any] = asgi(event, context)
    return response
