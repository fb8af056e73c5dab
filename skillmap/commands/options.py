"""Options several commands share, spelt once: the extractor's settings (extract, batch,
eval pipeline), the report ``--format``, and the choices taken from the library's
registries, so a command offers exactly the names the library accepts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from typer.core import TyperGroup

from skillmap.choices import choices
from skillmap.encoder.backends import ENCODER_BACKENDS
from skillmap.pipeline.aggregation import AGGREGATIONS
from skillmap.pipeline.config import (DEFAULT_CONTEXT_WEIGHT, DEFAULT_LABEL_OVERLAP,
                                      DEFAULT_MIN_SCORE, ExtractorConfig)
from skillmap.pipeline.presets import DEFAULT_PRESET, PRESETS, get_preset
from skillmap.rerank.registry import RERANK_CHOICES

__all__ = ["DEFAULT_CONTEXT_WEIGHT", "DEFAULT_LABEL_OVERLAP", "DEFAULT_MIN_SCORE"]


def say(message: str) -> None:
    """A progress or summary line: on stderr, so stdout holds only the results."""
    typer.echo(message, err=True)


def group_defaulting_to(command: str) -> type[TyperGroup]:
    """A command-group class whose arguments go to ``command`` when they name no sub-command,
    so the spelling from before the group existed keeps working (``skillmap eval -b FILE`` is
    ``skillmap eval pipeline -b FILE``)."""

    class DefaultingGroup(TyperGroup):
        def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
            if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
                args = [command, *args]
            return super().parse_args(ctx, args)

    DefaultingGroup.__name__ = DefaultingGroup.__qualname__ = f"GroupDefaultingTo_{command}"
    return DefaultingGroup


# --------------------------------------------------------------------- report format
ReportFormat = choices("ReportFormat", ("text", "json"))

FormatOption = Annotated[ReportFormat, typer.Option(
    "--format", "-f", case_sensitive=False,
    help="text: readable; json: one JSON object.")]
#: the spelling before ``--format`` (hidden; kept for one release)
JsonOption = Annotated[bool, typer.Option("--json", hidden=True,
                                          help="Same as --format json.")]


def wants_json(fmt, as_json: bool) -> bool:
    """Whether a report command prints JSON (``--format json``, or the old ``--json``)."""
    return as_json or fmt == ReportFormat("json")


def echo_json(payload, **options) -> None:
    typer.echo(json.dumps(payload, **options))


# --------------------------------------------------------------------- extractor settings

def _preset_default(field: str) -> str:
    """'[default: the preset's: 0.25 fast, 0.4 accurate]' for an option presets set."""
    values = (f"{get_preset(name).settings.get(field, getattr(ExtractorConfig, field))} {name}"
              for name in PRESETS)
    return f"[default: the preset's: {', '.join(values)}]"

Backend = choices("Backend", ENCODER_BACKENDS)
Aggregation = choices("Aggregation", AGGREGATIONS)

IndexOption = Annotated[Optional[Path], typer.Option(
    "--index", "-i", help="Index folder from `skillmap index build` [default: demo taxonomy "
    "with the offline encoder].")]
ModelOption = Annotated[Optional[str], typer.Option(
    "--model", "-m", help="Encoder to use [default: the one recorded in the index]; must be "
    "the model the index was built with (e.g. after moving a local model directory).")]
BackendOption = Annotated[Optional[Backend], typer.Option(
    "--backend", help="Run the encoder with torch, or ONNX Runtime in float32 (onnx) or int8 "
    "(onnx-int8; faster on CPU, docs/benchmarks.md), exported once into the cache; needs "
    "pip install 'skillmap[onnx]' [default: torch, or the ONNX export given as --model].")]
TopKOption = Annotated[int, typer.Option("--top-k", "-k", min=1,
                                         help="Skills kept per ad (and per sentence).")]
