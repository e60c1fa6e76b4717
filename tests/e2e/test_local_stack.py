"""The local stack end to end: Sierra simulator -> sync -> label through the API Lambda -> writeback -> Parquet.

The stack runs in-process on free ports against the test run's database (never the embedded
development one); its handlers are invoked with API Gateway HTTP API v2 and EventBridge Scheduler
events, as Lambda would, and talk to the simulator and moto server over HTTP.
"""

import dataclasses
import itertools
import json
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import httpx
import psycopg
import pytest
from botocore.config import Config
from local_stack.scheduler import Handler, RunReport, Scheduler
from local_stack.stack import LocalStack, StackInfo, StackOptions, load_handler
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tarroitus.models import JobRun
from tarroitus.settings import get_settings
from tests.events import FakeLambdaContext, http_api_event, response_json, scheduler_event

ITEMS = 300
HANDLER_MODULES = (
    "functions.api.handler",
    "functions.sierra_sync.handler",
    "functions.sierra_writeback.handler",
    "functions.etl.handler",
)


@pytest.fixture
def local_stack(committed_db: Engine, tmp_path: Path) -> Iterator[LocalStack]:
    """The stack on free ports and the run's database; its environment and handler modules are undone after."""
    options = StackOptions(
        api_port=0,
        sierra_port=0,
        moto_port=0,
        db_port=0,
        items=ITEMS,
        state_dir=tmp_path / "state",
        env_json=tmp_path / "env.json",
        database_url=committed_db.url.render_as_string(hide_password=False),
    )
    with LocalStack(options) as stack:
        yield stack
    # Handlers imported with the stack's settings must not serve later tests.
    for module in HANDLER_MODULES:
        sys.modules.pop(module, None)


def stack_info(stack: LocalStack) -> StackInfo:
    assert stack.info is not None
    return stack.info


def call_api(api: Handler, method: str, path: str, key: str, **kwargs: Any) -> tuple[int, Any]:
    response = api(http_api_event(method, path, headers={"x-api-key": key}, **kwargs), FakeLambdaContext())
    return response["statusCode"], response_json(response)


def relabelled_candidate(api: Handler, admin_key: str) -> dict[str, Any]:
    """A live item with a barcode whose new classification differs from its call number's class."""
    status, page = call_api(api, "GET", "/api/v1/items", admin_key, query={"limit": "100"})
    assert status == 200, page
    return next(
        item
        for item in page["data"]
        if item["barcode"]
        and item["classification"]
        and item["label"]["printable"]
        and (item["call_number"] or "").split(" ")[0] != item["classification"]
    )


def sierra_item(info: StackInfo, item_id: int) -> dict[str, Any]:
    """The item as the simulator serves it over HTTP (its own token)."""
    services = info.services
    token = httpx.post(
        services.sierra_url + "/token",
        auth=(services.sierra_client_key, services.sierra_client_secret),
        data={"grant_type": "client_credentials"},
    ).json()["access_token"]
    response = httpx.get(
        f"{services.sierra_url}/items/{item_id}",
        params={"fields": "id,callNumber,varFields"},
        headers={"authorization": f"Bearer {token}"},
    )
    response.raise_for_status()
    item: dict[str, Any] = response.json()
    return item


def test_local_stack_label_flow_from_sierra_to_parquet(local_stack: LocalStack) -> None:
    # Given: the stack's services, the Lambda handlers, and a first scheduled sync from the simulator
    info = stack_info(local_stack)
    api = load_handler("functions.api.handler")
    sync = load_handler("functions.sierra_sync.handler")
    writeback = load_handler("functions.sierra_writeback.handler")
    etl = load_handler("functions.etl.handler")
    synced = sync(scheduler_event(), FakeLambdaContext(remaining_millis=280_000))
    item = relabelled_candidate(api, info.keys.admin)
    before = sierra_item(info, item["item_id"])

    # When: a printer station looks the barcode up and prints; then the schedules run the writeback and the ETL
    status, found = call_api(api, "GET", f"/api/v1/items/{item['barcode']}", info.keys.printer)
    label_status, label = call_api(api, "POST", f"/api/v1/items/{item['item_id']}/labels", info.keys.printer)
    written = writeback(scheduler_event(), FakeLambdaContext(remaining_millis=55_000))
    exported = etl(scheduler_event(), FakeLambdaContext(remaining_millis=900_000))

    # Then: the sync copied every item, the label went through, and Sierra has the new call number
    assert (synced["outcome"], synced["mode"], synced["items_read"]) == ("succeeded", "full", ITEMS)
    assert status == 200 and item["item_id"] in [found_item["item_id"] for found_item in found["data"]]
    assert label_status == 201, label
    assert (written["outcome"], written["written"], written["dead_lettered"]) == ("succeeded", 1, 0)
    after = sierra_item(info, item["item_id"])
    assert after["callNumber"] != before["callNumber"]
    assert after["callNumber"].removeprefix("|a").startswith(item["classification"] + " ")
    _, looked_up = call_api(api, "GET", f"/api/v1/items/{item['barcode']}", info.keys.printer)
    mine = next(found_item for found_item in looked_up["data"] if found_item["item_id"] == item["item_id"])
    assert (mine["label_state"]["print_count"], mine["writeback"]["state"]) == (1, "done")
    # ...the ETL committed Parquet partitions to moto's S3 with manifests counting the rows...
    assert exported["outcome"] == "succeeded"
    manifests = read_manifests(info)
    today = datetime.now(UTC).date().isoformat()
    assert manifests[("items", today)]["row_count"] == ITEMS
    assert manifests[("label_events", today)]["row_count"] == 1
    assert manifests[("writeback_attempts", today)]["row_count"] == 1
    assert all(file["key"].endswith(".parquet") for manifest in manifests.values() for file in manifest["files"])
    # ...and the analytics endpoints show the print
    _, per_day = call_api(api, "GET", "/api/v1/analytics/prints_per_day", info.keys.admin)
    _, progress = call_api(api, "GET", "/api/v1/analytics/progress", info.keys.admin)
    assert (per_day["total_labels"], [day["day"] for day in per_day["days"]]) == (1, [today])
    assert (progress["items_labelled"], progress["items_written_back"]) == (1, 1)


