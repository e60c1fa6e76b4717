"""The ETL's settings: batch size, lookback, and where the Parquet goes."""

import pytest
from pydantic import ValidationError

from tarroitus.errors import ServiceUnavailableError
from tarroitus.services.etl.location import ParquetLocation
from tarroitus.settings import Settings


def test_etl_settings_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given
    monkeypatch.setenv("ETL_BATCH_ROWS", "50000")
    monkeypatch.setenv("ETL_LOOKBACK_SECONDS", "600")
    monkeypatch.setenv("PARQUET_BUCKET", "library-analytics")
    monkeypatch.setenv("PARQUET_PREFIX", "/tarroitus/prod/")
    # When
    settings = Settings()
    # Then
    assert (settings.etl_batch_rows, settings.etl_lookback_seconds) == (50_000, 600)
    assert ParquetLocation.from_settings(settings) == ParquetLocation(
        bucket="library-analytics", prefix="tarroitus/prod"
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [("ETL_BATCH_ROWS", "0"), ("ETL_BATCH_ROWS", "many"), ("ETL_LOOKBACK_SECONDS", "-1")],
)
def test_etl_settings_invalid_value_names_the_variable(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    # Given
    monkeypatch.setenv(name, value)
    # When
    with pytest.raises(ValidationError) as caught:
        Settings()
    # Then
    assert name.lower() in str(caught.value)


def test_parquet_location_needs_a_bucket(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given
    monkeypatch.delenv("PARQUET_BUCKET", raising=False)
    # When / Then
    with pytest.raises(ServiceUnavailableError):
        ParquetLocation.from_settings(Settings())
