"""``skillmap eval``: score skill extraction (``eval pipeline``) or a sentence filter
(``eval filter``) against gold data.

``skillmap eval -b FILE ...`` without a sub-command still means ``eval pipeline`` (the
spelling before the commands were grouped by verb), as does the hidden ``eval-filter``
command registered in :mod:`skillmap.cli` for ``eval filter``.
"""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from skillmap.commands.filters import eval_filter_command
from skillmap.commands.options import (DEFAULT_CONTEXT_WEIGHT, DEFAULT_LABEL_OVERLAP,
                                       BackendOption, BoostOption,
                                       ContextWeightOption, FilterDropsNamedOption,
                                       FilterOption, FilterThresholdOption, FormatOption,
                                       IndexOption, JsonOption, LabelOverlapOption,
                                       ModelOption, NoFilterOption,
                                       RerankOption, ReportFormat, SecondOpinionOption,
                                       RerankWeightOption, SecondOpinionWeightOption,
                                       PresetName, PresetOption,
                                       extractor_config, extractor_from,
                                       group_defaulting_to, make_extractor, wants_json)
from skillmap.errors import SkillmapError


eval_app = typer.Typer(cls=group_defaulting_to("pipeline"), no_args_is_help=True,
                       help="Score skill extraction or a sentence filter against gold data.")


class System(str, Enum):
    pipeline = "pipeline"
    tfidf = "tfidf"
    bm25 = "bm25"


class Level(str, Enum):
    sentence = "sentence"
    document = "document"


@eval_app.command("pipeline")
def evaluate_command(
    benchmark: Annotated[Path, typer.Option(
        "--benchmark", "-b", help="Gold data: a skill-extraction benchmark CSV (sentence, span, "
        "sub_span, label), the generic JSONL/CSV format (text + skills), or real postings with "
        "skill spans (SkillSpan JSON lines: the per-ad benchmark).")],
    index: IndexOption = None,
    model: ModelOption = None,
    system: Annotated[System, typer.Option(
        help="What to evaluate: the skillmap pipeline, or a lexical baseline over the "
        "index's taxonomy.")] = System.pipeline,
    level: Annotated[Optional[Level], typer.Option(
        help="sentence: rank each text as one sentence (the benchmark protocol); document: "
        "run the full pipeline per text [default: sentence].")] = None,
    top_k: Annotated[int, typer.Option("--top-k", "-k", min=10,
                                       help="Length of each ranking (at least 10).")] = 10,
    lexical_boost: BoostOption = 0.2,
    label_overlap: LabelOverlapOption = DEFAULT_LABEL_OVERLAP,
    filter_spec: FilterOption = "default",
    no_filter: NoFilterOption = False,
    filter_threshold: FilterThresholdOption = None,
    filter_drops_named: FilterDropsNamedOption = False,
    rerank: RerankOption = None,
    rerank_weight: RerankWeightOption = None,
    second_opinion: SecondOpinionOption = None,
    second_opinion_weight: SecondOpinionWeightOption = None,
    context_weight: ContextWeightOption = DEFAULT_CONTEXT_WEIGHT,
    preset: PresetOption = PresetName.fast,
    near_labels: Annotated[bool, typer.Option(
        "--near-labels", help="Sentence benchmarks: also resolve gold labels written for "
        "another release of the taxonomy (a renamed skill's old name in brackets, a label "
        "ESCO joined into another alternative-label line, a spelling slip), each only when "
        "it names exactly one skill; every label so resolved is listed in the report. "
        "Off: such labels stay unresolved and count as misses.")] = False,
    split: Annotated[str, typer.Option(
        help="Per-ad benchmark: which half of the postings (by posting id) to code: "
        "calibration (to choose settings on), report (to report on) or all.")] = "report",
    compare: Annotated[bool, typer.Option(
        "--compare", help="Per-ad benchmark: run the standard configurations side by side "
        "(no filter, keyword-length, the shipped text filter, the default, and the oracle "
        "that keeps only the gold skill sentences).")] = False,
    fmt: FormatOption = ReportFormat.text,
    as_json: JsonOption = False,
    backend: BackendOption = None,
) -> None:
    """Score skill extraction against gold data.

    Sentence benchmarks (ESCO-linked CSV, your own JSONL/CSV): RP@5, RP@10, MRR, P@5, R@5,
    F1@5. Gold labels are resolved against the index's taxonomy (exact preferred label, then
    normalised label, then a unique alternative label); unresolved ones count as misses,
    and --near-labels also resolves labels of another taxonomy release.

    Real postings with skill spans (SkillSpan JSON lines) run the whole pipeline per posting
    and judge the list an analyst reads: evidence precision@5/@10 (the share of an ad's
    listed skills whose evidence sentence states a skill), noise skills per ad, coverage of
    the ad's skill sentences, list length, and the filter's precision and recall.

    \b
    Examples:
      skillmap eval pipeline -b ../shared/benchmarks/skill-extraction/tech_validation_annotations.csv --index indexes/esco
      skillmap eval pipeline -b ../shared/benchmarks/skillspan/dev.json --index indexes/esco --compare
    """
    from skillmap.evaluation.skillspan import is_skillspan

    as_json = wants_json(fmt, as_json)
    if is_skillspan(benchmark):
        _evaluate_postings(benchmark, split, compare, as_json, extractor_config(
            index=index, model=model, top_k=top_k, lexical_boost=lexical_boost,
            label_overlap=label_overlap,
            filter_spec=filter_spec, no_filter=no_filter, filter_threshold=filter_threshold,
            backend=backend, filter_drops_named=filter_drops_named, rerank=rerank,
            rerank_weight=rerank_weight, second_opinion=second_opinion,
            second_opinion_weight=second_opinion_weight, context_weight=context_weight,
            preset=preset))
        return
    from skillmap.evaluation import HEADLINE, PipelineRanker, evaluate, read_benchmark

    extractor = make_extractor(index=index, model=model, top_k=top_k, min_score=-1.0,
                           lexical_boost=lexical_boost, label_overlap=label_overlap,
                           filter_spec=filter_spec,
                           no_filter=no_filter, filter_threshold=filter_threshold,
                           backend=backend, filter_drops_named=filter_drops_named,
                           rerank=rerank, rerank_weight=rerank_weight,
                           second_opinion=second_opinion,
                           second_opinion_weight=second_opinion_weight,
                           context_weight=context_weight, preset=preset)
    gold = read_benchmark(benchmark, extractor.taxonomy, level.value if level else None,
                          near=near_labels)
    if system is System.pipeline:
        ranker = PipelineRanker(extractor, level=gold.level)
    else:
        from skillmap.evaluation.baselines import BM25Ranker, TfidfRanker

        ranker = (TfidfRanker if system is System.tfidf else BM25Ranker)(extractor.taxonomy)
    report = evaluate(ranker, gold, k=top_k)
    if as_json:
        typer.echo(json.dumps(report.to_dict()))
        return
    typer.echo(f"system: {report.system}")
    typer.echo(f"benchmark: {report.benchmark} ({report.level} level, n={report.n}, "
               f"unresolved gold labels={report.unresolved})")
    for label, skill in report.near_resolved.items():
        typer.echo(f"gold label {label!r} resolved by --near-labels to {skill!r}")
    typer.echo(f"{'':>6}  {'mean':>5}  {report.confidence:.0%} bootstrap interval over the "
               f"{report.n} items")
    for name in HEADLINE:
        low, high = report.intervals[name]
        typer.echo(f"{name:>6}: {report.metrics[name]:.3f}  [{low:.3f}, {high:.3f}]")


