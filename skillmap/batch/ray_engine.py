"""``skillmap batch --engine ray``: code a corpus on Ray Data, locally or on a cluster.

The same job as :func:`~skillmap.batch.code_corpus`, with the same output, but the chunks are
coded by a pool of Ray actors (GPU actors with ``gpus_per_actor``), so it scales to every core
and GPU of a Ray cluster. Ray does all the scheduling; the pipeline is

    read the local engine's chunks (:class:`~skillmap.batch.ray_stages.ChunkDatasource`)
    -> map_batches(:class:`~skillmap.batch.ray_stages.CodeAds`, actor pool)
    -> write_parquet(shards, in a hidden folder next to OUT)

then the driver streams the shards, in input order, into ``OUT`` (CSV or Parquet, the local
engine's schema and bytes), written atomically; the shards are removed. Every shard row
carries its ad's input row, so assembly only sorts; execution preserves order anyway.

Each chunk is coded on its own, as ``code_corpus(..., dedup_cache=0)`` codes it: the output
equals that run's byte for byte. The local engine's cross-chunk sentence cache is not used:
what it returns for a sentence depends on which earlier chunk encoded it (float noise of
the encoder batch), so with actors taking chunks in no fixed order the output would vary in
the last digit from run to run. Against a local run *with* the cache, a few scores can differ
in their 4th decimal, as they do between two local runs with different chunk sizes.

The extractor is not pickled: each actor builds its own from an :class:`ExtractorConfig`
(index folder, model, options), once. On a cluster, every node needs skillmap, the index
folder and the model at the same paths, and input and output on shared storage.

There is no ``--resume``: a failed run leaves nothing behind (its shards are deleted) and is
rerun. Ray Data's own checkpointing (``DataContext.checkpoint_config``, beta) filters input
rows by an id column at read time, which ads numbered by row do not have.
"""

from __future__ import annotations

import csv
import logging
import os
import shutil
import tempfile
from pathlib import Path

from skillmap.batch.coder import (BatchReport, check_batch_input, check_batch_output,
                                  output_format_of)
from skillmap.errors import InputError, SkillmapError, exception_line
from skillmap.io import atomic_write
from skillmap.pipeline import Extractor
from skillmap.pipeline.config import ExtractorConfig
from skillmap.pipeline.results import LONG_COLUMNS, long_parquet_schema


def code_corpus_ray(config: ExtractorConfig, input_path: str | Path, output_path: str | Path,
                    text_column: str, id_column: str | None = None, chunk_size: int = 256,
                    encoding: str | None = None, address: str | None = None,
                    num_actors: int | None = None, gpus_per_actor: float = 0.0,
                    show_progress: bool = True) -> BatchReport:
    """Code every row of ``input_path`` on Ray; write what ``code_corpus`` would write.

    ``address``: a running cluster ("auto", "HOST:6379", "ray://HOST:10001"; default: the
    ``RAY_ADDRESS`` variable, else a private local Ray on this machine's CPUs; a Ray already
    initialised in this process is used as it is). ``num_actors``: size of the actor pool
    [default: one per CPU, or per ``gpus_per_actor`` GPUs]. ``chunk_size``: ads coded
    together by one actor call (the local engine's chunks).
    """
    input_path, output_path = Path(input_path).resolve(), Path(output_path).resolve()
    if chunk_size < 1:
        raise InputError(f"chunk size must be at least 1, got {chunk_size}")
    if num_actors is not None and num_actors < 1:
        raise InputError(f"the number of actors must be at least 1, got {num_actors}")
    if gpus_per_actor < 0:
        raise InputError(f"GPUs per actor cannot be negative, got {gpus_per_actor}")
    if input_path == output_path:
        raise InputError(f"{output_path}: refusing to overwrite the input file")
    table, columns = check_batch_input(input_path, text_column, id_column, encoding)
    check_batch_output(output_path, input_path)
    table.scan()  # a malformed line fails the run here, not inside an actor
    try:
        import ray
    except ImportError:
        raise SkillmapError("the Ray engine needs Ray Data: pip install 'skillmap[ray]'"
                            ) from None
    Extractor.from_config(config)  # option or index errors fail here in one line, not in
    #                                every actor

    output_path.parent.mkdir(parents=True, exist_ok=True)
    shards = Path(tempfile.mkdtemp(prefix=f".{output_path.name}.ray-", dir=output_path.parent))
    started = False
    context = ray.data.DataContext.get_current()
    saved = context.execution_options.preserve_order, context.enable_progress_bars
    try:
        started = _connect(address)
        context.execution_options.preserve_order = True
        context.enable_progress_bars = show_progress
        _run_pipeline(config, table, text_column, id_column, columns, shards, chunk_size,
                      _pool_size(num_actors, gpus_per_actor), gpus_per_actor)
        report = BatchReport()
        _assemble_shards(shards, output_path, report)
        return report
    finally:
        context.execution_options.preserve_order, context.enable_progress_bars = saved
        shutil.rmtree(shards, ignore_errors=True)
        if started:
            ray.shutdown()


