"""Stream job-ad tables in chunks: CSV, JSON Lines and Parquet, optionally gzip-compressed.

Batch coding never loads a corpus whole: each reader yields ``pandas`` chunks of at most
``chunk_size`` rows holding only the text (and id) column, every cell as text (a missing or
null cell becomes ""). The format comes from the file name: ``.csv``, ``.jsonl``/``.ndjson``
(one JSON object per line) or ``.parquet``; ``.gz`` on CSV/JSONL is decompressed on the fly.
Parquet is read row group by row group through pyarrow; CSV and JSONL through pandas'
chunked readers. Problems (missing file, unknown format, missing column, malformed line)
become one-line :class:`~skillmap.errors.InputError`\\ s.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pandas as pd

from skillmap.errors import InputError
from skillmap.io import looks_binary

_SCANNED: dict[tuple, int] = {}  # the last file scanned (path, size, mtime, encoding) -> rows
FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}


def input_format(path: Path) -> tuple[str, bool]:
    """``(format, gzipped)`` from the file name."""
    suffixes = [s.lower() for s in path.suffixes]
    gzipped = bool(suffixes) and suffixes[-1] == ".gz"
    if gzipped:
        suffixes = suffixes[:-1]
    fmt = FORMATS.get(suffixes[-1] if suffixes else "")
    if fmt is None or (gzipped and fmt == "parquet"):
        raise InputError(f"{path}: unknown input format; use .csv, .jsonl or .parquet "
                         "(.csv.gz and .jsonl.gz are read compressed)")
    return fmt, gzipped


@dataclass
class AdTable:
    """An input file of ads, checked cheaply (header only) before any model is loaded."""

    path: Path
    format: str
    gzipped: bool
    encoding: str
    columns: list[str]

    def scan(self) -> int:
        """Read the whole file once: check its structure and return the number of ads.

        Run before any ad is coded, so a malformed line far into a large file ends the run
        with a one-line error naming it (and no output), instead of after hours of work.
        CSV is parsed strictly (:func:`csv_records`). JSON Lines: every non-blank line must be a JSON
        object. Parquet: the row count from its metadata.
        """
        if self.format == "parquet":
            import pyarrow.parquet as pq

            return pq.ParquetFile(self.path).metadata.num_rows
        stat = self.path.stat()
        key = (str(self.path.resolve()), stat.st_size, stat.st_mtime_ns, self.encoding)
        if key not in _SCANNED:  # the CLI scans before loading the model, the coder again
            _SCANNED.clear()
            _SCANNED[key] = self._scan_text()
        return _SCANNED[key]

    def _scan_text(self) -> int:
        try:
            with self._open_text() as fh:
                if self.format == "csv":
                    return sum(1 for _ in csv_records(fh, str(self.path))) - 1  # - header
                return sum(1 for number, line in enumerate(fh, 1)
                           if line.strip() and self._json_object(line, number) is not None)
        except UnicodeDecodeError as exc:
            raise InputError(not_decodable(self, exc)) from None
        except (OSError, EOFError) as exc:
            raise InputError(f"{self.path}: cannot be read ({exc})") from None

    def _json_object(self, line: str, number: int) -> dict:
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{self.path}: line {number} is not valid JSON ({exc.msg})"
                             ) from None
        if not isinstance(record, dict):
            raise InputError(f"{self.path}: line {number} is not a JSON object")
        return record

    def chunks(self, columns: list[str], chunk_size: int) -> Iterator[pd.DataFrame]:
        """The ``columns`` in chunks of ``chunk_size`` rows, all cells as str."""
        if self.format == "parquet":
            import pyarrow.parquet as pq

            for batch in pq.ParquetFile(self.path).iter_batches(batch_size=chunk_size,
                                                                 columns=columns):
                yield _as_text(batch.to_pandas(), columns)
            return
        if self.format == "csv":
            reader = pd.read_csv(self.path, chunksize=chunk_size, dtype=str,
                                 keep_default_na=False, encoding=self.encoding, usecols=columns,
                                 on_bad_lines="error", compression="gzip" if self.gzipped else None)
            yield from (_as_text(chunk, columns) for chunk in reader)
            return
        yield from self._jsonl_chunks(columns, chunk_size)

    def _open_text(self):
        if self.gzipped:
            return io.TextIOWrapper(gzip.open(self.path, "rb"), encoding=self.encoding,
                                    newline="")
        return open(self.path, encoding=self.encoding, newline="")

    def _jsonl_chunks(self, columns: list[str], chunk_size: int) -> Iterator[pd.DataFrame]:
        rows: list[dict] = []
        with self._open_text() as fh:
            for number, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                record = self._json_object(line, number)
                rows.append({c: record.get(c) for c in columns})
                if len(rows) == chunk_size:
                    yield _as_text(pd.DataFrame(rows, columns=columns), columns)
                    rows = []
        if rows:
            yield _as_text(pd.DataFrame(rows, columns=columns), columns)


def _as_text(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Every cell as str: None/NaN -> "", 7.0 -> "7" for whole numbers, others as printed."""
    def text(value) -> str:
        if value is None or (isinstance(value, float) and value != value):
            return ""
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        if isinstance(value, (list, dict)):
            return json.dumps(value, ensure_ascii=False)
        return str(value)

    return pd.DataFrame({c: [text(v) for v in frame[c].tolist()] for c in columns})


