"""Capture every log record of every logger at DEBUG, rendered in full, for tests that scan log output."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager


class RecordingHandler(logging.Handler):
    """Keeps each record rendered with its message, arguments, extra fields and traceback."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.rendered: list[str] = []
        self.formatter_for_exceptions = logging.Formatter()

    def emit(self, record: logging.LogRecord) -> None:
        parts = [record.name, record.getMessage(), repr(record.args), repr(vars(record))]
        if record.exc_info:
            parts.append(self.formatter_for_exceptions.formatException(record.exc_info))
        self.rendered.append(" | ".join(parts))

    @property
    def text(self) -> str:
        """Everything captured so far."""
        return "\n".join(self.rendered)


@contextmanager
def all_logs_at_debug() -> Iterator[RecordingHandler]:
    """Every existing logger set to DEBUG and recorded (non-propagating ones directly); restored afterwards."""
    handler = RecordingHandler()
    loggers = [logging.getLogger(), *(logging.getLogger(name) for name in list(logging.root.manager.loggerDict))]
    levels = [(each, each.level) for each in loggers]
    attached = [each for each in loggers if each is logging.getLogger() or not each.propagate]
    for each in loggers:
        each.setLevel(logging.DEBUG)
    for each in attached:
        each.addHandler(handler)
    try:
        yield handler
    finally:
        for each in attached:
            each.removeHandler(handler)
        for each, level in levels:
            each.setLevel(level)
