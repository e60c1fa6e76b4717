"""Which function a thread of work runs for: its name and its log keys, per context, not per process.

Every handler logs through one Powertools logger, the service's, whose appended keys (what
`Logger.inject_lambda_context` sets) are process-wide. Where several functions share a process (the
local stack runs the API and every scheduled function in one), each line carried the keys of the last
invocation to start: the writeback's lines named the ETL. Here the keys live in Powertools'
context-local keys and the name in a context variable, so a line (and an error report) names the
function whose thread, task, or worker thread started with `invocation_executor`, produced it.
"""

import contextvars
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aws_lambda_powertools import Logger

_function_name: contextvars.ContextVar[str | None] = contextvars.ContextVar("function_name", default=None)


def current_function_name() -> str | None:
    """The name of the function this thread of work runs for; None outside any."""
    return _function_name.get()


def bind_function(logger: Logger, function_name: str, **keys: Any) -> None:
    """Make the current context (and the tasks and threads it starts) run as `function_name`, with `keys` logged."""
    _function_name.set(function_name)
    logger.thread_safe_append_keys(function_name=function_name, **keys)


def invocation_executor(*, max_workers: int, thread_name_prefix: str) -> ThreadPoolExecutor:
    """A thread pool whose workers run as the current context's function (its name and log keys)."""
    context = contextvars.copy_context()
    return ThreadPoolExecutor(
        max_workers=max_workers, thread_name_prefix=thread_name_prefix, initializer=_adopt, initargs=(context,)
    )


def _adopt(context: contextvars.Context) -> None:
    for variable, value in context.items():
        variable.set(value)
