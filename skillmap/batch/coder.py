"""Code a corpus of job ads into the long output format, chunk by chunk, resumably.

The input (CSV, JSON Lines or Parquet, gzip allowed: :mod:`skillmap.batch.readers`) is
streamed in chunks, never loaded whole; the output is CSV, or Parquet when ``OUT`` ends in
``.parquet``. Each finished chunk's rows go to the run's locked checkpoint folder
``OUT.partial/`` (:mod:`skillmap.batch.checkpoints`) next to a manifest that pins the run's
identity: the input's content hash and every option that changes the output, the text
encoding included. The final output is assembled from the chunks and moved into place
atomically, so ``OUT`` is either complete or absent. Each chunk also keeps one summary row
per ad (``ads-NNNNNN.csv``), from which ``summary_path`` (``--summary``) is assembled with
the output. After a crash, a kill or Ctrl-C,
``resume=True`` skips the chunks already done: no row is lost or duplicated. A second run
on the same output, resumed or not, is refused while the first holds the folder.

Sentences repeated across chunks (boilerplate) are coded once per run through a bounded
:class:`~skillmap.pipeline.sentence_cache.SentenceCache`; each chunk also saves what it added
to the cache (``chunk-NNNNNN.cache.jsonl``) so that a resumed run rebuilds the cache exactly
and writes the same rows, to the last digit, as an uninterrupted one.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import pandas as pd
from tqdm import tqdm

from skillmap.batch.checkpoints import CheckpointFolder, check_not_busy
from skillmap.batch.readers import AdTable, not_decodable, open_ad_table
from skillmap.errors import InputError, exception_line
from skillmap.io import atomic_write, check_writable_file, refuse_overwriting_inputs
from skillmap.pipeline.extractor import Extractor
from skillmap.batch.variables import (ColumnTypes, check_keep_columns, parquet_input_types,
                                      typed_array)
from skillmap.pipeline.results import (LONG_COLUMNS, SUMMARY_COLUMNS, SUMMARY_COUNTS,
                                      long_parquet_schema, summary_names,
                                      summary_parquet_schema, write_long_csv,
                                      write_summary_csv)
from skillmap.pipeline.sentence_cache import SentenceCache

# distinct sentences remembered across chunks: ~150 MB at most, ~500 MB with the ad context on
# (which keeps every candidate and the sentence's vector; docs/benchmarks.md §13.11)
DEFAULT_DEDUP_CACHE = 100_000


@dataclass
class BatchReport:
    """Counts for the end-of-run summary."""

    ads: int = 0
    ads_without_skills: int = 0
    rows_written: int = 0
    chunks: int = 0
    chunks_resumed: int = 0
    sentences: int = 0          # content sentences (no titles, headings, metadata) coded
    encoded_sentences: int = 0  # what the encoder actually ran on (distinct, not cached)
    cached_sentences: int = 0   # distinct sentences of a chunk coded by an earlier chunk
    filtered_sentences: int = 0  # content sentences the filter judged to state no skill
    ads_truncated: int = 0      # ads longer than the extractor's max_ad_chars (coded in part)
    first_truncated: str = ""   # the doc_id of the first of them, for the summary
    empty_ids: int = 0          # ads whose id cell is empty (with an id column)
    repeated_ids: int = 0       # ads whose id an earlier ad already has: their rows mix
    first_repeated: str = ""    # the first such id, for the summary


def run_manifest(table: AdTable, text_column: str, id_column: str | None, chunk_size: int,
                 extractor: Extractor, dedup_cache: int, keep_columns: Sequence[str] = ()
                 ) -> dict:
    """The run's identity: what was read (the input's content hash, as the scan streamed it,
    and how it was decoded) and every option that changes the output. ``--resume`` continues
    only a run with the same identity."""
    meta = extractor.index.metadata
    probe = getattr(extractor.encoder, "reference_probe", None)
    if probe is None:
        probe = getattr(extractor.encoder, "probe", ())
    model = hashlib.sha256(" ".join(f"{float(x):.5f}" for x in probe).encode()).hexdigest()
    return {"input": str(table.path.resolve()), "input_sha256": table.digest,
            "input_ads": table.rows, "encoding": table.encoding,
            "text_column": text_column, "id_column": id_column,
            "keep_columns": list(keep_columns), "chunk_size": chunk_size, "dedup_cache": dedup_cache,
            "extractor": {**extractor.config.to_dict(), "index": None, "model": None,
                          "backend": extractor.encoder.backend, "model_probe": model[:16]},
            "filter": extractor.sentence_filter.fingerprint if extractor.sentence_filter else None,
            "index": hashlib.sha256(f"{meta.taxonomy_fingerprint}|{meta.model_id}|"
                                    f"{meta.text_template}|{meta.index_sha256}".encode()
                                    ).hexdigest()[:16]}


def check_batch_input(input_path: str | Path, text_column: str, id_column: str | None = None,
                      encoding: str | None = None, keep_columns: Sequence[str] = ()
                      ) -> tuple[AdTable, list[str]]:
    """Validate the input file and its columns; return ``(table, columns to read)``.

    Cheap (reads the first bytes and the header), so callers run it before loading a model.
    """
    table = open_ad_table(input_path, encoding)
    for option, column in (("--text-column", text_column), ("--id-column", id_column)):
        if column is not None and column not in table.columns:
            raise InputError(f"{table.path}: no column {column!r} ({option}); columns are: "
                             f"{', '.join(table.columns)}")
    table.selected = [text_column] + ([id_column] if id_column and id_column != text_column
                                      else [])
    table.kept = check_keep_columns(keep_columns, table.columns, str(table.path))
    return table, table.read_columns


def check_batch_output(output_path: str | Path, input_path: str | Path | None = None,
                       summary_path: str | Path | None = None,
                       keep_columns: Sequence[str] = ()) -> str:
    """Refuse, before any coding, an output that cannot be written; return its format.

    Catches what used to surface only after hours of work: an output path that is a folder,
    a folder that is read-only or full, the input itself, and another run on the same output.
    The per-ad summary (``--summary``) is checked the same way, and must not be the output,
    nor have a kept column named like one of its own columns.
    """
    output_path = Path(output_path)
    fmt = output_format_of(output_path)
    refuse_overwriting_inputs(output_path, [input_path] if input_path is not None else [])
    check_writable_file(output_path, "--out")
    if summary_path is not None:
        summary_path = Path(summary_path)
        if summary_path.suffix.lower() not in (".csv", ".parquet"):
            raise InputError(f"{summary_path}: --summary must end in .csv or .parquet")
        if summary_path.resolve() in {output_path.resolve()} | (
                {Path(input_path).resolve()} if input_path is not None else set()):
            raise InputError(f"{summary_path}: --summary must be a file of its own (not the "
                             "input or --out)")
        check_writable_file(summary_path, "--summary")
        for column in keep_columns:
            if column in SUMMARY_COLUMNS:
                raise InputError(f"--keep-column {column!r} has the name of a column of the "
                                 "per-ad summary; rename it in the input")
    check_not_busy(output_path)
    return fmt


def code_corpus(extractor: Extractor, input_path: str | Path, output_path: str | Path,
                text_column: str, id_column: str | None = None, chunk_size: int = 256,
                encoding: str | None = None, resume: bool = False,
                show_progress: bool = True,
                dedup_cache: int = DEFAULT_DEDUP_CACHE,
                keep_columns: Sequence[str] = (),
                summary_path: str | Path | None = None) -> BatchReport:
    """Code every row of ``input_path``; write the long format to ``output_path``.

    Ads without an id column are numbered by their 1-based row in the input.
    ``keep_columns`` are input columns copied into every row of their ad, after the fixed
    columns (:mod:`skillmap.batch.variables`: typed in a Parquet output).
    ``dedup_cache`` bounds how many distinct sentences are remembered across chunks so
    repeated boilerplate is encoded once per run (0: de-duplicate within a chunk only).
    ``summary_path`` (.csv or .parquet) also gets the per-ad summary: one row per ad in input
    order, also for an ad without skills (:data:`~skillmap.pipeline.results.SUMMARY_COLUMNS`,
    the kept columns after ``doc_id``, typed as in the long output). It is assembled from the
    chunks' per-ad records, so a resumed run writes it too, and appears with the output.
    """
    input_path, output_path = Path(input_path), Path(output_path)
    summary_path = Path(summary_path) if summary_path is not None else None
    if chunk_size < 1:
        raise InputError(f"chunk size must be at least 1, got {chunk_size}")
    if dedup_cache < 0:
        raise InputError(f"the de-duplication cache size cannot be negative, got {dedup_cache}")
    table, _ = check_batch_input(input_path, text_column, id_column, encoding, keep_columns)
    check_batch_output(output_path, input_path, summary_path, table.kept)  # before any coding
    total = table.scan()  # a malformed line fails the run now, before any output exists
    manifest = run_manifest(table, text_column, id_column, chunk_size, extractor, dedup_cache,
                         table.kept)
    with CheckpointFolder(output_path) as work:
        work.start(manifest, resume)  # refuses another run's folder, leaving it as it is
        if summary_path is not None:
            check_ads_records(work)
        with discarded_on_error_if_empty(work):
            report = _code_chunks(extractor, table, text_column, id_column, work,
                                  chunk_size, dedup_cache, total, show_progress)
        assemble_output(work, report, table, summary_path)
        work.discard()
    return report


def _code_chunks(extractor: Extractor, table: AdTable, text_column: str,
                 id_column: str | None, work: CheckpointFolder, chunk_size: int,
                 dedup_cache: int, total: int, show_progress: bool) -> BatchReport:
    """Code every chunk not already in ``work``; the report of the whole input."""
    columns = table.read_columns
    report = BatchReport()
    repeated = table.ids.repeated_hashes if table.ids else frozenset()
    if table.ids and id_column != text_column:
        report.empty_ids, report.repeated_ids = table.ids.empty, table.ids.repeated
    seen_repeated: set[int] = set()
    cache = SentenceCache(dedup_cache) if dedup_cache else None
    chunks = checked_chunks(lambda: table.chunks(columns, chunk_size), table)
    first_row = 1  # Parquet batches may be shorter than chunk_size at row-group boundaries
    with tqdm(total=total, unit="ad", desc="coding ads", disable=not show_progress,
              dynamic_ncols=True) as bar:
        for number, chunk in enumerate(chunks):
            report.chunks += 1
            part, added = work.chunk(number), work.cache_log(number)
            row, first_row = first_row, first_row + len(chunk)
            texts = chunk[text_column].tolist()
            ids = (chunk[id_column].tolist() if id_column
                   else [str(row + i) for i in range(len(chunk))])
            truncated = [doc_id for doc_id, text in zip(ids, texts)
                         if len(text) > extractor.max_ad_chars]
            if repeated and not report.first_repeated:
                for doc_id in ids:
                    key = table.ids.hash(doc_id)
                    if key in repeated:
                        if key in seen_repeated:
                            report.first_repeated = doc_id
                            break
                        seen_repeated.add(key)
            report.ads_truncated += len(truncated)
            report.first_truncated = report.first_truncated or next(iter(truncated), "")
            report.ads += len(chunk)
            if part.exists():
                if cache is not None:  # rebuild the cache exactly as this chunk left it
                    cache.replay(added)
                report.chunks_resumed += 1
                bar.update(len(chunk))
                continue
            hits_before = cache.hits if cache is not None else 0
            results = extractor.extract_many(texts, ids, cache=cache)
            if table.kept:
                for result, values in zip(results, zip(*(chunk[c].tolist() for c in table.kept))):
                    result.variables = dict(zip(table.kept, values))
            if cache is not None:
                report.cached_sentences += cache.hits - hits_before
                report.encoded_sentences += sum(o.ranked is not None for _, o in cache.pending)
                cache.dump(added)  # before the chunk counts as done (its part file)
            with atomic_write(work.ads_record(number), newline="") as fh:
                write_summary_csv(fh, results, header=False, keep_columns=table.kept)
            with atomic_write(part, newline="") as fh:  # last: the chunk is done
                write_long_csv(fh, results, header=False, keep_columns=table.kept)
            report.sentences += sum(s.is_content for r in results for s in r.sentences)
            if cache is None:
                report.encoded_sentences += len({s.text for r in results for s in r.sentences
                                                 if s.coded})
            report.filtered_sentences += sum(s.filtered for r in results for s in r.sentences)
            bar.update(len(chunk))
    return report


@contextlib.contextmanager
def discarded_on_error_if_empty(work: CheckpointFolder):
    """Remove the run's checkpoint folder if the run fails before finishing a chunk: with
    nothing to resume, a failed run leaves no trace (Ctrl-C keeps it, for --resume)."""
    try:
        yield
    except Exception:
        if not work.chunks():
            work.discard()
        raise


code_csv = code_corpus  # the name from when CSV was the only input format


def checked_chunks(open_reader, table: AdTable):
    """Re-raise parse errors of the readers (only those) as one-line input errors."""
    def fail(exc: Exception) -> InputError:
        if isinstance(exc, UnicodeDecodeError):
            return InputError(not_decodable(table, exc))
        first = exception_line(exc)
        return InputError(f"{table.path}: malformed {table.format.upper()} ({first})")

    errors = (UnicodeDecodeError, pd.errors.ParserError, ValueError, EOFError, OSError)
    try:
        chunks = iter(open_reader())
    except errors as exc:
        raise fail(exc) from None
    while True:
        try:
            chunk = next(chunks)
        except StopIteration:
            return
        except InputError:
            raise
        except errors as exc:
            raise fail(exc) from None
        yield chunk


def output_format_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise InputError(f"{path}: the output must end in .csv or .parquet")
    return suffix.lstrip(".")


def check_ads_records(work: CheckpointFolder) -> None:
    """Refuse ``--summary`` on a folder whose done chunks have no per-ad records (made by an
    older skillmap): before coding, not at the end."""
    records = {p.name for p in work.ads_records()}
    for part in work.chunks():
        if part.name.replace("chunk-", "ads-") not in records:
            raise InputError(f"{work.path} was made without per-ad records, so --summary "
                             "cannot be written from it; resume without --summary, or delete "
                             "the folder to start over")


def assemble_output(work: CheckpointFolder, report: BatchReport, table: AdTable,
                    summary_path: Path | None = None) -> None:
    """Concatenate the chunk files into the final output (and the per-ad records into the
    summary), atomically; count rows and ads.

    An ad with skills has exactly one row of rank 1, so those rows count the coded ads
    without holding every id of the corpus.
    """
    parts = work.chunks()
    records = work.ads_records()
    if len(records) != len(parts):
        records = []   # a folder from before the records: types from the long rows only
    kept_types = _kept_types(parts, records, table) if table.kept and (
        work.output.suffix.lower() == ".parquet" or summary_path is not None
        and summary_path.suffix.lower() == ".parquet") else {}
    also = {}
    if summary_path is not None:
        staged = f"summary{summary_path.suffix.lower()}.tmp"
        if summary_path.suffix.lower() == ".parquet":
            with work.staging(staged, binary=True) as out:
                _summary_parquet(records, out, table, kept_types)
        else:
            with work.staging(staged) as out:
                writer = csv.writer(out)
                writer.writerow(summary_names(table.kept))
                for record in records:
                    with open(record, encoding="utf-8", newline="") as fh:
                        writer.writerows(csv.reader(fh))
        also[work.path / staged] = summary_path
    coded_ads = 0
    if work.output.suffix.lower() == ".parquet":
        with work.assembling(binary=True, also=also) as out:
            coded_ads = _assemble_parquet(parts, out, report, table, kept_types)
    else:
        with work.assembling(also=also) as out:
            writer = csv.writer(out)
            writer.writerow([*LONG_COLUMNS, *table.kept])
            for part in parts:
                with open(part, encoding="utf-8", newline="") as fh:
                    for row in csv.reader(fh):
                        writer.writerow(row)
                        coded_ads += row[1] == "1"
                        report.rows_written += 1
    report.ads_without_skills = max(report.ads - coded_ads, 0)


def _kept_types(parts: list[Path], records: list[Path], table: AdTable) -> dict:
    """The arrow type of each kept column, one pass reading only those columns: learnt from
    every ad (the per-ad records), so the long output and the summary type a column alike;
    from the long rows (the ads with skills) for a folder without records."""
    types = ColumnTypes(table.kept, parquet_input_types(table, table.kept))
    if records:
        sources, names = records, summary_names(table.kept)
    else:
        sources, names = parts, [*LONG_COLUMNS, *table.kept]
    for source in sources:
        if not source.stat().st_size:
            continue
        frame = _read_part(source, names, usecols=table.kept)
        for column in table.kept:
            types.add(column, frame[column])
    return types.arrow_types()


def _summary_parquet(records: list[Path], out, table: AdTable, kept_types: dict) -> None:
    """The per-ad records -> one Parquet file (one row group per chunk), typed."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    names = summary_names(table.kept)
    schema = summary_parquet_schema(kept_types)
    with pq.ParquetWriter(out, schema) as writer:
        for record in records:
            if not record.stat().st_size:
                continue
            frame = _read_part(record, names)
            arrays = [typed_array(frame[c].tolist(), kept_types[c]) if c in kept_types
                      else typed_array(frame[c].tolist(), pa.int64()) if c in SUMMARY_COUNTS
                      else pa.array(frame[c].tolist(), pa.string()) for c in names]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema))


