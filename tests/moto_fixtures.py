"""A moto S3 server on 127.0.0.1 for the whole test session, and a fresh bucket per test.

Import the fixtures explicitly where needed: `from tests.moto_fixtures import moto_server, s3_bucket`.
"""

import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import boto3
import pytest
from botocore.config import Config
from moto.server import ThreadedMotoServer

from tarroitus.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


@dataclass(frozen=True)
class S3Bucket:
    """A bucket on the moto server, and a client for it."""

    name: str
    endpoint_url: str
    client: "S3Client"


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """The endpoint URL of a moto server running in a thread for the session."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_bucket(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[S3Bucket]:
    """A new bucket; AWS_ENDPOINT_URL and PARQUET_BUCKET point the settings at it for this test."""
    name = f"tarroitus-test-{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    monkeypatch.setenv("PARQUET_BUCKET", name)
    get_settings.cache_clear()
    client = boto3.client(
        "s3", endpoint_url=moto_server, region_name="eu-north-1", config=Config(s3={"addressing_style": "path"})
    )
    client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-north-1"})
    yield S3Bucket(name=name, endpoint_url=moto_server, client=client)
    get_settings.cache_clear()