def _connect(address: str | None) -> bool:
    """Join a cluster or start a quiet local Ray; True when we started (and must stop) it."""
    import ray

    if ray.is_initialized():
        return False
    address = address or os.environ.get("RAY_ADDRESS")
    quiet = {"logging_level": logging.ERROR, "log_to_driver": False}
    try:
        if address:
            ray.init(address=address, **quiet)
        else:
            cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") \
                else os.cpu_count()
            ray.init(address="local", num_cpus=cpus, include_dashboard=False, **quiet)
    except (ConnectionError, ValueError, RuntimeError) as exc:
        first = exception_line(exc)
        raise SkillmapError(f"cannot start or reach Ray{f' at {address}' if address else ''}: "
                            f"{first}") from None
    return True


def _pool_size(num_actors: int | None, gpus_per_actor: float) -> int:
    """``num_actors``, or one actor per CPU (per ``gpus_per_actor`` GPUs) of the cluster.

    GPU actors on a cluster without enough GPUs are refused: Ray would wait for them forever.
    """
    import ray

    resources = ray.cluster_resources()
    if gpus_per_actor > 0:
        gpus = resources.get("GPU", 0)
        if gpus < gpus_per_actor:
            raise SkillmapError(f"--gpus-per-actor {gpus_per_actor:g}: the Ray cluster has "
                                f"{gpus:g} GPUs")
        return num_actors or int(gpus // gpus_per_actor)
    return num_actors or max(int(resources.get("CPU", 1)), 1)


def _run_pipeline(config: ExtractorConfig, table, text_column: str, id_column: str | None,
                  columns: list[str], shards: Path, chunk_size: int, actors: int,
                  gpus_per_actor: float) -> None:
    import ray

    from skillmap.batch.ray_stages import ChunkDatasource, CodeAds

    # the read and write tasks are light but long-lived (a streamed read waits on the actors):
    # reserving no CPU for them keeps every CPU for an actor without starving them
    chunks = ray.data.read_datasource(ChunkDatasource(table, text_column, id_column, columns,
                                                      chunk_size), num_cpus=0)
    coded = chunks.map_batches(CodeAds, fn_constructor_args=(config,),
                               batch_size=1,  # a row: a chunk
                               batch_format="pyarrow",
                               compute=ray.data.ActorPoolStrategy(size=actors),
                               num_gpus=gpus_per_actor or None)
    # Ray Data's console lines (its INFO lines, and a user error logged as ERROR) are muted;
    # its log file (/tmp/ray/session_latest/logs/ray-data) keeps everything
    console = [h for h in logging.getLogger("ray.data").handlers
               if isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler)]
    levels = [h.level for h in console]
    for handler in console:
        handler.setLevel(logging.CRITICAL)
    try:
        coded.write_parquet(str(shards), ray_remote_args={"num_cpus": 0})
    except Exception as exc:
        user_error = _user_error(exc)
        if user_error is None:
            raise
        raise user_error from None
    finally:
        for handler, level in zip(console, levels):
            handler.setLevel(level)