def open_ad_table(path: str | Path, encoding: str | None = None) -> AdTable:
    """Check the file (exists, format, not binary, readable header) and return its table."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if not path.is_file():
        raise InputError(f"{path}: not a regular file")
    fmt, gzipped = input_format(path)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        try:
            columns = list(pq.ParquetFile(path).schema_arrow.names)
        except Exception as exc:  # pyarrow raises ArrowInvalid/OSError for damaged files
            raise InputError(f"{path}: not a readable Parquet file ({type(exc).__name__})"
                             ) from None
        return AdTable(path, fmt, False, "utf-8", columns)
    try:
        head = (gzip.open(path, "rb") if gzipped else open(path, "rb")).read(65536)
    except (OSError, EOFError) as exc:
        raise InputError(f"{path}: cannot be read as {'gzip' if gzipped else 'text'} ({exc})"
                         ) from None
    if not head.strip():
        raise InputError(f"{path}: the file is empty")
    if encoding is None:
        encoding = "utf-16" if head.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8-sig"
    if looks_binary(head) and not encoding.startswith("utf-16"):
        raise InputError(f"{path}: looks like a binary file, not {fmt.upper()} text")
    table = AdTable(path, fmt, gzipped, encoding, [])
    table.columns = _csv_header(table) if fmt == "csv" else _jsonl_keys(table)
    return table


def _csv_header(table: AdTable) -> list[str]:
    try:
        with table._open_text() as fh:
            header = next(csv.reader(fh), [])
    except UnicodeDecodeError as exc:
        raise InputError(not_decodable(table, exc)) from None
    except csv.Error as exc:
        raise InputError(f"{table.path}: malformed CSV ({exc})") from None
    if not any(name.strip() for name in header):
        raise InputError(f"{table.path}: no header row (the first line must name the columns)")
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if duplicated:
        raise InputError(f"{table.path}: duplicated column name(s) in the header: "
                         f"{', '.join(duplicated)}")
    return header


def csv_records(fh, source: str) -> Iterator[list[str]]:
    """The header, then every non-blank record of a CSV text stream, parsed strictly.

    An unclosed quote or text after a closing quote is an error at once; records with more or
    fewer cells than the header are counted and reported after the pass, naming the first
    (an unquoted comma or line break would otherwise shift text into the wrong column or
    split one ad into two). Blank lines are skipped, as pandas does.
    """
    csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))  # huge cells are ads too
    reader = csv.reader(fh, strict=True)
    bad, first_bad = 0, ""
    try:
        header = next(reader, [])
        yield header
        for record in reader:
            if not record or (len(record) == 1 and not record[0].strip()):
                continue
            if len(record) != len(header):
                bad += 1
                first_bad = first_bad or (f"line {reader.line_num} has {len(record)} cell(s) "
                                          f"but the header has {len(header)}")
                continue
            yield record
    except csv.Error as exc:
        raise InputError(f"{source}: malformed CSV at line {reader.line_num} ({exc}); a quote "
                         "left open, or text after a closing quote?") from None
    if bad:
        more = f" (and {bad - 1} more such lines)" if bad > 1 else ""
        raise InputError(f"{source}: malformed CSV: {first_bad}{more}; an unquoted comma or "
                         "line break inside a cell? quote that cell")


def not_decodable(table: AdTable, exc: UnicodeDecodeError) -> str:
    """The one-line message for text that is not in the table's encoding."""
    return (f"{table.path}: not valid {table.encoding} text (byte 0x{exc.object[exc.start]:02x}"
            "); re-save it as UTF-8 or pass --encoding (e.g. latin-1)")


def _jsonl_keys(table: AdTable) -> list[str]:
    """The keys of the first record (later records may lack some: their cells are "")."""
    try:
        with table._open_text() as fh:
            for number, line in enumerate(fh, 1):
                if line.strip():
                    record = json.loads(line)
                    if not isinstance(record, dict):
                        raise InputError(f"{table.path}: line {number} is not a JSON object")
                    return list(record)
    except UnicodeDecodeError:
        raise InputError(f"{table.path}: not valid {table.encoding} text") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{table.path}: line 1 is not valid JSON ({exc.msg})") from None
    raise InputError(f"{table.path}: the file is empty")