MinScoreOption = Annotated[float, typer.Option(
    "--min-score", min=-1.0, max=1.0,
    help="Drop matches whose cosine similarity (the score column) is below this; a skill the "
    "sentence names verbatim is kept. The default is calibrated for the default encoder "
    "(-1 keeps every top-k match).")]
AggregationOption = Annotated[Aggregation, typer.Option(
    help="How an ad's skills are ranked: evidence = by the strength of their evidence (the "
    "match, how surely the sentence states a skill at all, repeats in the ad); interleave = "
    "each sentence's best match first, then second-best, ...; max = by match score alone.")]
BoostOption = Annotated[float, typer.Option(
    "--lexical-boost", min=0.0, max=1.0,
    help="Added to the score of skills whose label a sentence names verbatim (0 = pure "
    "embedding similarity).")]
LabelOverlapOption = Annotated[float, typer.Option(
    "--label-overlap", min=0.0, max=1.0, metavar="W",
    help="Order each sentence's candidates by cosine + name bonus + W x the share of the "
    "skill's label and alternative labels the sentence says, word by word, rare words "
    "counting most ('Artificial Intelligence' moves 'principles of artificial intelligence' "
    "up). It orders; the reported score stays the cosine. 0 = off.")]
FilterOption = Annotated[str, typer.Option(
    "--filter", help="Skill-sentence filter run before retrieval: 'default' (the filter in "
    "the package: a MiniLM classifier that reads each sentence in its section of the ad, "
    "calibrated on real postings), 'shipped-text' (its classifier alone), 'keyword-length' "
    "(the heuristic) or a folder from `skillmap train filter`.")]
NoFilterOption = Annotated[bool, typer.Option(
    "--no-filter", help="Search every sentence alone, as it comes: no filter and no ad "
    "structure (titles, headings and metadata lines are searched too; no sections).")]
FilterThresholdOption = Annotated[Optional[float], typer.Option(
    "--filter-threshold", min=0.0, max=1.0, help="Override the filter's calibrated threshold "
    "(lower keeps more sentences).")]
FilterDropsNamedOption = Annotated[bool, typer.Option(
    "--filter-drops-named", help="Let the filter drop sentences that name a skill verbatim "
    "too. By default such a sentence is always searched: a named skill is direct evidence, "
    "and the filter can be fooled by talk of pay, customers or the company around it.")]
MaxAdCharsOption = Annotated[int, typer.Option(
    "--max-ad-chars", min=1, help="Longest ad, in characters: a longer one is almost always a "
    "corpus pasted as one ad. extract refuses it; batch codes its first MAX_AD_CHARS "
    "characters and counts it in the summary.")]
ExcludeOption = Annotated[Optional[Path], typer.Option(
    "--exclude", metavar="FILE", help="Skills and sentences to ignore, one per line: a skill's "
    "label or id, or 'sentence: REGEX' for sentences not to search (skillmap/pipeline/"
    "exclusions.py). batch records the list in its manifest.")]
Reranker = choices("Reranker", RERANK_CHOICES)
RerankOption = Annotated[Optional[Reranker], typer.Option(
    "--rerank", case_sensitive=False,
    help="Reorder each sentence's top 20 candidates with a finer score: late-interaction = "
    "token-level matching of the sentence against each skill (ConTeXT-match's idea), from "
    "the same encoder (torch backend only); none = faiss's order (+ name bonus). "
    "[default: auto = late-interaction with the torch backend, none with ONNX]")]
RerankWeightOption = Annotated[Optional[float], typer.Option(
    "--rerank-weight", min=0.0, max=100.0, metavar="W",
    help="The reranker's share of the candidates' order (cosine + name bonus + W x its "
    f"score) {_preset_default('rerank_weight')}.", show_default=False)]
