"""Migrate Lambda: a CloudFormation custom resource on every deploy, or a manual {"action": "migrate"} invoke.

Unlike the other handlers it reads no settings at import: a misconfigured function must still
answer CloudFormation (FAILED) rather than leave the stack waiting.
"""

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.data_classes import CloudFormationCustomResourceEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from tarroitus.error_reporting import configure as configure_error_reporting
from tarroitus.jobs import custom_resource, migrate
from tarroitus.observability import handler_invocation
from tarroitus.settings import get_settings
from tarroitus.tracing import trace_libraries_when_imported

logger = Logger()
tracer = Tracer(auto_patch=False)
trace_libraries_when_imported(tracer)

PHYSICAL_RESOURCE_ID = "tarroitus-database-schema"


def migrate_database() -> dict[str, str]:
    """Upgrade the schema and install the admin key, with settings read now."""
    settings = get_settings()
    configure_error_reporting(settings)
    return migrate.run(settings)


@handler_invocation(logger)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Answer a custom resource request, or migrate on {"action": "migrate"}."""
    if "RequestType" in event:
        return custom_resource.handle(
            CloudFormationCustomResourceEvent(event),
            migrate_database,
            seconds_left=context.get_remaining_time_in_millis() / 1000,
            default_physical_resource_id=PHYSICAL_RESOURCE_ID,
            log_stream_name=context.log_stream_name,
        )
    if event.get("action") != "migrate":
        raise ValueError('expected a CloudFormation custom resource request or {"action": "migrate"}')
    return migrate_database()
