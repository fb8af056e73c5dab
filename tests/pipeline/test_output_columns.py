"""The output columns are documented once, in the README, and that table is the code's."""

from __future__ import annotations

import re

from conftest import REPO
from skillmap.pipeline import LONG_COLUMNS
from skillmap.pipeline.results import SUMMARY_COLUMNS, long_parquet_schema, summary_parquet_schema


def _readme_columns(heading: str = "Output columns of `batch`") -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    start = text.index(heading)
    table = text[start:].split("\n\n")[1]   # the paragraph after the heading line is the table
    return re.findall(r"^\| `(\w+)` \|", table, flags=re.M)


def test_the_readme_lists_every_output_column_in_order():
    assert _readme_columns() == list(LONG_COLUMNS)


def test_the_parquet_schema_has_the_same_columns():
    assert long_parquet_schema().names == list(LONG_COLUMNS)


def test_the_readme_lists_every_summary_column_in_order():
    assert _readme_columns("Per-ad summary of `batch --summary") == list(SUMMARY_COLUMNS)
    assert summary_parquet_schema().names == list(SUMMARY_COLUMNS)