SecondOpinionOption = Annotated[Optional[str], typer.Option(
    "--second-opinion", metavar="MODEL",
    help="A second sentence-transformers model that also scores each sentence's candidates: "
    "embeddinggemma (the measured choice; get it once with `skillmap encoder fetch "
    "embeddinggemma`) or a model folder; its cosine takes --second-opinion-weight of their "
    "order (more accurate, much slower: it encodes every searched sentence; a skill's vector "
    "is encoded when the skill first turns up as a candidate, and cached). The reported "
    "score stays the index encoder's cosine. --preset accurate sets it with its tuned "
    "weights.")]
SecondOpinionWeightOption = Annotated[Optional[float], typer.Option(
    "--second-opinion-weight", min=0.0, max=1.0, metavar="W",
    help="--second-opinion: its share of the order key "
    f"{_preset_default('second_opinion_weight')}.", show_default=False)]
ContextWeightOption = Annotated[float, typer.Option(
    "--context-weight", min=0.0, max=1.0, metavar="W",
    help="How much the rest of the ad reorders each sentence's candidates (word sense: "
    "'pipelines' in a data engineer's ad are not the plumber's): W x how much better a "
    "candidate fits the ad's other sentences than most candidates do; transversal and "
    "cross-sector skills are left as they are. 0: each sentence is ranked alone. "
    "Per-ad coding only (a benchmark sentence has no ad around it).")]
PresetName = choices("PresetName", PRESETS)
PresetOption = Annotated[PresetName, typer.Option(
    "--preset", case_sensitive=False,
    help="Settings that go together: " + "; ".join(
        f"{preset.name} = {preset.summary}"
        + (" (" + " ".join(f"--{name.replace('_', '-')} {value}"
                           for name, value in preset.settings.items()) + ")"
           if preset.settings else "")
        for preset in PRESETS.values())
    + ". Options given explicitly override the preset's (docs/benchmarks.md).")]
EncodingOption = Annotated[Optional[str], typer.Option(
    "--encoding", help="Text encoding of the input [default: UTF-8, or UTF-16 with a BOM].")]


def extractor_config(*, filter_spec: str = "default", no_filter: bool = False,
                     filter_drops_named: bool = False, aggregation=None, backend=None,
                     index: Optional[Path] = None, exclude: Optional[Path] = None,
                     rerank=None, preset=DEFAULT_PRESET, **options) -> ExtractorConfig:
    """The extractor settings the command's options describe (the options' names are the
    CLI's; the rest are :class:`~skillmap.pipeline.config.ExtractorConfig` fields), the
    preset filling in what was left unset (None)."""
    options = get_preset(getattr(preset, "value", preset)).fill(options)
    if no_filter:
        options.update(sentence_filter=None, structure=False)
    else:
        options["sentence_filter"] = filter_spec
    if aggregation is not None:
        options["aggregation"] = aggregation.value
    if rerank is not None:
        options["rerank"] = rerank.value
    if exclude is not None:
        from skillmap.pipeline.exclusions import read_exclusions

        options["exclude_skills"], options["exclude_sentences"] = read_exclusions(exclude)
    if index is not None and not options.get("model"):
        from skillmap.index.skill_index import index_model

        options["model"] = index_model(index)  # not a model folder outside the index
    return ExtractorConfig(index=None if index is None else str(index),
                           backend=backend.value if backend else None,
                           filter_keeps_named=not filter_drops_named, **options)


def make_extractor(**options):
    """The extractor the options describe (see :func:`extractor_config`).

    A command is the whole process, so it shares encoders process-wide
    (:meth:`~skillmap.encoder.SkillEncoder.cached`): commands run in one process (tests,
    ``eval --compare``) load each model once."""
    return extractor_from(extractor_config(**options))


def extractor_from(config: ExtractorConfig, **loaded):
    """``Extractor.from_config`` with the CLI's process-wide encoder sharing (above)."""
    from skillmap.encoder import SkillEncoder
    from skillmap.pipeline import Extractor

    return Extractor.from_config(config, load_encoder=SkillEncoder.cached, **loaded)
