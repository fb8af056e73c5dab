"""Turn what an analyst uploads into ads: plain text, tables, Word and PDF files.

The app never trusts an upload: each file is checked for size, type, emptiness and
readability before anything is coded, and every problem becomes one
:class:`~skillmap.errors.InputError` line that the page shows next to the file (the other
files still go through). Text comes out of Word files with python-docx (paragraphs, then
table cells) and out of PDFs with pypdf (page text); neither is parsed by hand.

Two shapes come back:

- :class:`TextUpload` (``.txt``, ``.docx``, ``.pdf``): one ad, named after the file;
- :class:`TableUpload` (``.csv``, ``.xlsx``): one ad per row; the page asks which column holds
  the text and which the id (:func:`guess_columns` preselects sensible ones), then
  :meth:`TableUpload.ads` yields the ads. Row ids default to the 1-based row number, as in
  ``skillmap batch``, so coding a table in the app and in batch gives the same ``doc_id``\\ s.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import PurePath, PureWindowsPath

import pandas as pd

from skillmap.errors import InputError
from skillmap.batch.readers import csv_records
from skillmap.io import decode_text

TEXT_TYPES = ("txt", "docx", "pdf")
TABLE_TYPES = ("csv", "xlsx")
ALL_TYPES = TEXT_TYPES + TABLE_TYPES

MAX_FILE_MB = 25          # per file; larger corpora belong to `skillmap batch`
MAX_ADS = 2_000           # per coding run in the app
MAX_AD_CHARS = 100_000    # one ad; a longer "ad" is almost certainly a whole corpus

_TEXT_COLUMN_NAMES = ("text", "description", "job_description", "ad", "ad_text", "body",
                      "posting", "content")
_ID_COLUMN_NAMES = ("id", "ad_id", "doc_id", "job_id", "posting_id")


@dataclass(frozen=True)
class Ad:
    """One job ad to code."""

    doc_id: str
    text: str


@dataclass(frozen=True)
class TextUpload:
    """A file holding one ad."""

    name: str
    text: str

    def ads(self) -> list[Ad]:
        return [Ad(self.name, self.text)]


@dataclass(frozen=True)
class TableUpload:
    """A table holding one ad per row (all cells read as text)."""

    name: str
    frame: pd.DataFrame

    @property
    def columns(self) -> list[str]:
        return [str(c) for c in self.frame.columns]

    def ads(self, text_column: str, id_column: str | None = None) -> list[Ad]:
        """One ad per row; rows with an empty text cell are kept (they code to no skills)."""
        if text_column not in self.frame.columns:
            raise InputError(f"{self.name}: no column {text_column!r}; columns are: "
                             f"{', '.join(self.columns)}")
        if id_column is not None and id_column not in self.frame.columns:
            raise InputError(f"{self.name}: no id column {id_column!r}")
        texts = self.frame[text_column].tolist()
        if id_column is None:
            ids = [str(i + 1) for i in range(len(texts))]
        else:
            ids = self.frame[id_column].tolist()
            duplicated = pd.Series(ids)[pd.Series(ids).duplicated()].unique().tolist()
            if duplicated:
                raise InputError(f"{self.name}: column {id_column!r} repeats ids "
                                 f"({', '.join(map(str, duplicated[:3]))}); choose another id "
                                 "column or none (row numbers)")
        too_long = [doc_id for doc_id, text in zip(ids, texts) if len(text) > MAX_AD_CHARS]
        if too_long:
            raise InputError(f"{self.name}: row {too_long[0]} holds more than "
                             f"{MAX_AD_CHARS:,} characters; is that cell one ad?")
        return [Ad(str(doc_id), text) for doc_id, text in zip(ids, texts)]


Upload = TextUpload | TableUpload


def read_upload(name: str, data: bytes) -> Upload:
    """Read one uploaded file, or raise an :class:`InputError` saying what is wrong with it."""
    # a browser may send a path (also a Windows one); keep the file name only
    name = PureWindowsPath(name).name or "upload"
    suffix = PurePath(name).suffix.lower().lstrip(".")
    if suffix not in ALL_TYPES:
        raise InputError(f"{name}: unsupported file type {('.' + suffix) if suffix else '(none)'}; "
                         f"upload {', '.join('.' + t for t in ALL_TYPES)}")
    if len(data) > MAX_FILE_MB * 1024 * 1024:
        raise InputError(f"{name}: {len(data) / 1024 / 1024:.0f} MB is over the app's "
                         f"{MAX_FILE_MB} MB limit per file; code large corpora with "
                         "`skillmap batch`")
    if not data.strip():
        raise InputError(f"{name}: the file is empty")
    if suffix in TABLE_TYPES:
        frame = _read_csv(name, data) if suffix == "csv" else _read_xlsx(name, data)
        return _checked_table(name, frame)
    reader = {"txt": _read_txt, "docx": _read_docx, "pdf": _read_pdf}[suffix]
    text = reader(name, data)
    if not text.strip():
        raise InputError(f"{name}: no text found in the file")
    if len(text) > MAX_AD_CHARS:
        raise InputError(f"{name}: {len(text):,} characters is more than one ad "
                         f"({MAX_AD_CHARS:,} max); upload a table with one ad per row")
    return TextUpload(PurePath(name).stem, text)


def guess_columns(table: TableUpload) -> tuple[str, str | None]:
    """The likeliest ``(text column, id column or None)`` of a table."""
    lowered = {c.lower().strip(): c for c in table.columns}
    text = next((lowered[n] for n in _TEXT_COLUMN_NAMES if n in lowered), None)
    if text is None:  # the column with the longest cells
        lengths = {c: table.frame[c].str.len().mean() for c in table.columns}
        text = max(lengths, key=lambda c: lengths[c])
    ident = next((lowered[n] for n in _ID_COLUMN_NAMES if n in lowered and lowered[n] != text),
                 None)
    return text, ident


def _read_txt(name: str, data: bytes) -> str:
    return decode_text(data, name)


def _read_csv(name: str, data: bytes) -> pd.DataFrame:
    """Strict CSV, as ``skillmap batch`` reads it (:func:`~skillmap.batch.readers.csv_records`):
    every record must have as many cells as the header."""
    text = decode_text(data, name)
    records = list(csv_records(io.StringIO(text, newline=""), name))
    if not records:
        raise InputError(f"{name}: the file is empty")
    header = records[0]
    if not any(cell.strip() for cell in header):
        raise InputError(f"{name}: no header row (the first line must name the columns)")
    duplicated = sorted({c for c in header if header.count(c) > 1})
    if duplicated:
        raise InputError(f"{name}: duplicated column name(s) in the header: "
                         f"{', '.join(duplicated)}")
    return pd.DataFrame(records[1:], columns=header, dtype=str)


def _read_xlsx(name: str, data: bytes) -> pd.DataFrame:
    """The first sheet, every cell as text (numbers and dates as they print)."""
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise InputError(f"{name}: not an Excel .xlsx workbook")
    try:
        frame = pd.read_excel(io.BytesIO(data), sheet_name=0, dtype=str, engine="openpyxl")
    except Exception as exc:  # openpyxl raises many types for damaged workbooks
        raise InputError(f"{name}: unreadable Excel workbook ({type(exc).__name__})") from None
    return frame.fillna("")


def _checked_table(name: str, frame: pd.DataFrame) -> TableUpload:
    if frame.columns.empty:
        raise InputError(f"{name}: no header row (the first row must name the columns)")
    names = [str(c) for c in frame.columns]
    if any(n.startswith("Unnamed: ") for n in names) and len(frame) == 0:
        raise InputError(f"{name}: no header row (the first row must name the columns)")
    if len(frame) == 0:
        raise InputError(f"{name}: the table has a header but no rows")
    if len(frame) > MAX_ADS:
        raise InputError(f"{name}: {len(frame):,} rows is over the app's {MAX_ADS:,}-ad limit; "
                         "code large corpora with `skillmap batch`")
    frame.columns = names
    return TableUpload(name, frame)


def _read_docx(name: str, data: bytes) -> str:
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises zip, XML and KeyError variants
        raise InputError(f"{name}: unreadable Word .docx file ({type(exc).__name__})") from None
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            lines.append(" | ".join(cell.text for cell in row.cells))
    return "\n".join(lines)


def _read_pdf(name: str, data: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise InputError(f"{name}: the PDF is password-protected")
        pages = [page.extract_text() or "" for page in reader.pages]
    except InputError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{name}: unreadable PDF ({type(exc).__name__})") from None
    text = "\n".join(pages)
    if not text.strip():
        raise InputError(f"{name}: the PDF has no text layer (a scan?); paste its text instead")
    return text
