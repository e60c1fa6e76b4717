"""Sierra writeback Lambda: EventBridge Scheduler (or a manual `{}` event) runs one writeback job."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from tarroitus.deadlines import Deadline
from tarroitus.error_reporting import configure as configure_error_reporting
from tarroitus.jobs import sierra_writeback
from tarroitus.observability import COLD_START_METRIC, handler_invocation
from tarroitus.settings import get_settings
from tarroitus.tracing import trace_libraries_when_imported

logger = Logger()
tracer = Tracer(auto_patch=False)
trace_libraries_when_imported(tracer)
metrics = Metrics()

settings = get_settings()
configure_error_reporting(settings)

METRICS = {
    "written": "LabelsWrittenBack",
    "skipped_as_done": "WritebackSkippedAsDone",
    "retried": "WritebackRetried",
    "dead_lettered": "WritebackDeadLettered",
}


@handler_invocation(logger, correlation_id_path=correlation_paths.EVENT_BRIDGE)
@metrics.log_metrics(capture_cold_start_metric=COLD_START_METRIC)
@tracer.capture_lambda_handler(capture_response=False)
@event_source(data_class=EventBridgeEvent)
def lambda_handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    """Write queued items back to Sierra until the queue is empty or the invocation's time runs short."""
    deadline = Deadline.from_lambda_remaining(context.get_remaining_time_in_millis())
    result = sierra_writeback.run(settings, event=event.raw_event, deadline=deadline)
    for name, metric in METRICS.items():
        metrics.add_metric(name=metric, unit=MetricUnit.Count, value=result[name])
    return result
