"""Turn what an analyst uploads into ads: plain text, tables, Word and PDF files.

The app never trusts an upload: each file is checked for size, type, emptiness and
readability before anything is coded, and every problem becomes one
:class:`~skillmap.errors.InputError` line that the page shows next to the file (the other
files still go through). Text comes out of Word files with python-docx (paragraphs, then
table cells), out of workbooks with openpyxl (streamed) and out of PDFs with pypdf (page
text); none is parsed by hand.

Compressed formats are bounded before they are parsed: a ``.docx``/``.xlsx`` is a zip whose
members' declared sizes must add up to at most :data:`MAX_UNZIPPED_MB` (Python's zip reader
never inflates a member past its declared size, so a lying header cannot go further); a
workbook is read row by row and refused as soon as it passes :data:`MAX_ADS` rows; a PDF is
read with pypdf's decompression limits lowered to :data:`MAX_PDF_STREAM_MB` per stream and at
most :data:`MAX_PDF_PAGES` pages. A damaged or hostile file of any kind is one line, never a
traceback.

Two shapes come back:

- :class:`TextUpload` (``.txt``, ``.docx``, ``.pdf``): one ad, named after the file;
- :class:`TableUpload` (``.csv``, ``.xlsx``): one ad per row; the page asks which column holds
  the text and which the id (:func:`guess_columns` preselects sensible ones) and which
  columns to keep as corpus variables (:func:`guess_keep_columns`), then
  :meth:`TableUpload.ads` yields the ads. Row ids default to the 1-based row number, as in
  ``skillmap batch``, so coding a table in the app and in batch gives the same ``doc_id``\\ s.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, replace
from pathlib import PurePath, PureWindowsPath
from typing import Sequence

import pandas as pd

from skillmap.batch.readers import cell_text, csv_records
from skillmap.batch.variables import check_keep_columns
from skillmap.errors import InputError
from skillmap.io import decode_text
from skillmap.pipeline.results import LONG_COLUMNS

TEXT_TYPES = ("txt", "docx", "pdf")
TABLE_TYPES = ("csv", "xlsx")
ALL_TYPES = TEXT_TYPES + TABLE_TYPES

MAX_FILE_MB = 25          # per file; larger corpora belong to `skillmap batch`
MAX_ADS = 2_000           # per coding run in the app
MAX_AD_CHARS = 100_000    # one ad; a longer "ad" is almost certainly a whole corpus
MAX_UNZIPPED_MB = 100     # a .docx/.xlsx, all members inflated (a zip bomb is far more)
MAX_ZIP_MEMBERS = 10_000
MAX_BLANK_ROWS = 10_000   # empty rows skipped in a workbook before it counts as a bomb
MAX_PDF_PAGES = 200
MAX_PDF_STREAM_MB = 16    # inflated bytes per PDF stream (pypdf's default is 75 MB)
KEEP_GUESS_CHARS = 60     # a column with longer cells on average is text, not a variable

_TEXT_COLUMN_NAMES = ("text", "description", "job_description", "ad", "ad_text", "body",
                      "posting", "content")
_ID_COLUMN_NAMES = ("id", "ad_id", "doc_id", "job_id", "posting_id")


@dataclass(frozen=True)
class Ad:
    """One job ad to code, with the corpus variables kept from its row (date, region, ...)
    and the file it came from."""

    doc_id: str
    text: str
    variables: tuple[tuple[str, str], ...] = ()
    source: str = ""


@dataclass(frozen=True)
class TextUpload:
    """A file holding one ad."""

    name: str
    text: str

    def ads(self) -> list[Ad]:
        return [Ad(self.name, self.text, source=self.name)]


@dataclass
class TableUpload:
    """A table holding one ad per row (all cells read as text)."""

    name: str
    frame: pd.DataFrame
    empty_ids: int = 0  # rows whose id cell is empty, found by the last :meth:`ads`

    @property
    def columns(self) -> list[str]:
        return [str(c) for c in self.frame.columns]

    def ads(self, text_column: str, id_column: str | None = None,
            keep_columns: Sequence[str] = ()) -> list[Ad]:
        """One ad per row; rows with an empty text cell are kept (they code to no skills).
        ``keep_columns`` are carried as the ad's variables (``batch --keep-column``)."""
        if text_column not in self.frame.columns:
            raise InputError(f"{self.name}: no column {text_column!r}; columns are: "
                             f"{', '.join(self.columns)}")
        if id_column is not None and id_column not in self.frame.columns:
            raise InputError(f"{self.name}: no id column {id_column!r}")
        keep = check_keep_columns(keep_columns, self.columns, self.name)
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
        self.empty_ids = sum(not str(doc_id).strip() for doc_id in ids)
        if too_long:
            raise InputError(f"{self.name}: row {too_long[0]} holds more than "
                             f"{MAX_AD_CHARS:,} characters; is that cell one ad?")
        kept = zip(*(self.frame[c].tolist() for c in keep)) if keep else ((),) * len(texts)
        return [Ad(str(doc_id), text, tuple(zip(keep, values)), self.name)
                for doc_id, text, values in zip(ids, texts, kept)]


