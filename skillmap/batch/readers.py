"""Stream job-ad tables in chunks: CSV, JSON Lines and Parquet, optionally gzip-compressed.

Batch coding never loads a corpus whole: each reader yields ``pandas`` chunks of at most
``chunk_size`` rows holding only the text (and id) column, every cell as text. The format
comes from the file name: ``.csv``, ``.jsonl``/``.ndjson`` (one JSON object per line) or
``.parquet``; ``.gz`` on CSV/JSONL is decompressed on the fly.

**One parser.** The structure scan that runs before any ad is coded (:meth:`AdTable.scan`)
and the reading that feeds the coder (:meth:`AdTable.chunks`) go through the same record
generator (:meth:`AdTable.rows`): strict :func:`csv_records` for CSV, one ``json.loads`` per
line for JSON Lines, pyarrow for Parquet. When two parsers disagreed (the ``csv`` module
checked, pandas read), odd line endings such as ``\\n\\r`` or a cell that is only ``\\r``
passed the check and then shifted an ad's text into another column: the ad was coded empty.

**Cell types** (the same for every format; :func:`cell_text`): text as it is; a missing or
null cell is ""; whole floats lose their ``.0`` (an id of ``7.0`` is ``7``); booleans are
``true``/``false``; dates and times print in ISO form. Anything else in the text or id
column is refused in one line: a JSON object or array, a Parquet struct, list, map or binary
column; it would be coded as its printed form.

**Identity.** Every byte read is hashed as it streams by (:class:`_HashingReader`), so the
scan gives the content identity a resumable run records (:attr:`AdTable.digest`), and a
reading pass that does not see the bytes the scan saw — a file cut short, rewritten or
appended to while the run reads it — ends in an :class:`~skillmap.errors.InputError`
instead of coding fewer ads than were counted.

**Bounds.** Only regular files are read (a device such as ``/dev/zero`` is refused, a
symbolic link to one too); a CSV cell or a JSON Lines line longer than
:data:`MAX_CELL_CHARS` characters is refused (decompressed, a gzip bomb is one of those).
"""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import io
import json
import math
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Iterator

import pandas as pd

from skillmap.errors import InputError, exception_line
from skillmap.io import bounded_lines, file_sha256, looks_binary, open_regular_file

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
# a cell (or JSON line) longer than this is not an ad (an unclosed quote, a bomb); a 100 MB
# scraped page still passes and is coded on its first --max-ad-chars characters
MAX_CELL_CHARS = 128 * 1024 * 1024
_SCANNED: dict[tuple, tuple] = {}  # the last scan: (path, size, mtime, ...) -> its results


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


class _HashingReader(io.RawIOBase):
    """A binary file whose bytes are hashed (SHA-256) as they are read."""

    def __init__(self, path: Path):
        self._file = open(path, "rb")
        self.sha256 = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = self._file.readinto(buffer)
        if count:
            self.sha256.update(memoryview(buffer)[:count])
        return count

    def close(self) -> None:
        self._file.close()
        super().close()


