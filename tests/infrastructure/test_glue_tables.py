"""The Glue catalog snippet and the Athena examples agree with the Parquet the ETL writes."""

import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

from tarroitus.services.etl.frames import TABLE_SCHEMAS
from tarroitus.services.etl.location import SYMLINK_DIRECTORY

PROJECT_ROOT = Path(__file__).resolve().parents[2]
GLUE_TEMPLATE = PROJECT_ROOT / "template.yaml"
ATHENA_QUERIES = sorted((PROJECT_ROOT / "infra" / "athena").glob("*.sql"))

#: Hive types Athena reads each polars type of the export as.
HIVE_TYPES = {pl.Int64: "bigint", pl.Int32: "int", pl.String: "string", pl.Boolean: "boolean", pl.Datetime: "timestamp"}


class _CloudFormationLoader(yaml.SafeLoader):
    """Reads `!Ref`, `!Sub` and friends as plain values: enough to inspect the structure."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return {suffix: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {suffix: loader.construct_sequence(node)}
    return {suffix: loader.construct_mapping(node)}


_CloudFormationLoader.add_multi_constructor("!", _intrinsic)


def glue_tables() -> dict[str, dict[str, Any]]:
    """TableInput of every AWS::Glue::Table in the snippet, by table name."""
    template = yaml.load(GLUE_TEMPLATE.read_text(), Loader=_CloudFormationLoader)
    inputs = [
        resource["Properties"]["TableInput"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Glue::Table"
    ]
    return {table["Name"]: table for table in inputs}


def test_glue_tables_cover_every_exported_table() -> None:
    # Given / When / Then
    assert set(glue_tables()) == set(TABLE_SCHEMAS)


@pytest.mark.parametrize("table", sorted(TABLE_SCHEMAS))
def test_glue_columns_match_the_polars_schema(table: str) -> None:
    # Given
    expected = [(name, HIVE_TYPES[dtype.base_type()]) for name, dtype in TABLE_SCHEMAS[table].items()]
    # When
    columns = glue_tables()[table]["StorageDescriptor"]["Columns"]
    # Then
    assert [(column["Name"], column["Type"]) for column in columns] == expected


@pytest.mark.parametrize("table", sorted(TABLE_SCHEMAS))
def test_glue_tables_project_dt_onto_the_symlink_manifests(table: str) -> None:
    # Given
    definition = glue_tables()[table]
    parameters = definition["Parameters"]
    # When
    template = parameters["storage.location.template"]["Sub"]
    # Then
    assert definition["PartitionKeys"][0]["Name"] == "dt"
    assert (parameters["projection.enabled"], parameters["projection.dt.type"]) == ("true", "date")
    assert parameters["projection.dt.format"] == "yyyy-MM-dd"
    assert template.endswith(f"/{table}/{SYMLINK_DIRECTORY}/dt=${{!dt}}/")
    storage = definition["StorageDescriptor"]
    assert storage["InputFormat"] == "org.apache.hadoop.hive.ql.io.SymlinkTextInputFormat"
    assert storage["SerdeInfo"]["SerializationLibrary"] == "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"


@pytest.mark.parametrize("query", ATHENA_QUERIES, ids=lambda path: path.name)
def test_athena_examples_name_only_catalog_tables_and_filter_on_dt(query: Path) -> None:
    # Given
    sql = query.read_text()
    # When
    referenced = set(re.findall(r"tarroitus_analytics\.(\w+)", sql))
    # Then
    assert referenced and referenced <= set(glue_tables())
    assert re.search(r"\bdt\s*(=|BETWEEN|>=)", sql), "every example prunes partitions on dt"


def test_athena_examples_exist() -> None:
    # Given / When / Then
    assert len(ATHENA_QUERIES) >= 4