Upload = TextUpload | TableUpload


def upload_error(name: str, exc: BaseException) -> str:
    """The page's one line for an upload that failed in a way :func:`read_upload` did not
    foresee (a bug, or a library error it does not know): the file is named, the rest of
    the page and the other files go on."""
    from skillmap.errors import exception_line

    return (f"{PureWindowsPath(name).name}: could not be read ({type(exc).__name__}: "
            f"{exception_line(exc)[:200]})")


def unique_doc_ids(ads: list[Ad]) -> list[Ad]:
    """The ads with ids made unique: a repeated id gets " (2)", " (3)", ... — the first
    number that no other ad uses, so "ad.txt" twice and "ad (2).txt" stay three ads."""
    seen: set[str] = set()
    unique = []
    for ad in ads:
        doc_id, number = ad.doc_id, 1
        while doc_id in seen:
            number += 1
            doc_id = f"{ad.doc_id} ({number})"
        seen.add(doc_id)
        unique.append(ad if doc_id == ad.doc_id else replace(ad, doc_id=doc_id))
    return unique


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


def guess_keep_columns(table: TableUpload, text: str, ident: str | None) -> list[str]:
    """Columns worth keeping as corpus variables: the short ones that are neither the text nor
    the id (a date, a region, an occupation; not a second free-text column)."""
    keep = []
    for column in table.columns:
        if column in (text, ident) or column in LONG_COLUMNS:
            continue
        cells = table.frame[column]
        if len(cells) and cells.str.len().mean() <= KEEP_GUESS_CHARS:
            keep.append(column)
    return keep


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


def _pdf_limits():
    """pypdf's resource limits, lowered for uploads (where this pypdf has them)."""
    import contextlib

    import pypdf

    if not hasattr(pypdf, "apply_configuration"):
        return contextlib.nullcontext()
    cap = MAX_PDF_STREAM_MB * 1024 * 1024
    return pypdf.apply_configuration(
        maximum_declared_stream_length=cap, zlib_maximum_output_length=cap,
        lzw_maximum_output_length=cap, run_length_maximum_output_length=cap,
        brotli_maximum_output_length=cap, jbig2_maximum_output_length=cap,
        array_based_stream_maximum_output_length=cap, image_maximum_buffer_size=cap,
        stream_decoding_work_maximum_length=4 * cap, xform_maximum_invocations_per_extraction=500,
        jbig2dec_binary=None)


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
    """The first sheet, every cell as text (numbers and dates as they print), streamed row
    by row so that a workbook of a million rows is refused after :data:`MAX_ADS`."""
    _check_zip(name, data, "not an Excel .xlsx workbook")
    _check_sheet_rows(name, data)
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            rows = _sheet_rows(name, workbook.worksheets[0])
        finally:
            workbook.close()
    except InputError:
        raise
    except Exception as exc:  # openpyxl raises many types for damaged workbooks
        raise InputError(f"{name}: unreadable Excel workbook ({type(exc).__name__})") from None
    if not rows:
        raise InputError(f"{name}: the table has a header but no rows")
    header = [f"Unnamed: {i}" if cell is None else cell_text(cell, name)
              for i, cell in enumerate(rows[0])]
    width = len(header)
    body = [[cell_text(cell, name) for cell in (list(row) + [None] * width)[:width]]
            for row in rows[1:]]
    return pd.DataFrame(body, columns=header, dtype=str)


