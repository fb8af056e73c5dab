"""``skillmap batch --engine ray``: code a corpus on Ray Data, locally or on a cluster.

The same job as :func:`~skillmap.batch.code_corpus`, with the same output, but the chunks are
coded by a pool of Ray actors (GPU actors with ``gpus_per_actor``), so it scales to every core
and GPU of a Ray cluster. Ray does all the scheduling; the pipeline is

    read the local engine's chunks (:class:`~skillmap.batch.ray_stages.ChunkDatasource`)
    -> map_batches(:class:`~skillmap.batch.ray_stages.CodeAds`, actor pool)
    -> the driver writes each coded chunk into the run's checkpoint folder (``OUT.partial/``)

and then the local engine assembles ``OUT`` (and ``--summary``) from that folder, with its own
code: the checkpoint files are the local engine's, written by the same writers, so the kept
columns (``--keep-column``), their Parquet types, the per-ad summary, the lock against two runs
at once, atomic output and ``--resume`` after a kill are the local engine's too.

Each chunk is coded on its own, as ``code_corpus(..., dedup_cache=0)`` codes it: the output
equals that run's byte for byte (and the two engines can resume each other's folder with that
setting). The local engine's cross-chunk sentence cache is not used: what it returns for a
sentence depends on which earlier chunk encoded it (float noise of the encoder batch), so with
actors taking chunks in no fixed order the output would vary in the last digit from run to
run. Against a local run *with* the cache, a few scores can differ in their 4th decimal, as
they do between two local runs with different chunk sizes.

The extractor is not pickled: each actor builds its own from an :class:`ExtractorConfig`
(index folder, model, options), once. On a cluster, every node needs skillmap, the index
folder and the model at the same paths, and input and output on shared storage (the driver
writes the checkpoint files; the actors only return them).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Sequence

from skillmap.batch.checkpoints import CheckpointFolder
from skillmap.batch.coder import (BatchReport, assemble_output, check_ads_records,
                                  check_batch_input, check_batch_output,
                                  discarded_on_error_if_empty, run_manifest)
from skillmap.errors import InputError, SkillmapError, exception_line
from skillmap.io import atomic_write
from skillmap.pipeline import Extractor
from skillmap.pipeline.config import ExtractorConfig


def code_corpus_ray(config: ExtractorConfig, input_path: str | Path, output_path: str | Path,
                    text_column: str, id_column: str | None = None, chunk_size: int = 256,
                    encoding: str | None = None, address: str | None = None,
                    num_actors: int | None = None, gpus_per_actor: float = 0.0,
                    show_progress: bool = True, resume: bool = False,
                    keep_columns: Sequence[str] = (),
                    summary_path: str | Path | None = None) -> BatchReport:
    """Code every row of ``input_path`` on Ray; write what ``code_corpus`` would write.

    ``address``: a running cluster ("auto", "HOST:6379", "ray://HOST:10001"; default: the
    ``RAY_ADDRESS`` variable, else a private local Ray on this machine's CPUs; a Ray already
    initialised in this process is used as it is). ``num_actors``: size of the actor pool
    [default: one per CPU, or per ``gpus_per_actor`` GPUs]. ``chunk_size``: ads coded
    together by one actor call (the local engine's chunks). ``resume``, ``keep_columns`` and
    ``summary_path`` as for :func:`~skillmap.batch.code_corpus`.
    """
    input_path, output_path = Path(input_path).resolve(), Path(output_path).resolve()
    summary_path = Path(summary_path) if summary_path is not None else None
    if chunk_size < 1:
        raise InputError(f"chunk size must be at least 1, got {chunk_size}")
    if num_actors is not None and num_actors < 1:
        raise InputError(f"the number of actors must be at least 1, got {num_actors}")
    if gpus_per_actor < 0:
        raise InputError(f"GPUs per actor cannot be negative, got {gpus_per_actor}")
    table, columns = check_batch_input(input_path, text_column, id_column, encoding,
                                       keep_columns)
    check_batch_output(output_path, input_path, summary_path, table.kept)
    table.scan()  # a malformed line fails the run here, not inside an actor
    try:
        import ray
    except ImportError:
        raise SkillmapError("the Ray engine needs Ray Data: pip install 'skillmap[ray]'"
                            ) from None
    # option or index errors fail here in one line, not in every actor
    manifest = run_manifest(table, text_column, id_column, chunk_size,
                         Extractor.from_config(config), 0, table.kept)

    with CheckpointFolder(output_path) as work:
        work.start(manifest, resume)  # refuses another run's folder, leaving it as it is
        if summary_path is not None:
            check_ads_records(work)
        done = frozenset(int(part.stem.split("-")[1]) for part in work.chunks())
        report = BatchReport()
        if table.ids and id_column != text_column:
            report.empty_ids, report.repeated_ids = table.ids.empty, table.ids.repeated
        context = ray.data.DataContext.get_current()
        saved = context.execution_options.preserve_order, context.enable_progress_bars
        started = False
        with discarded_on_error_if_empty(work):
            try:
                started = _connect(address)
                context.execution_options.preserve_order = True
                context.enable_progress_bars = show_progress
                _run_pipeline(config, table, text_column, id_column, columns, chunk_size,
                              _pool_size(num_actors, gpus_per_actor), gpus_per_actor, done,
                              work, report)
            finally:
                context.execution_options.preserve_order, context.enable_progress_bars = saved
                if started:
                    ray.shutdown()
        assemble_output(work, report, table, summary_path)
        work.discard()
    return report


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
                  columns: list[str], chunk_size: int, actors: int, gpus_per_actor: float,
                  done: frozenset[int], work: CheckpointFolder, report: BatchReport) -> None:
    """Code the chunks on Ray; write each into ``work`` as the local engine does (its per-ad
    records first, then its long rows: the chunk is done) and count it in ``report``."""
    import ray

    from skillmap.batch.ray_stages import ChunkDatasource, CodeAds

    # the read task is light but long-lived (a streamed read waits on the actors): reserving
    # no CPU for it keeps every CPU for an actor without starving it
    chunks = ray.data.read_datasource(ChunkDatasource(table, text_column, id_column, columns,
                                                      chunk_size, done), num_cpus=0)
    coded = chunks.map_batches(CodeAds, fn_constructor_args=(config, table.kept),
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
        for batch in coded.iter_batches(batch_size=None, batch_format="pyarrow"):
            for chunk in batch.to_pylist():
                _write_chunk(chunk, work, report)
    except Exception as exc:
        user_error = _user_error(exc)
        if user_error is None:
            raise
        raise user_error from None
    finally:
        for handler, level in zip(console, levels):
            handler.setLevel(level)


def _write_chunk(chunk: dict, work: CheckpointFolder, report: BatchReport) -> None:
    """One coded chunk (a :data:`~skillmap.batch.ray_stages.CODED_SCHEMA` row) -> its
    checkpoint files, atomically, the long rows last; its counts -> ``report``."""
    report.chunks += 1
    report.ads += chunk["_ads"]
    report.ads_truncated += chunk["_truncated"]
    if chunk["_done"]:
        report.chunks_resumed += 1
        return
    with atomic_write(work.ads_record(chunk["_chunk"]), newline="") as fh:
        fh.write(chunk["ad_rows"])
    with atomic_write(work.chunk(chunk["_chunk"]), newline="") as fh:  # last: the chunk is done
        fh.write(chunk["long_rows"])
    report.sentences += chunk["_sentences"]
    report.encoded_sentences += chunk["_encoded"]
    report.filtered_sentences += chunk["_filtered"]


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