def read_manifests(info: StackInfo) -> dict[tuple[str, str], dict[str, Any]]:
    """Every committed partition manifest in the stack's bucket, by (table, dt)."""
    s3 = boto3.client(
        "s3",
        endpoint_url=info.services.aws_endpoint_url,
        region_name="eu-north-1",
        config=Config(s3={"addressing_style": "path"}),
    )
    listed = s3.list_objects_v2(Bucket=info.services.bucket, Prefix=info.services.parquet_prefix + "/")
    manifests = {}
    for entry in listed.get("Contents", []):
        if entry["Key"].endswith("/_manifest.json"):
            document = json.loads(s3.get_object(Bucket=info.services.bucket, Key=entry["Key"])["Body"].read())
            manifests[(document["table"], document["dt"])] = document
    return manifests


def test_local_stack_schedules_the_real_handlers_without_overlapping_runs(
    local_stack: LocalStack, committed_db: Engine
) -> None:
    # Given: the stack's three schedules, every one due at once and then every 0.3 s
    jobs = [
        dataclasses.replace(job, interval_seconds=0.3, first_run_after_seconds=0.0)
        for job in local_stack.scheduled_jobs()
    ]
    reports: list[RunReport] = []
    scheduler = Scheduler(jobs, on_report=reports.append)

    # When
    scheduler.start()
    time.sleep(2.5)
    still_running = scheduler.stop(timeout_seconds=30)

    # Then: each job ran several times; no run started while the job's previous one was going (an overlapping
    # invocation would have found the job's lease taken and reported "skipped")
    assert still_running == []
    assert [report.error for report in reports] == [None] * len(reports)
    assert "skipped" not in [report.result["outcome"] for report in reports]
    by_job: dict[str, list[RunReport]] = {}
    for report in reports:
        by_job.setdefault(report.job, []).append(report)
    assert sorted(by_job) == ["etl", "sierra_sync", "sierra_writeback"]
    assert min(len(job_reports) for job_reports in by_job.values()) >= 2
    for job_reports in by_job.values():
        for earlier, later in itertools.pairwise(job_reports):
            assert earlier.started_at + timedelta(seconds=earlier.seconds) <= later.started_at
    assert by_job["sierra_sync"][0].result["mode"] == "full"
    with Session(committed_db) as session:
        recorded = session.scalars(select(JobRun.job_name)).all()
    assert sorted(set(recorded)) == sorted(by_job)
    assert len(recorded) == len(reports)


def test_local_stack_serves_the_api_and_a_tcp_door_to_the_database(local_stack: LocalStack, tmp_path: Path) -> None:
    # Given
    info = stack_info(local_stack)
    local_stack.start_api_thread()
    assert info.database_tcp_url is not None

    # When
    readiness = httpx.get(info.api_url + "/api/v1/utils/readiness")
    unauthenticated = httpx.get(info.api_url + "/api/v1/items")
    with psycopg.connect(info.database_tcp_url) as connection:
        admins = connection.execute("SELECT name FROM clients ORDER BY name").fetchall()
    env_json = json.loads((tmp_path / "env.json").read_text())
    keys = json.loads((tmp_path / "state" / "keys.json").read_text())

    # Then
    assert readiness.status_code == 200
    assert info.database_url_display.startswith("postgresql+psycopg://postgres@")
    assert unauthenticated.status_code == 401
    assert admins == [("local-admin",), ("local-printer",)]
    assert keys == {"admin": info.keys.admin, "printer": info.keys.printer}
    assert set(env_json) == {
        "ApiFunction",
        "SierraSyncFunction",
        "SierraWritebackFunction",
        "EtlFunction",
        "MigrateFunction",
    }
    sync_env = env_json["SierraSyncFunction"]
    assert sync_env["DB_HOST"] == "host.docker.internal"
    assert sync_env["DB_PORT"] == info.database_tcp_url.rsplit(":", 1)[1].split("/")[0]
    assert sync_env["SIERRA_API_ENDPOINT"].startswith("http://host.docker.internal:")
    assert env_json["EtlFunction"]["PARQUET_BUCKET"] == info.services.bucket


def test_local_stack_api_ignores_x_forwarded_for_when_limiting_failed_keys(local_stack: LocalStack) -> None:
    # Given: a local client that claims a new address with every guess
    info = stack_info(local_stack)
    local_stack.start_api_thread()
    assert info.api_url is not None
    limit = get_settings().auth_failure_limit

    def guess(attempt: int, key: str) -> httpx.Response:
        headers = {"X-API-Key": key, "X-Forwarded-For": f"203.0.113.{attempt % 250 + 1}"}
        return httpx.get(info.api_url + "/api/v1/items", headers=headers)

    # When
    answers = [guess(attempt, f"trt_guess_{attempt}").status_code for attempt in range(limit + 1)]
    valid = guess(limit + 1, info.keys.printer)
    # Then: the guesses all count against 127.0.0.1, and a valid key still works
    assert answers == [401] * limit + [429]
    assert valid.status_code == 200
