"""The nightly export of the operational tables to Hive-partitioned Parquet on S3.

`location`: where the export lives and what it holds (free of polars, so the API can read it); `frames`:
one typed polars schema per table; `storage`: partitions committed by manifest; `export`: the batches read
from one snapshot and written. Importing this package imports none of them (nor polars).
"""
