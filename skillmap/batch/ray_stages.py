"""The worker side of ``skillmap batch --engine ray``: a Ray Data source and the coding actor.

Why one dataset row per *chunk* of ads, read by a custom :class:`~ray.data.Datasource` rather
than ``ray.data.read_csv``/``read_parquet``: the Ray engine must write byte for byte what
:func:`~skillmap.batch.code_corpus` writes. An encoder's output for a sentence differs in the
last float bits with the other sentences of its batch (padding), which can flip a score
rounded to 4 digits; so the actors must code exactly the local engine's chunks, each with one
``extract_many`` call. Ray Data re-blocks rows freely (merging and splitting blocks), but never
splits a row: a row holding a whole chunk (its ads' texts and ids as lists) keeps the chunk
intact. The chunks come from the local engine's own reader (:meth:`AdTable.chunks
<skillmap.batch.readers.AdTable.chunks>`: every cell as text, ``007`` stays ``007``,
encodings, gzip, JSON Lines with missing keys), and each carries its first input row, which
numbers the ads when there is no id column and puts the output back into input order.

A file is one read task, as it is for Ray's own CSV and JSON readers; reading is cheap next to
encoding, and Ray streams the chunks to the actors as they are read.

:class:`CodeAds` runs in an actor pool: each actor builds its :class:`Extractor` (model, faiss
index) once from a picklable :class:`~skillmap.pipeline.config.ExtractorConfig` and codes a
chunk per row into long-format rows, preceded by one *marker* row (``rank`` 0) that carries
the chunk's counts for the end-of-run report.
"""

from __future__ import annotations

from typing import Iterator

import pyarrow as pa
from ray.data.block import BlockMetadata
from ray.data.datasource import Datasource, ReadTask

from skillmap.batch.coder import _checked
from skillmap.batch.readers import AdTable
from skillmap.pipeline.results import LONG_COLUMNS, NUMERIC_COLUMNS, long_parquet_schema

CHUNK_SCHEMA = pa.schema([("_row", pa.int64()), ("doc_id", pa.list_(pa.string())),
                          ("text", pa.list_(pa.string()))])

# the shards' schema: the long format plus the ad's input row and the marker rows' counts
COUNTS = ("_ads", "_sentences", "_encoded", "_filtered", "_truncated")
SHARD_SCHEMA = pa.schema(
    [("_row", pa.int64())]
    + [(field.name, pa.float64() if pa.types.is_floating(field.type) else field.type)
       for field in long_parquet_schema()]
    + [(c, pa.int64()) for c in COUNTS])


class ChunkDatasource(Datasource):
    """One input file as rows ``(_row, doc_id[], text[])``, one row per chunk, in order."""

    def __init__(self, table: AdTable, text_column: str, id_column: str | None,
                 columns: list[str], chunk_size: int):
        super().__init__()
        self.table, self.text_column, self.id_column = table, text_column, id_column
        self.columns, self.chunk_size = columns, chunk_size

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
        for chunk in _checked(lambda: self.table.chunks(self.columns, self.chunk_size),
                              self.table):
            ids = (chunk[self.id_column].tolist() if self.id_column
                   else [str(row + i) for i in range(len(chunk))])
            yield pa.table([[row], [ids], [chunk[self.text_column].tolist()]],
                           schema=CHUNK_SCHEMA)
            row += len(chunk)


class CodeAds:
    """Ray Data callable class: one Extractor per actor; each row of a batch is a chunk."""

    def __init__(self, config):
        from skillmap.pipeline import Extractor

        self.extractor = Extractor.from_config(config)

    def __call__(self, batch: pa.Table) -> pa.Table:
        out: dict[str, list] = {name: [] for name in SHARD_SCHEMA.names}
        for first_row, ids, texts in zip(*(batch.column(c).to_pylist()
                                           for c in CHUNK_SCHEMA.names)):
            self._code_chunk(first_row, ids, texts, out)
        return pa.table(out, schema=SHARD_SCHEMA)

    def _code_chunk(self, first_row: int, ids: list[str], texts: list[str],
                    out: dict[str, list]) -> None:
        results = self.extractor.extract_many(texts, ids)  # as code_corpus codes a chunk
        sentences = [s for r in results for s in r.sentences]
        counts = {"_ads": len(texts),  # counted as code_corpus counts them
                  "_sentences": sum(s.is_content for s in sentences),
                  "_encoded": len({s.text for s in sentences
                                   if s.coded}),
                  "_filtered": sum(s.filtered for s in sentences),
                  "_truncated": sum(r.truncated_chars > 0 for r in results)}
        marker = {"_row": first_row, **{c: 0 for c in NUMERIC_COLUMNS}, **counts}
        for name in SHARD_SCHEMA.names:
            out[name].append(marker.get(name, ""))
        for row, result in enumerate(results, first_row):
            for record in result.rows():   # score rounded as write_long_csv writes it
                out["_row"].append(row)
                for name in LONG_COLUMNS:
                    out[name].append(record[name])
                for name in COUNTS:
                    out[name].append(0)
