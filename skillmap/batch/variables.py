"""Corpus variables: input columns carried into the output (``batch --keep-column``).

An analyst codes ads to count skills *by* something: month, region, occupation, employer.
Those columns travel with every output row, after the fixed ones
(:data:`~skillmap.pipeline.results.LONG_COLUMNS`), so the output can be grouped without a
join back to the input (which would need the input's ids to be unique, and often they are
not).

Readers hand every cell over as text (:func:`~skillmap.batch.readers.cell_text`), and a CSV
output keeps that text. A Parquet output is typed, so that pandas reads a date as a date and
a count as a number: a Parquet input's own column type is kept; for CSV and JSON Lines the
type is the narrowest that every non-empty value of the column fits (whole numbers, decimal
numbers, ISO dates, ISO date-times, true/false), else text (a Parquet input's timestamp
or decimal column too). A number written with a leading
zero (a postcode, "007") keeps the column as text, since the zero would be lost. Empty cells
are nulls in a typed column.
"""

from __future__ import annotations

import re
from typing import Iterable

from skillmap.errors import InputError
from skillmap.pipeline.results import LONG_COLUMNS

_KINDS = {
    "int64": re.compile(r"[+-]?(0|[1-9]\d{0,17})"),
    "float64": re.compile(r"[+-]?((0|[1-9]\d*)(\.\d*)?([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?"
                          r"|inf|nan)", re.I),
    "date32": re.compile(r"\d{4}-\d{2}-\d{2}"),
    "timestamp": re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?"),
    "bool": re.compile(r"true|false", re.I),
}


def check_keep_columns(keep: Iterable[str], columns: list[str], source: str) -> list[str]:
    """The kept columns, each once, or a one-line error for one the input lacks or one that
    would overwrite an output column."""
    keep = list(dict.fromkeys(keep))
    for column in keep:
        if column not in columns:
            raise InputError(f"{source}: no column {column!r} (--keep-column); columns are: "
                             f"{', '.join(columns)}")
        if column in LONG_COLUMNS:
            raise InputError(f"{source}: --keep-column {column!r} has the name of an output "
                             "column; rename it in the input")
    return keep


class ColumnTypes:
    """The Parquet type of each kept column, learnt from its values chunk by chunk."""

    def __init__(self, columns: Iterable[str], fixed: dict | None = None):
        self.fixed = dict(fixed or {})   # a Parquet input's own types
        self.candidates = {c: list(_KINDS) for c in columns if c not in self.fixed}

    def add(self, column: str, values: Iterable[str]) -> None:
        kinds = self.candidates.get(column)
        if not kinds:
            return
        for value in values:
            if value == "":
                continue
            kinds[:] = [k for k in kinds if _KINDS[k].fullmatch(value)]
            if not kinds:
                return

    def arrow_types(self) -> dict:
        import pyarrow as pa

        types = dict(self.fixed)
        for column, kinds in self.candidates.items():
            kind = kinds[0] if kinds else "string"
            types[column] = pa.timestamp("us") if kind == "timestamp" else \
                pa.type_for_alias(kind)
        return types


def parquet_input_types(table, keep: list[str]) -> dict:
    """The arrow types of the kept columns of a Parquet input (dictionaries unwrapped)."""
    import pyarrow as pa

    if table.format != "parquet" or not keep:
        return {}
    schema = table._parquet().schema_arrow
    types = {}
    for column in keep:
        kind = schema.field(column).type
        if pa.types.is_dictionary(kind):
            kind = kind.value_type
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            types[column] = pa.string()
        elif pa.types.is_integer(kind) or pa.types.is_boolean(kind) or \
                pa.types.is_date32(kind):
            types[column] = kind
        elif pa.types.is_floating(kind):
            types[column] = pa.float64()
        # anything else (timestamps with zones, decimals): learnt from the text, as for CSV
    return types


def typed_array(values: list[str], kind):
    """``values`` (text, "" for missing) as an arrow array of ``kind``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_string(kind):
        return pa.array(values, pa.string())
    text = pa.array([v if v != "" else None for v in values], pa.string())
    if pa.types.is_boolean(kind):
        return pc.equal(pc.utf8_lower(text), "true")
    if pa.types.is_timestamp(kind):
        text = pc.replace_substring(text, " ", "T")
        return pc.cast(pc.cast(text, pa.timestamp("ns")), kind)
    return pc.cast(text, kind)
