"""Lambda handlers' invocations as operators see them: log keys per invocation, failures reported, metrics.

`handler_invocation` replaces Powertools' `Logger.inject_lambda_context`, whose keys are process-wide
(see tarroitus/invocation_context.py): each invocation runs in its own copy of the context.
"""

import contextvars
import functools
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics.functions import is_metrics_disabled
from aws_lambda_powertools.utilities import jmespath_utils

from tarroitus import error_reporting
from tarroitus.invocation_context import bind_function

#: Whether handlers emit the ColdStart metric. Powertools prints it through `single_metric`, which
#: ignores POWERTOOLS_METRICS_DISABLED: the local stack, which disables metrics, printed an EMF line
#: at the first run of each function. Read when the handler module is imported (in Lambda: on).
COLD_START_METRIC = not is_metrics_disabled()

Handler = TypeVar("Handler", bound=Callable[..., Any])

#: Functions invoked in this process so far: the first invocation of each is its cold start.
_invoked: set[str] = set()


def handler_invocation(logger: Logger, *, correlation_id_path: str | None = None) -> Callable[[Handler], Handler]:
    """Decorate a Lambda handler: each invocation logs with its Lambda context's keys (and the event's
    correlation id) in its own context; an exception it raises is reported as a failed run and re-raised."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def invoke(event: Any, context: Any, *args: Any, **kwargs: Any) -> Any:
            run = functools.partial(_invoke, handler, logger, correlation_id_path, event, context, args, kwargs)
            return contextvars.copy_context().run(run)

        return invoke  # type: ignore[return-value]

    return decorate


def _invoke(
    handler: Callable[..., Any],
    logger: Logger,
    correlation_id_path: str | None,
    event: Any,
    context: Any,
    args: tuple[Any, ...],
    kwargs: Mapping[str, Any],
) -> Any:
    function_name = str(context.function_name)
    cold_start = function_name not in _invoked
    _invoked.add(function_name)
    keys: dict[str, Any] = {
        "cold_start": cold_start,
        "function_memory_size": context.memory_limit_in_mb,
        "function_arn": context.invoked_function_arn,
        "function_request_id": context.aws_request_id,
    }
    if correlation_id_path:
        keys["correlation_id"] = jmespath_utils.query(envelope=correlation_id_path, data=event)
    bind_function(logger, function_name, **keys)
    try:
        return handler(event, context, *args, **kwargs)
    except Exception as exc:
        error_reporting.report_exception(exc, tags={"failure": "run_failed"})
        raise
    finally:
        # Lambda freezes the process once the handler returns: a queued report must leave before.
        error_reporting.flush()