@dataclass
class AdTable:
    """An input file of ads, checked cheaply (header only) before any model is loaded.

    After :meth:`scan`, ``rows`` holds the number of ads and ``digest`` the SHA-256 of the
    file's bytes; both travel with the object (the Ray engine ships it to a worker).
    """

    path: Path
    format: str
    gzipped: bool
    encoding: str
    columns: list[str]
    selected: list[str] = field(default_factory=list)  # the columns read (text, id)
    kept: list[str] = field(default_factory=list)      # columns carried into the output
    rows: int | None = None
    digest: str | None = None
    ids: "IdCheck | None" = None  # empty and repeated ids, when there is an id column

    # ------------------------------------------------------------------ scan
    def scan(self) -> int:
        """Read the whole file once: check its structure and cell types; count the ads.

        Run before any ad is coded, so a malformed line far into a large file ends the run
        with a one-line error naming it (and no output), instead of after hours of work.
        Sets :attr:`rows` and :attr:`digest`.
        """
        info = self.path.stat()
        # ctime too: a rewrite that restores size and mtime (os.utime) still changes it
        key = (str(self.path.resolve()), info.st_size, info.st_mtime_ns, info.st_ctime_ns,
               info.st_ino, self.encoding, tuple(self.read_columns))
        if key not in _SCANNED:  # the CLI scans before loading the model, the coder again
            _SCANNED.clear()
            _SCANNED[key] = self._scan()
        self.rows, self.digest, self.ids = _SCANNED[key]
        return self.rows

    @property
    def read_columns(self) -> list[str]:
        """Every column a run reads: the text and id columns, then the kept ones."""
        return list(dict.fromkeys([*self.selected, *self.kept]))

    def _scan(self) -> tuple[int, str, "IdCheck | None"]:
        ids = IdCheck() if len(self.selected) == 2 else None  # [text, id]
        if self.format == "parquet":
            parquet = self._parquet()
            self._check_parquet_types(parquet, self.read_columns)
            if ids is not None:
                for batch in parquet.iter_batches(batch_size=65536, columns=self.selected[1:]):
                    for value in batch.column(0).to_pylist():
                        ids.add(cell_text(value, f"{self.path}: column {self.selected[1]!r}"))
            return parquet.metadata.num_rows, file_sha256(self.path), ids and ids.done()
        stream = _HashingReader(self.path)
        count = 0
        for record in self._records(stream, self.read_columns):
            count += 1
            if ids is not None:
                ids.add(record[1])
        return count, stream.sha256.hexdigest(), ids and ids.done()

    # ------------------------------------------------------------------ read
    def chunks(self, columns: list[str], chunk_size: int) -> Iterator[pd.DataFrame]:
        """The ``columns`` in chunks of ``chunk_size`` rows, all cells as str.

        When the table was scanned, the reading must see exactly what the scan saw (same
        bytes, same number of ads); otherwise the last chunk is followed by an
        :class:`InputError` that says the file changed.
        """
        count, buffer = 0, []
        stream = None
        if self.format == "parquet":
            records = self._parquet_rows(columns)
        else:
            stream = _HashingReader(self.path)
            records = self._records(stream, columns)
        for record in records:
            buffer.append(record)
            if len(buffer) == chunk_size:
                count += len(buffer)
                yield pd.DataFrame(buffer, columns=columns, dtype=object)
                buffer = []
        if buffer:
            count += len(buffer)
            yield pd.DataFrame(buffer, columns=columns, dtype=object)
        if self.rows is not None:
            digest = (stream.sha256.hexdigest() if stream is not None
                      else file_sha256(self.path))
            if count != self.rows or digest != self.digest:
                raise InputError(f"{self.path}: the file changed while it was being read "
                                 f"({count:,} ads read, {self.rows:,} counted before); run "
                                 "again on a copy that nothing writes to")

    def _records(self, stream: _HashingReader, columns: list[str]) -> Iterator[list[str]]:
        """The one parser of CSV and JSON Lines: each ad's ``columns`` as text."""
        try:
            with stream, self._text(stream) as fh:
                if self.format == "csv":
                    records = csv_records(fh, str(self.path))
                    header = next(records)
                    where = [header.index(c) for c in columns]
                    for record in records:
                        yield [record[i] for i in where]
                    return
                for number, line in _lines(fh, str(self.path)):
                    record = self._json_object(line, number)
                    values = [record.get(c) for c in columns]
                    yield [v if type(v) is str else cell_text(v, self._where(number, c))
                           for v, c in zip(values, columns)]
        except UnicodeDecodeError as exc:
            raise InputError(not_decodable(self, exc)) from None
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            raise InputError(f"{self.path}: cannot be read ({exception_line(exc)})") from None

    def _where(self, number: int, column: str) -> str:
        return f"{self.path}: line {number}, key {column!r}"

    def _json_object(self, line: str, number: int) -> dict:
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{self.path}: line {number} is not valid JSON ({exc.msg})"
                             ) from None
        except RecursionError:
            raise InputError(f"{self.path}: line {number} nests JSON too deeply") from None
        if not isinstance(record, dict):
            raise InputError(f"{self.path}: line {number} is not a JSON object")
        return record

    def _text(self, stream: _HashingReader):
        buffered = io.BufferedReader(stream, 1 << 16)
        raw = gzip.GzipFile(fileobj=buffered, mode="rb") if self.gzipped else buffered
        return io.TextIOWrapper(raw, encoding=self.encoding, newline="")

    # ------------------------------------------------------------------ parquet
    def _parquet(self):
        import pyarrow.parquet as pq

        try:
            return pq.ParquetFile(self.path)
        except Exception as exc:  # pyarrow raises ArrowInvalid/OSError for damaged files
            raise InputError(f"{self.path}: not a readable Parquet file ({type(exc).__name__})"
                             ) from None

    def _check_parquet_types(self, parquet, columns: list[str]) -> None:
        import pyarrow as pa

        schema = parquet.schema_arrow
        for column in columns:
            kind = schema.field(column).type
            if pa.types.is_dictionary(kind):
                kind = kind.value_type
            if not _text_like(kind):
                raise InputError(f"{self.path}: column {column!r} holds Parquet type {kind}; "
                                 "the text, id and kept columns must hold strings (or "
                                 "numbers, dates, booleans)")

    def _parquet_rows(self, columns: list[str]) -> Iterator[list[str]]:
        parquet = self._parquet()
        self._check_parquet_types(parquet, columns)
        try:
            for batch in parquet.iter_batches(batch_size=4096, columns=columns):
                values = [batch.column(c).to_pylist() for c in columns]
                for record in zip(*values):
                    yield [v if type(v) is str else cell_text(v, f"{self.path}: column {c!r}")
                           for v, c in zip(record, columns)]
        except InputError:
            raise
        except Exception as exc:  # ArrowInvalid/OSError: a damaged row group
            raise InputError(f"{self.path}: not a readable Parquet file "
                             f"({exception_line(exc)})") from None


