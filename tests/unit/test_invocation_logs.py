"""Each invocation's log lines name its own function, while other functions run in the same process."""

import io
import json
import threading
from typing import Any

from aws_lambda_powertools import Logger

from tarroitus.invocation_context import invocation_executor
from tarroitus.observability import handler_invocation
from tests.events import FakeLambdaContext


def test_concurrent_invocations_and_their_worker_threads_log_their_own_function_name() -> None:
    # Given: two handlers on one service logger, as the local stack runs the writeback beside the ETL;
    # the writeback logs again only after the ETL has started, and also from a worker thread
    stream = io.StringIO()
    logger = Logger(service="invocation-logs-test", stream=stream, level="INFO")
    etl_started, writeback_started = threading.Event(), threading.Event()

    @handler_invocation(logger)
    def writeback(_event: dict[str, Any], _context: Any) -> None:
        logger.info("writeback started")
        writeback_started.set()
        etl_started.wait(5)
        logger.info("writeback after the ETL started")
        with invocation_executor(max_workers=1, thread_name_prefix="worker") as pool:
            pool.submit(logger.info, "writeback worker").result()

    @handler_invocation(logger)
    def etl(_event: dict[str, Any], _context: Any) -> None:
        writeback_started.wait(5)
        logger.info("etl started")
        etl_started.set()

    # When
    threads = [
        threading.Thread(target=writeback, args=({}, FakeLambdaContext(function_name="WritebackFunction"))),
        threading.Thread(target=etl, args=({}, FakeLambdaContext(function_name="EtlFunction"))),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    logger.info("between invocations")

    # Then
    lines = {line["message"]: line for line in map(json.loads, stream.getvalue().splitlines())}
    assert {message: line.get("function_name") for message, line in lines.items()} == {
        "writeback started": "WritebackFunction",
        "etl started": "EtlFunction",
        "writeback after the ETL started": "WritebackFunction",
        "writeback worker": "WritebackFunction",
        "between invocations": None,
    }
    assert lines["writeback started"]["cold_start"] is True