def _user_error(exc: BaseException) -> SkillmapError | None:
    """The SkillmapError a Ray task raised, unwrapped from Ray's wrappers, as one line.

    (Ray Data appends retry advice to the original exception's message: its first line is
    ours, since skillmap's errors are one line.)
    """
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, SkillmapError) and not _is_ray_wrapper(exc):
            lines = str(exc).strip().splitlines()
            return type(exc)(lines[0] if lines else type(exc).__name__)
        cause = getattr(exc, "cause", None)
        exc = cause if isinstance(cause, BaseException) else exc.__cause__ or exc.__context__
    return None


def _is_ray_wrapper(exc: BaseException) -> bool:
    from ray.exceptions import RayError

    return isinstance(exc, RayError)


def _assemble_shards(shards: Path, output_path: Path, report: BatchReport) -> None:
    """Shards -> ``output_path`` (atomically), in input order; count ads, rows, chunks.

    Each shard holds whole chunks of consecutive ads (execution preserves order), so the
    files are ordered by their first input row and each is sorted by (row, rank); a shard
    overlapping its predecessor would break that assumption: refused, never written out of
    order.
    """
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    files = sorted(shards.glob("*.parquet"))
    first = {f: pc.min(pq.read_table(f, columns=["_row"]).column("_row")).as_py() for f in files}
    files = sorted((f for f in files if first[f] is not None), key=first.get)
    coded_ads = 0  # rows of rank 1: one per ad with skills
    last_row = 0
    with _LongWriter(output_path) as writer:
        for shard in files:
            rows = pq.read_table(shard).sort_by([("_row", "ascending"), ("rank", "ascending")])
            if first[shard] <= last_row:
                raise SkillmapError(f"internal error: Ray returned ads out of order (row "
                                    f"{first[shard]} after {last_row}); please report it")
            last_row = pc.max(rows.column("_row")).as_py()
            is_marker = pc.equal(rows.column("rank"), 0)
            markers = rows.filter(is_marker)
            report.chunks += markers.num_rows
            report.ads += pc.sum(markers.column("_ads")).as_py() or 0
            report.sentences += pc.sum(markers.column("_sentences")).as_py() or 0
            report.encoded_sentences += pc.sum(markers.column("_encoded")).as_py() or 0
            report.filtered_sentences += pc.sum(markers.column("_filtered")).as_py() or 0
            report.ads_truncated += pc.sum(markers.column("_truncated")).as_py() or 0
            skills = rows.filter(pc.invert(is_marker)).select(list(LONG_COLUMNS))
            writer.write(skills)
            coded_ads += pc.sum(pc.equal(skills.column("rank"), 1)).as_py() or 0
            report.rows_written += skills.num_rows
    report.ads_without_skills = max(report.ads - coded_ads, 0)


class _LongWriter:
    """The long format as ``code_corpus`` writes it: CSV via ``csv.writer`` (so scores print
    as ``write_long_csv`` prints them), or Parquet with its typed schema."""

    def __init__(self, path: Path):
        self.path, self.parquet = path, output_format_of(path) == "parquet"

    def __enter__(self):
        import pyarrow.parquet as pq

        self._file_cm = atomic_write(self.path, mode="wb") if self.parquet else \
            atomic_write(self.path, newline="")
        fh = self._file_cm.__enter__()
        if self.parquet:
            self.schema = long_parquet_schema()
            self._parquet = pq.ParquetWriter(fh, self.schema)
        else:
            self._csv = csv.writer(fh)
            self._csv.writerow(LONG_COLUMNS)
        return self

    def write(self, table) -> None:
        if self.parquet:
            if table.num_rows:  # one row group per shard, as the local engine per chunk
                self._parquet.write_table(table.cast(self.schema))
        else:
            self._csv.writerows(zip(*(table.column(c).to_pylist() for c in LONG_COLUMNS)))

    def __exit__(self, *exc_info):
        if self.parquet:
            self._parquet.close()
        return self._file_cm.__exit__(*exc_info)