def _assemble_parquet(parts: list[Path], out, report: BatchReport, table: AdTable,
                      kept_types: dict) -> int:
    """Chunk CSVs -> one Parquet file (one row group per chunk), typed; the coded ads.

    The kept columns' types (:func:`_kept_types`) are learnt before, so every row group has
    the same schema."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    names = [*LONG_COLUMNS, *table.kept]
    parts = [part for part in parts if part.stat().st_size]  # chunks whose ads have no skills
    schema = long_parquet_schema(kept_types)
    fixed = long_parquet_schema()
    coded_ads = 0
    with pq.ParquetWriter(out, schema) as writer:
        for part in parts:
            frame = _read_part(part, names)
            arrays = pa.Table.from_pandas(frame[list(LONG_COLUMNS)], schema=fixed,
                                          preserve_index=False).columns
            arrays += [typed_array(frame[c].tolist(), kept_types[c]) for c in table.kept]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
            coded_ads += int((frame["rank"] == "1").sum())
            report.rows_written += len(frame)
    return coded_ads


def _read_part(part: Path, names: list[str], usecols: list[str] | None = None) -> pd.DataFrame:
    """A chunk file, every cell as text ("" for empty)."""
    return pd.read_csv(part, names=names, header=None, dtype=str, keep_default_na=False,
                       usecols=usecols)


def report_dict(report: BatchReport) -> dict:
    return asdict(report)