class IdCheck:
    """Empty and repeated ids of a corpus, counted in the scan with 8 bytes per ad (a hash of
    each id), so that a corpus of millions of ads need not hold its ids."""

    def __init__(self):
        from array import array

        self._hashes = array("Q")
        self.empty = 0
        self.repeated = 0               # ads whose id an earlier ad already has
        self.repeated_hashes: frozenset[int] = frozenset()

    @staticmethod
    def hash(doc_id: str) -> int:
        return int.from_bytes(hashlib.blake2b(doc_id.encode("utf-8", "surrogatepass"),
                                              digest_size=8).digest(), "big")

    def add(self, doc_id: str) -> None:
        if not doc_id.strip():
            self.empty += 1
        self._hashes.append(self.hash(doc_id))

    def done(self) -> "IdCheck":
        import numpy as np

        hashes = np.frombuffer(self._hashes, dtype=np.uint64)
        values, counts = np.unique(hashes, return_counts=True)
        self.repeated = int((counts - 1).sum())
        self.repeated_hashes = frozenset(int(v) for v in values[counts > 1][:100_000])
        del self._hashes
        return self


def _text_like(kind) -> bool:
    import pyarrow as pa

    return (pa.types.is_string(kind) or pa.types.is_large_string(kind)
            or getattr(pa.types, "is_string_view", lambda _: False)(kind)
            or pa.types.is_integer(kind) or pa.types.is_floating(kind)
            or pa.types.is_boolean(kind) or pa.types.is_null(kind)
            or pa.types.is_decimal(kind) or pa.types.is_temporal(kind))


