"""The worker side of ``skillmap batch --engine ray``: a Ray Data source and the coding actor.

Why one dataset row per *chunk* of ads, read by a custom :class:`~ray.data.Datasource` rather
than ``ray.data.read_csv``/``read_parquet``: the Ray engine must write byte for byte what
:func:`~skillmap.batch.code_corpus` writes. An encoder's output for a sentence differs in the
last float bits with the other sentences of its batch (padding), which can flip a score
rounded to 4 digits; so the actors must code exactly the local engine's chunks, each with one
``extract_many`` call. Ray Data re-blocks rows freely (merging and splitting blocks), but never
splits a row: a row holding a whole chunk (its number, first input row, and its ads' texts,
ids and kept columns as lists) keeps the chunk intact. The chunks come from the local engine's
own reader (:meth:`AdTable.chunks <skillmap.batch.readers.AdTable.chunks>`: every cell as
text, ``007`` stays ``007``, encodings, gzip, JSON Lines with missing keys).

A file is one read task, as it is for Ray's own CSV and JSON readers; reading is cheap next to
encoding, and Ray streams the chunks to the actors as they are read.

:class:`CodeAds` runs in an actor pool: each actor builds its :class:`Extractor` (model, faiss
index) once from a picklable :class:`~skillmap.pipeline.config.ExtractorConfig` and turns a
chunk into the local engine's two checkpoint files, as text (its long rows and its per-ad
summary rows, written by the same writers), with the chunk's counts for the end-of-run
report. A chunk already done in an earlier run (``--resume``) is passed through uncoded; only
its counts that need no model (ads, ads cut at ``max_ad_chars``) are taken.
"""

from __future__ import annotations

import io
from typing import Iterator

import pyarrow as pa
from ray.data.block import BlockMetadata
from ray.data.datasource import Datasource, ReadTask

from skillmap.batch.coder import checked_chunks
from skillmap.batch.readers import AdTable
from skillmap.pipeline.results import write_long_csv, write_summary_csv

CHUNK_SCHEMA = pa.schema([("_chunk", pa.int64()), ("_row", pa.int64()),
                          ("_done", pa.bool_()),
                          ("doc_id", pa.list_(pa.string())), ("text", pa.list_(pa.string())),
                          ("kept", pa.list_(pa.list_(pa.string())))])

#: what an actor returns per chunk: the checkpoint files' text (null for a chunk already
#: done) and the chunk's counts
COUNTS = ("_ads", "_sentences", "_encoded", "_filtered", "_truncated")
CODED_SCHEMA = pa.schema([("_chunk", pa.int64()), ("_done", pa.bool_()),
                          ("long_rows", pa.string()), ("ad_rows", pa.string())]
                         + [(c, pa.int64()) for c in COUNTS])


class ChunkDatasource(Datasource):
    """One input file as rows ``(_chunk, _row, _done, doc_id[], text[], kept[][])``, one row
    per chunk, in order; ``done``: numbers of the chunks an earlier run finished."""

    def __init__(self, table: AdTable, text_column: str, id_column: str | None,
                 columns: list[str], chunk_size: int, done: frozenset[int] = frozenset()):
        super().__init__()
        self.table, self.text_column, self.id_column = table, text_column, id_column
        self.columns, self.chunk_size, self.done = columns, chunk_size, done

    def get_name(self) -> str:
        return "ReadAdChunks"

    def estimate_inmemory_data_size(self) -> int | None:
        return self.table.path.stat().st_size

    def get_read_tasks(self, parallelism: int, per_task_row_limit: int | None = None,
                       data_context=None) -> list[ReadTask]:
        meta = BlockMetadata(num_rows=None, size_bytes=self.estimate_inmemory_data_size(),
                             input_files=[str(self.table.path)], exec_stats=None)
        return [ReadTask(self._chunks, meta, CHUNK_SCHEMA, per_task_row_limit)]

    def _chunks(self) -> Iterator[pa.Table]:
        """The local engine's chunks and row numbers; parse errors as its one-line errors."""
        row = 1
        for number, chunk in enumerate(checked_chunks(
                lambda: self.table.chunks(self.columns, self.chunk_size), self.table)):
            ids = (chunk[self.id_column].tolist() if self.id_column
                   else [str(row + i) for i in range(len(chunk))])
            kept = [list(values) for values in zip(*(chunk[c].tolist()
                                                     for c in self.table.kept))] \
                if self.table.kept else [[] for _ in range(len(chunk))]
            yield pa.table([[number], [row], [number in self.done], [ids],
                            [chunk[self.text_column].tolist()], [kept]], schema=CHUNK_SCHEMA)
            row += len(chunk)


class CodeAds:
    """Ray Data callable class: one Extractor per actor; each row of a batch is a chunk."""

    def __init__(self, config, keep_columns: list[str]):
        from skillmap.pipeline import Extractor

        self.extractor = Extractor.from_config(config)
        self.keep_columns = list(keep_columns)

    def __call__(self, batch: pa.Table) -> pa.Table:
        out: dict[str, list] = {name: [] for name in CODED_SCHEMA.names}
        for number, first_row, done, ids, texts, kept in zip(
                *(batch.column(c).to_pylist() for c in CHUNK_SCHEMA.names)):
            row = self._code_chunk(ids, texts, kept) if not done else {
                "_ads": len(texts), "_truncated": self._truncated(texts)}
            for name in CODED_SCHEMA.names:
                out[name].append(row.get(name, 0 if name in COUNTS else None))
            out["_chunk"][-1], out["_done"][-1] = number, done
        return pa.table(out, schema=CODED_SCHEMA)

    def _truncated(self, texts: list[str]) -> int:
        return sum(len(text) > self.extractor.max_ad_chars for text in texts)

    def _code_chunk(self, ids: list[str], texts: list[str], kept: list[list[str]]) -> dict:
        results = self.extractor.extract_many(texts, ids)  # as code_corpus codes a chunk
        if self.keep_columns:
            for result, values in zip(results, kept):
                result.variables = dict(zip(self.keep_columns, values))
        long_rows, ad_rows = io.StringIO(newline=""), io.StringIO(newline="")
        write_summary_csv(ad_rows, results, header=False, keep_columns=self.keep_columns)
        write_long_csv(long_rows, results, header=False, keep_columns=self.keep_columns)
        sentences = [s for r in results for s in r.sentences]
        return {"long_rows": long_rows.getvalue(), "ad_rows": ad_rows.getvalue(),
                "_ads": len(texts),  # counted as code_corpus counts them
                "_sentences": sum(s.is_content for s in sentences),
                "_encoded": len({s.text for s in sentences if s.coded}),
                "_filtered": sum(s.filtered for s in sentences),
                "_truncated": self._truncated(texts)}