def _evaluate_postings(benchmark: Path, split: str, compare: bool, as_json: bool,
                       config) -> None:
    """The per-ad benchmark of ``skillmap eval`` (SkillSpan postings)."""
    from skillmap.evaluation.per_ad import (SPLITS, evaluate_postings, split_postings,
                                            standard_systems)
    from skillmap.evaluation.skillspan import read_skillspan

    if split not in SPLITS:
        raise SkillmapError(f"--split must be one of {', '.join(SPLITS)}, got {split!r}")
    postings = split_postings(read_skillspan(benchmark).postings(), split)
    if not postings:
        raise SkillmapError(f"{benchmark}: no postings in the {split} half")
    first = extractor_from(config)

    def build(**changes):
        return extractor_from(config.replace(**changes), encoder=first.encoder,
                              index=first.index)

    systems = standard_systems(build, postings) if compare else [("pipeline", first)]
    reports = [evaluate_postings(extractor, postings, name) for name, extractor in systems]
    if as_json:
        typer.echo(json.dumps({"benchmark": benchmark.name, "split": split,
                               "systems": [r.to_dict() for r in reports]}))
        return
    typer.echo(f"benchmark: {benchmark.name} ({split} half: {len(postings)} postings)")
    typer.echo(f"{'system':32s} {'EP@5':>6} {'EP@10':>6} {'noise':>6} {'cover':>6} "
               f"{'listed':>6} {'filt P':>6} {'filt R':>6} {'ads/s':>6}")
    for r in reports:
        typer.echo(f"{r.system[:32]:32s} {r.evidence_precision['@5']:6.3f} "
                   f"{r.evidence_precision['@10']:6.3f} {r.noise_skills_per_ad:6.2f} "
                   f"{r.coverage:6.3f} {r.list_length:6.1f} {r.filter_precision:6.3f} "
                   f"{r.filter_recall:6.3f} {r.ads_per_second:6.2f}")


eval_app.command("filter")(eval_filter_command)