def cell_text(value, where: str) -> str:
    """A cell as the text that is coded (the rules in the module docstring)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        kind = "an object" if isinstance(value, dict) else "an array"
        raise InputError(f"{where} holds {kind}, not text; the text and id must be strings "
                         "or numbers")
    if type(value).__name__ == "Decimal":
        return str(value)
    raise InputError(f"{where} holds a {type(value).__name__}, not text")


def _lines(fh, source: str) -> Iterator[tuple[int, str]]:
    """The non-blank lines of a JSON Lines stream with their numbers; a line longer than
    :data:`MAX_CELL_CHARS` is refused before it is held whole."""
    for number, line in bounded_lines(fh, MAX_CELL_CHARS, lambda n: InputError(
            f"{source}: line {n} is longer than {MAX_CELL_CHARS:,} characters; not one ad "
            "per line")):
        if line.strip():
            yield number, line


def check_encoding(encoding: str) -> str:
    """``encoding`` if Python can decode text with it, else a one-line error."""
    try:
        info = codecs.lookup(encoding)
    except (LookupError, TypeError, ValueError):
        raise InputError(f"unknown text encoding {encoding!r} (--encoding); try utf-8, "
                         "latin-1, cp1252 or utf-16") from None
    if not getattr(info, "_is_text_encoding", True):
        raise InputError(f"{encoding!r} is not a text encoding (--encoding)")
    return encoding


def open_ad_table(path: str | Path, encoding: str | None = None) -> AdTable:
    """Check the file (regular, format, not binary, readable header) and return its table."""
    path = Path(path)
    open_regular_file(path).close()  # not a pipe, device or folder
    if encoding is not None:
        check_encoding(encoding)
    fmt, gzipped = input_format(path)
    if fmt == "parquet":
        table = AdTable(path, fmt, False, "utf-8", [])
        table.columns = list(table._parquet().schema_arrow.names)
        return table
    try:
        with open(path, "rb") as raw:
            head = (gzip.GzipFile(fileobj=raw) if gzipped else raw).read(65536)
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
        stream = _HashingReader(table.path)
        with stream, table._text(stream) as fh:
            header = next(csv_records(fh, str(table.path), header_only=True), [])
    except UnicodeDecodeError as exc:
        raise InputError(not_decodable(table, exc)) from None
    if not any(name.strip() for name in header):
        raise InputError(f"{table.path}: no header row (the first line must name the columns)")
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if duplicated:
        raise InputError(f"{table.path}: duplicated column name(s) in the header: "
                         f"{', '.join(duplicated)}")
    return header


def csv_records(fh, source: str, header_only: bool = False) -> Iterator[list[str]]:
    """The header, then every non-blank record of a CSV text stream, parsed strictly.

    An unclosed quote or text after a closing quote is an error at once; records with more or
    fewer cells than the header are counted and reported after the pass, naming the first
    (an unquoted comma or line break would otherwise shift text into the wrong column or
    split one ad into two). Blank lines are skipped, as pandas does. A cell longer than
    :data:`MAX_CELL_CHARS` is an error.
    """
    reader = csv.reader(fh, strict=True)
    records = _with_cell_limit(reader)
    bad, first_bad = 0, ""
    try:
        header = next(records, [])
        yield header
        if header_only:
            return
        for record in records:
            if not record or (len(record) == 1 and not record[0].strip()):
                continue
            if len(record) != len(header):
                bad += 1
                first_bad = first_bad or (f"line {reader.line_num} has {len(record)} cell(s) "
                                          f"but the header has {len(header)}")
                continue
            yield record
    except csv.Error as exc:
        hint = ("a cell that long is not one ad; a quote left open?" if "field limit" in str(exc)
                else "a quote left open, or text after a closing quote?")
        raise InputError(f"{source}: malformed CSV at line {reader.line_num} ({exc}); {hint}"
                         ) from None
    if bad:
        more = f" (and {bad - 1} more such lines)" if bad > 1 else ""
        raise InputError(f"{source}: malformed CSV: {first_bad}{more}; an unquoted comma or "
                         "line break inside a cell? quote that cell")


_CELL_LIMIT_LOCK = threading.Lock()


def _with_cell_limit(reader) -> Iterator[list[str]]:
    """``reader``'s records, each parsed under :data:`MAX_CELL_CHARS` as the cell limit.

    The csv module keeps one limit for the whole process; raising it for good would change
    every other CSV reader of the process (skillmap's taxonomy readers, the host
    application's) depending on whether a batch table was read first. So it is raised for
    each record's parse only and put back before the record is handed on. The lock keeps two
    batch readers (the app's sessions are threads) from putting it back under each other."""
    while True:
        with _CELL_LIMIT_LOCK:
            previous = csv.field_size_limit(MAX_CELL_CHARS)
            try:
                record = next(reader, None)
            finally:
                csv.field_size_limit(previous)
        if record is None:
            return
        yield record


def not_decodable(table: AdTable, exc: UnicodeDecodeError) -> str:
    """The one-line message for text that is not in the table's encoding."""
    return (f"{table.path}: not valid {table.encoding} text (byte 0x{exc.object[exc.start]:02x}"
            "); re-save it as UTF-8 or pass --encoding (e.g. latin-1)")


def _jsonl_keys(table: AdTable) -> list[str]:
    """The keys of the first record (later records may lack some: their cells are "")."""
    try:
        stream = _HashingReader(table.path)
        with stream, table._text(stream) as fh:
            for number, line in _lines(fh, str(table.path)):
                return list(table._json_object(line, number))
    except UnicodeDecodeError as exc:
        raise InputError(not_decodable(table, exc)) from None
    raise InputError(f"{table.path}: the file is empty")
