"""Code a CSV of job ads into the long output format, chunk by chunk, resumably.

The input is streamed (pandas ``chunksize``), never loaded whole. Each finished chunk's
rows go to ``OUT.partial/chunk-NNNNNN.csv`` (each written atomically) next to a manifest
that pins the input file and options; the final output is assembled from the chunks and
moved into place atomically, so ``OUT`` is either complete or absent. After a crash or
Ctrl-C, ``resume=True`` skips the chunks already done: no row is lost or duplicated.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from skillmap.errors import InputError
from skillmap.io import atomic_write
from skillmap.pipeline.extractor import Extractor
from skillmap.pipeline.results import LONG_COLUMNS, write_long_csv


@dataclass
class BatchReport:
    """Counts for the end-of-run summary."""

    ads: int = 0
    ads_without_skills: int = 0
    rows_written: int = 0
    chunks: int = 0
    chunks_resumed: int = 0
    sentences: int = 0          # codable sentences (headings excluded) in the ads coded
    encoded_sentences: int = 0  # what the encoder actually ran on: distinct per chunk
    filtered_sentences: int = 0  # codable sentences the filter judged to state no skill


def _check_input(path: Path, encoding: str | None) -> str:
    """Fail early, in one line, on a missing, empty or binary file; return the encoding."""
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if not path.is_file():
        raise InputError(f"{path}: not a regular file")
    with open(path, "rb") as fh:
        head = fh.read(65536)
    if not head.strip():
        raise InputError(f"{path}: the file is empty")
    if encoding is None:
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            encoding = "utf-16"
        else:
            encoding = "utf-8-sig"
    if b"\x00" in head and not encoding.startswith("utf-16"):
        raise InputError(f"{path}: looks like a binary file, not CSV text")
    return encoding


def _reader(path: Path, encoding: str, chunk_size: int, columns: list[str]):
    return pd.read_csv(path, chunksize=chunk_size, dtype=str, keep_default_na=False,
                       encoding=encoding, usecols=columns, on_bad_lines="error")


def _fail(path: Path, exc: Exception, encoding: str) -> InputError:
    if isinstance(exc, UnicodeDecodeError):
        return InputError(f"{path}: not valid {encoding} text (byte 0x{exc.object[exc.start]:02x}); "
                          "re-save it as UTF-8 or pass --encoding (e.g. latin-1)")
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return InputError(f"{path}: malformed CSV ({first})")


def read_header(path: Path, encoding: str) -> list[str]:
    """The header row as written (pandas would silently rename duplicates to ``x.1``)."""
    try:
        with open(path, encoding=encoding, newline="") as fh:
            header = next(csv.reader(fh), [])
    except (UnicodeDecodeError, csv.Error) as exc:
        raise _fail(path, exc, encoding) from None
    if not any(name.strip() for name in header):
        raise InputError(f"{path}: no header row (the first line must name the columns)")
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if duplicated:
        raise InputError(f"{path}: duplicated column name(s) in the header: {', '.join(duplicated)}")
    return header


def count_rows(path: Path, encoding: str) -> int | None:
    """Number of CSV records (embedded newlines handled), for the progress bar."""
    try:
        with open(path, encoding=encoding, newline="") as fh:
            return max(sum(1 for _ in csv.reader(fh)) - 1, 0)
    except (UnicodeDecodeError, csv.Error):
        return None  # the real read reports the problem


def _manifest(path: Path, text_column: str, id_column: str | None, chunk_size: int,
              extractor: Extractor) -> dict:
    stat = path.stat()
    meta = extractor.index.metadata
    return {"input": str(path.resolve()), "input_size": stat.st_size,
            "input_mtime": stat.st_mtime, "text_column": text_column, "id_column": id_column,
            "chunk_size": chunk_size, "top_k": extractor.top_k, "min_score": extractor.min_score,
            "aggregation": extractor.aggregation, "lexical_boost": extractor.lexical_boost,
            "filter": extractor.sentence_filter.fingerprint if extractor.sentence_filter else None,
            "filter_threshold": extractor.filter_threshold,
            "index": hashlib.sha256(f"{meta.taxonomy_fingerprint}|{meta.model_id}|"
                                    f"{meta.text_template}".encode()).hexdigest()[:16]}


def check_batch_input(input_path: str | Path, text_column: str, id_column: str | None = None,
                      encoding: str | None = None) -> tuple[str, list[str]]:
    """Validate the input file and its columns; return ``(encoding, columns to read)``.

    Cheap (reads the first bytes and the header), so callers run it before loading a model.
    """
    input_path = Path(input_path)
    encoding = _check_input(input_path, encoding)
    header = read_header(input_path, encoding)
    for option, column in (("--text-column", text_column), ("--id-column", id_column)):
        if column is not None and column not in header:
            raise InputError(f"{input_path}: no column {column!r} ({option}); columns are: "
                             f"{', '.join(header)}")
    return encoding, [text_column] + ([id_column] if id_column and id_column != text_column
                                      else [])


def code_csv(extractor: Extractor, input_path: str | Path, output_path: str | Path,
             text_column: str, id_column: str | None = None, chunk_size: int = 256,
             encoding: str | None = None, resume: bool = False,
             show_progress: bool = True) -> BatchReport:
    """Code every row of ``input_path``; write the long format to ``output_path``."""
    input_path, output_path = Path(input_path), Path(output_path)
    if chunk_size < 1:
        raise InputError(f"chunk size must be at least 1, got {chunk_size}")
    if input_path.resolve() == output_path.resolve():
        raise InputError(f"{output_path}: refusing to overwrite the input file")
    encoding, columns = check_batch_input(input_path, text_column, id_column, encoding)

    work = output_path.with_name(output_path.name + ".partial")
    manifest = _manifest(input_path, text_column, id_column, chunk_size, extractor)
    if work.exists():
        if not resume:
            raise InputError(f"{work} holds an interrupted run: pass --resume to continue it, "
                             "or delete that folder to start over")
        try:
            previous = json.loads((work / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            previous = None
        if previous != manifest:
            raise InputError(f"{work} was made with a different input or options; delete it "
                             "to start over")
    else:
        work.mkdir(parents=True)
        with atomic_write(work / "manifest.json") as fh:
            json.dump(manifest, fh, indent=2)

    report = BatchReport()
    total = count_rows(input_path, encoding) if show_progress else None
    bar = tqdm(total=total, unit="ad", desc="coding ads", disable=not show_progress,
               dynamic_ncols=True)
    chunks = _checked(lambda: _reader(input_path, encoding, chunk_size, columns), input_path,
                      encoding)
    try:
        for number, chunk in enumerate(chunks):
            report.chunks += 1
            part = work / f"chunk-{number:06d}.csv"
            first_row = number * chunk_size + 1
            if part.exists():
                report.chunks_resumed += 1
                report.ads += len(chunk)
                bar.update(len(chunk))
                continue
            texts = chunk[text_column].tolist()
            ids = (chunk[id_column].tolist() if id_column
                   else [str(first_row + i) for i in range(len(chunk))])
            results = extractor.extract_many(texts, ids)
            with atomic_write(part, newline="") as fh:
                write_long_csv(fh, results, header=False)
            codable = [s.text for r in results for s in r.sentences if s.kind != "heading"]
            report.sentences += len(codable)
            kept = {s.text for r in results for s in r.sentences
                    if s.kind != "heading" and not s.filtered}
            report.encoded_sentences += len(kept)
            report.filtered_sentences += sum(s.filtered for r in results for s in r.sentences)
            report.ads += len(chunk)
            bar.update(len(chunk))
    finally:
        bar.close()

    _assemble(work, output_path, report)
    shutil.rmtree(work, ignore_errors=True)
    return report


def _checked(open_reader, path: Path, encoding: str):
    """Re-raise parse errors of the CSV reader (only those) as one-line input errors."""
    try:
        chunks = iter(open_reader())
    except (UnicodeDecodeError, pd.errors.ParserError, ValueError) as exc:
        raise _fail(path, exc, encoding) from None
    while True:
        try:
            chunk = next(chunks)
        except StopIteration:
            return
        except (UnicodeDecodeError, pd.errors.ParserError, ValueError) as exc:
            raise _fail(path, exc, encoding) from None
        yield chunk


def _assemble(work: Path, output_path: Path, report: BatchReport) -> None:
    """Concatenate the chunk files into the final output, atomically; count rows and ads."""
    with atomic_write(output_path, newline="") as out:
        writer = csv.writer(out)
        writer.writerow(LONG_COLUMNS)
        coded_ads: set[str] = set()
        for part in sorted(work.glob("chunk-*.csv")):
            with open(part, encoding="utf-8", newline="") as fh:
                for row in csv.reader(fh):
                    writer.writerow(row)
                    coded_ads.add(row[0])
                    report.rows_written += 1
        report.ads_without_skills = max(report.ads - len(coded_ads), 0)


def report_dict(report: BatchReport) -> dict:
    return asdict(report)