def _sheet_rows(name: str, sheet) -> list[tuple]:
    """The sheet's rows (blank ones skipped), refused once there are more than the app codes."""
    rows, blank = [], 0
    for row in sheet.iter_rows(values_only=True):
        if all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in row):
            blank += 1
            if blank > MAX_BLANK_ROWS:
                raise InputError(f"{name}: more than {MAX_BLANK_ROWS:,} empty rows; "
                                 "re-save the sheet without them")
            continue
        rows.append(row)
        if len(rows) > MAX_ADS + 1:  # the header and MAX_ADS ads
            raise InputError(f"{name}: more than {MAX_ADS:,} rows is over the app's "
                             f"{MAX_ADS:,}-ad limit; code large corpora with `skillmap batch`")
    return rows


_ROW_TAG = re.compile(rb"<(?:\w+:)?row[\s>/]")


def _check_sheet_rows(name: str, data: bytes) -> None:
    """Count the rows of every worksheet in the raw XML, before openpyxl parses any: it reads
    a whole sheet to size it when the sheet does not say its size, which took 25 s for a
    million rows. Stops counting at the limit."""
    try:
        _count_sheet_rows(name, data)
    except InputError:
        raise
    except Exception as exc:  # a damaged member: zlib, CRC, unsupported compression
        raise InputError(f"{name}: unreadable Excel workbook ({type(exc).__name__})") from None


def _count_sheet_rows(name: str, data: bytes) -> None:
    limit = MAX_ADS + 1 + MAX_BLANK_ROWS
    rows = 0
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for member in archive.namelist():
            if not (member.startswith("xl/worksheets/") and member.endswith(".xml")):
                continue
            with archive.open(member) as sheet:
                tail = b""  # a tag cut by a block boundary is counted with the next block
                for block in iter(lambda: sheet.read(1 << 20), b""):
                    text, cut = tail + block, len(tail) + len(block) - 64
                    rows += sum(m.start() < cut for m in _ROW_TAG.finditer(text))
                    tail = text[max(cut, 0):]
                    if rows > limit:
                        raise InputError(f"{name}: more than {MAX_ADS:,} rows is over the app's "
                                         f"{MAX_ADS:,}-ad limit; code large corpora with "
                                         "`skillmap batch`")
                rows += len(_ROW_TAG.findall(tail))


def _check_zip(name: str, data: bytes, not_a_zip: str) -> None:
    """Refuse a zip (.docx, .xlsx) that inflates past the limits, before it is parsed."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError):
        raise InputError(f"{name}: {not_a_zip}") from None
    inflated = sum(member.file_size for member in members)
    if len(members) > MAX_ZIP_MEMBERS or inflated > MAX_UNZIPPED_MB * 1024 * 1024:
        raise InputError(f"{name}: unpacks to {inflated / 1024 / 1024:,.0f} MB in "
                         f"{len(members):,} parts, over the app's limit of {MAX_UNZIPPED_MB} MB "
                         "(a zip bomb?)")


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
    _check_zip(name, data, "unreadable Word .docx file (not a zip)")
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
        lines = [p.text for p in document.paragraphs]
        for table in document.tables:
            for row in table.rows:
                lines.append(" | ".join(cell.text for cell in row.cells))
    except Exception as exc:  # python-docx raises zip, XML and KeyError variants
        raise InputError(f"{name}: unreadable Word .docx file ({type(exc).__name__})") from None
    return "\n".join(lines)


def _read_pdf(name: str, data: bytes) -> str:
    from pypdf import PdfReader

    try:
        with _pdf_limits():
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted:
                raise InputError(f"{name}: the PDF is password-protected")
            if len(reader.pages) > MAX_PDF_PAGES:
                raise InputError(f"{name}: {len(reader.pages):,} pages is more than one ad "
                                 f"(at most {MAX_PDF_PAGES}); code large corpora with "
                                 "`skillmap batch`")
            pages, size = [], 0
            for page in reader.pages:
                pages.append(page.extract_text() or "")
                size += len(pages[-1])
                if size > MAX_AD_CHARS:
                    break  # refused below as more than one ad
    except InputError:
        raise
    except Exception as exc:  # a damaged or hostile PDF: pypdf raises many kinds
        if type(exc).__name__ == "LimitReachedError":
            raise InputError(f"{name}: the PDF inflates past the app's limit of "
                             f"{MAX_PDF_STREAM_MB} MB per stream (a decompression bomb?)"
                             ) from None
        raise InputError(f"{name}: unreadable PDF ({type(exc).__name__})") from None
    text = "\n".join(pages)
    if not text.strip():
        raise InputError(f"{name}: the PDF has no text layer (a scan?); paste its text instead")
    return text
