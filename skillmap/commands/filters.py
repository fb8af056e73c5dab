"""The skill-sentence filter's commands: ``skillmap train filter``, ``train calibrate-filter``,
``train weak-labels`` and ``eval filter`` (registered by :mod:`skillmap.commands.train` and
:mod:`skillmap.commands.evaluate`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from skillmap.choices import choices
from skillmap.commands.options import FormatOption, JsonOption, ReportFormat, wants_json
from skillmap.filter.base import BACKBONE_MODES as FILTER_BACKBONE_MODES
from skillmap.filter.base import TRAINABLE_KINDS as FILTER_KINDS


FilterKind = choices("FilterKind", FILTER_KINDS)
FilterBackboneMode = choices("FilterBackboneMode", FILTER_BACKBONE_MODES)


def train_filter_command(
    corpus: Annotated[list[Path], typer.Option(
        "--corpus", "-c", help="Corpus JSONL from `skillmap generate` (repeat for several); "
        "needs skill sentences and the negatives mode.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Filter folder to write.")],
    labels: Annotated[Optional[list[Path]], typer.Option(
        "--labels", help="Real ad lines with labels, JSONL (`skillmap train weak-labels` or "
        "`skillmap generate labels`), added to the corpus (repeatable).")] = None,
    labels_repeat: Annotated[int, typer.Option(
        "--labels-repeat", min=1, help="Times each training-side labelled real line is "
        "repeated (a few thousand real lines beside tens of thousands of synthetic ones).")
    ] = 1,
    taxonomy: Annotated[Optional[Path], typer.Option(
        "--taxonomy", "-t", help="Taxonomy of the corpus: adds bare skill-label fragments "
        "('SQL', 'python, docker') as positives, as ads list them.")] = None,
    fragment_share: Annotated[float, typer.Option(
        "--fragment-share", min=0.0, max=0.9, help="Share of the positives that are label "
        "fragments (needs --taxonomy).")] = 0.25,
    mixed_share: Annotated[float, typer.Option(
        "--mixed-share", min=0.0, max=0.7, help="Share of the positives written as a skill "
        "sentence glued to skill-free context ('You will manage payroll; we offer a pension.'), "
        "so context words alone do not make a sentence negative.")] = 0.0,
    kind: Annotated[FilterKind, typer.Option(
        help="transformer: fine-tune a sequence classifier; embedding-logistic: logistic "
        "regression on frozen encoder embeddings (fast on a CPU).")] = FilterKind.transformer,
    backbone: Annotated[Optional[str], typer.Option(
        help="transformer: model dir or hub id, e.g. roberta-base or xlm-roberta-base "
        "[default: all-MiniLM-L6-v2 from PyPI, the offline choice].")] = None,
    backbone_mode: Annotated[FilterBackboneMode, typer.Option(
        "--backbone-mode", help="transformer: lora = adapters + head (small folder, rebuilt "
        "on the installed backbone); full = fine-tune and store every weight.")
    ] = FilterBackboneMode.lora,
    backbone_layers: Annotated[Optional[int], typer.Option(
        "--backbone-layers", min=1, max=64, help="transformer: keep only the backbone's first N "
        "layers (a shallower filter costs less per sentence; the shipped one keeps 3 of "
        "MiniLM's 6) [default: all].")] = None,
    encoder: Annotated[Optional[str], typer.Option(
        help="embedding-logistic: the encoder whose embeddings it reads [default: skillmap's "
        "default encoder, so extraction reuses its vectors].")] = None,
    epochs: Annotated[float, typer.Option(min=0.01)] = 1.0,
    max_steps: Annotated[Optional[int], typer.Option("--max-steps", min=1)] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=2)] = 32,
    learning_rate: Annotated[Optional[float], typer.Option(
        "--lr", help="[lora 5e-4, full 3e-5]")] = None,
    eval_every: Annotated[int, typer.Option("--eval-every", min=1,
                                            help="Steps between held-out evaluations and "
                                            "checkpoints.")] = 100,
    target: Annotated[str, typer.Option(
        help="Threshold calibration on the held-out split: f1, precision:P (most recall at "
        "precision P) or recall:R (most precision keeping recall R).")] = "f1",
    positive_ratio: Annotated[float, typer.Option(
        "--positive-ratio", min=0.0, help="At most this many skill sentences per negative "
        "(class balance; 0 keeps all).")] = 1.0,
    heldout_fraction: Annotated[float, typer.Option(
        "--heldout-fraction", min=0.01, max=0.5)] = 0.1,
    max_examples: Annotated[Optional[int], typer.Option("--max-examples", min=10)] = None,
    seed: Annotated[int, typer.Option()] = 0,
    resume: Annotated[bool, typer.Option(help="Continue an interrupted run from "
                                         "OUT.checkpoint/.")] = False,
) -> None:
    """Train the skill-sentence filter on a synthetic corpus and calibrate its threshold.

    Skill sentences (modes single/constrained/unconstrained) are the positives and the
    negatives mode the negatives; positives are subsampled to --positive-ratio per negative;
    a hash-based held-out split stops training early and sets the threshold.

    Example:

      skillmap generate corpus -t esco --mode single --mode constrained --mode negatives --llm template --negatives 20000 -o corpus.jsonl

      skillmap train filter --corpus corpus.jsonl --taxonomy esco --out models/filter
    """
    from skillmap.filter.data import load_filter_data
    from skillmap.filter.training import FilterTrainingConfig, train_filter

    config = FilterTrainingConfig(
        kind=kind.value, backbone=backbone, backbone_mode=backbone_mode.value,
        backbone_layers=backbone_layers, encoder=encoder, epochs=epochs, max_steps=max_steps,
        batch_size=batch_size, learning_rate=learning_rate, eval_every=eval_every,
        target=target, seed=seed)
    from skillmap.taxonomy import load_taxonomy

    data = load_filter_data(corpus, heldout_fraction=heldout_fraction,
                            positive_ratio=positive_ratio, seed=seed, max_examples=max_examples,
                            taxonomy=load_taxonomy(taxonomy) if taxonomy else None,
                            fragment_share=fragment_share if taxonomy else 0.0,
                            mixed_share=mixed_share, labelled=labels or (),
                            labelled_repeat=labels_repeat)
    typer.echo(f"training on {data.counts['train']} sentences, {data.counts['heldout']} held out "
               f"({data.counts['negatives']} negatives, {data.counts['positives_used']} skill "
               f"sentences of which {data.counts['fragments']} label fragments and "
               f"{data.counts['mixed']} mixed with context; {data.counts['real_lines']} "
               f"labelled real lines; "
               f"{data.counts['positives_available']} skill sentences available)", err=True)
    model = train_filter(data, config, out, resume=resume)
    held = model.card["heldout"]
    typer.echo(f"saved {model.kind} filter to {out}: threshold {model.threshold:.3f} ({target}); "
               f"held-out precision {held['precision']:.3f}, recall {held['recall']:.3f}, "
               f"F1 {held['f1']:.3f}, ROC-AUC {held['roc_auc']:.3f}", err=True)


def weak_labels_command(
    postings: Annotated[Path, typer.Argument(help="Unlabelled postings, JSONL: {\"id\", "
                                             "\"lines\": [...]} or {\"id\", \"text\"} "
                                             "per line (e.g. SkillSpan's train_postings.jsonl).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Labels JSONL to write.")],
    boilerplate: Annotated[int, typer.Option(
        "--boilerplate", min=2, help="A line found in this many postings is boilerplate "
        "(no skill).")] = 3,
) -> None:
    """Label real ad lines from the ads' own structure, with no LLM and no hand labels.

    Headings, metadata, titles and placeholders, lines under company / benefits / how to
    apply / legal headings and lines repeated across postings are labelled "no skill"; lines
    under a requirements heading "states a skill"; the rest stays unlabelled. The labels
    are noisy: use them beside a synthetic corpus (`skillmap train filter --labels OUT`).

    Example: skillmap train weak-labels ../shared/benchmarks/skillspan/train_postings.jsonl -o weak.jsonl
    """
    from skillmap.filter.weak_labels import weak_labels, write_labels
    from skillmap.generation.annotation import read_postings
    from skillmap.io import refuse_overwriting_inputs

    refuse_overwriting_inputs(out, [postings])
    data = read_postings(postings)
    labels = weak_labels(((p.id, "\n".join(p.lines)) for p in data), boilerplate_min=boilerplate)
    counts = write_labels(labels, out)
    skill = sum(n for (_, label), n in counts.items() if label)
    typer.echo(f"labelled {len(labels)} of the lines of {len(data)} postings ({skill} as "
               f"stating a skill) into {out}; by rule: "
               + ", ".join(f"{rule}={n}" for (rule, _), n in sorted(counts.items())), err=True)


def calibrate_filter_command(
    filter_spec: Annotated[str, typer.Argument(
        metavar="FILTER", help="Filter folder from `skillmap train filter`, or 'shipped'.")],
    out: Annotated[Path, typer.Option(
        "--out", "-o", help="Folder to write the re-calibrated filter to (may be FILTER "
        "itself: the card keeps the earlier threshold).")],
    corpus: Annotated[Optional[list[Path]], typer.Option(
        "--corpus", "-c", help="Corpus JSONL from `skillmap generate` (repeat for several) "
        "with skill sentences and negatives; every sentence is used.")] = None,
    benchmark: Annotated[Optional[Path], typer.Option(
        "--benchmark", "-b", help="Real postings with gold skill spans (SkillSpan JSON lines, "
        "e.g. ../shared/benchmarks/skillspan/dev.json): the filter becomes a structured "
        "filter (ad sections + scores calibrated on these real sentences).")] = None,
    split: Annotated[str, typer.Option(
        help="With --benchmark: which half of its postings to calibrate on (calibration, "
        "report or all); keep the other half for reporting.")] = "calibration",
    target: Annotated[str, typer.Option(
        help="f1, precision:P (most recall at precision P) or recall:R (most precision "
        "keeping recall R; with --benchmark, of every skill sentence of the postings).")
    ] = "f1",
) -> None:
    """Choose a trained filter's threshold again, on other labelled sentences.

    With --corpus, on labelled synthetic sentences (say, LLM-written ones). With --benchmark,
    on real postings: the scores are first calibrated on those real sentences (isotonic),
    the threshold is the highest that keeps the recall target of every skill sentence, and
    an evidence threshold is set where a real sentence becomes more likely to state a skill
    than not (the pipeline lists no skill whose evidence scores below it). The weights are
    not changed.

    \b
    Examples:
      skillmap train calibrate-filter models/filter -c llm.jsonl --target recall:0.99 -o models/filter-llm
      skillmap train calibrate-filter models/filter -b ../shared/benchmarks/skillspan/dev.json \\
          --target recall:0.97 -o models/filter-real
    """
    from skillmap.errors import SkillmapError
    from skillmap.filter import DEFAULT_FILTER_DIR, load_filter
    from skillmap.filter.calibration import parse_target

    parse_target(target)
    if (corpus is None) == (benchmark is None):
        raise SkillmapError("give either --corpus (synthetic sentences) or --benchmark (real "
                            "postings)")
    # a fresh copy: resolve_filter("shipped") is the process-wide cached instance
    model = load_filter(DEFAULT_FILTER_DIR if filter_spec == "shipped" else filter_spec)
    before = model.threshold
    if benchmark is not None:
        from skillmap.evaluation.per_ad import SPLITS, segment_gold, split_postings
        from skillmap.evaluation.skillspan import read_skillspan
        from skillmap.filter.structured_filter import calibrate_on_ads, wrap
        from skillmap.segmentation import segment_ad

        if split not in SPLITS:
            raise SkillmapError(f"--split must be one of {', '.join(SPLITS)}, got {split!r}")
        postings = split_postings(read_skillspan(benchmark).postings(), split)
        ads = []
        for posting in postings:
            segments = segment_ad(posting.text)
            ads.append((segments, [segment_gold(posting, s.start, s.end) for s in segments]))
        model = wrap(model)
        report = calibrate_on_ads(model, ads, target,
                                  source=f"{benchmark.name} ({split}, {len(postings)} postings)")
        model.save(out)
        typer.echo(f"saved {model.name} to {out}: threshold {before:.3f} -> "
                   f"{model.threshold:.3f} ({target} of {report['skill_segments']} skill "
                   f"segments: {report['recall_of_all_skill_segments']:.3f}), evidence "
                   f"threshold {model.evidence_threshold:.3f}; on {report['n']} content "
                   f"sentences: precision {report['precision']:.3f}, recall "
                   f"{report['recall']:.3f}, ROC-AUC {report['roc_auc']:.3f}", err=True)
        return
    from skillmap.filter.data import load_labelled_sentences
    from skillmap.filter.training import recalibrate_filter

    texts, labels = load_labelled_sentences(corpus)
    recalibrate_filter(model, texts, labels, target,
                       source=", ".join(path.name for path in corpus))
    model.save(out)
    report = model.card["calibration"]["report"]
    typer.echo(f"saved {model.name} to {out}: threshold {before:.3f} -> {model.threshold:.3f} "
               f"({target}) on {report['n']} sentences ({report['positives']} skill "
               f"sentences): precision {report['precision']:.3f}, recall {report['recall']:.3f}, "
               f"F1 {report['f1']:.3f}, ROC-AUC {report['roc_auc']:.3f}", err=True)


def eval_filter_command(
    benchmark: Annotated[Path, typer.Option(
        "--benchmark", "-b", help="SkillSpan-format JSON lines (tokens + BIO tags per "
        "sentence), e.g. ../shared/benchmarks/skillspan/dev.json.")],
    filter_spec: Annotated[str, typer.Option(
        "--filter", help="Filter folder, 'keyword-length' (the heuristic baseline) or "
        "'default' (the shipped filter, when one is).")] = "default",
    threshold: Annotated[Optional[float], typer.Option(
        "--threshold", min=0.0, max=1.0, help="Override the filter's calibrated threshold.")
    ] = None,
    fmt: FormatOption = ReportFormat.text,
    as_json: JsonOption = False,
) -> None:
    """Score a skill-sentence filter on real job-ad sentences: precision, recall, F1, ROC-AUC.

    A sentence with a skill or knowledge span is positive, one without is negative.

    Example: skillmap eval filter --benchmark ../shared/benchmarks/skillspan/dev.json
    """
    from skillmap.errors import SkillmapError
    from skillmap.evaluation.skillspan import read_skillspan
    from skillmap.filter import classification_report, resolve_filter

    data = read_skillspan(benchmark)
    model = resolve_filter(filter_spec)
    if model is None:
        raise SkillmapError("no filter to evaluate: no default filter is installed; pass --filter")
    texts = [s.text for s in data.sentences]
    labels = [int(s.has_skill) for s in data.sentences]
    report = classification_report(model.predict_proba(texts), labels,
                                   model.threshold if threshold is None else threshold)
    report["filter"] = model.name
    if wants_json(fmt, as_json):
        typer.echo(json.dumps(report))
        return
    typer.echo(f"filter: {model.name} ({model.kind}), threshold {report['threshold']:.3f}")
    typer.echo(f"benchmark: {benchmark} ({report['n']} sentences, {report['positives']} with a "
               "skill)")
    for name in ("precision", "recall", "f1", "roc_auc", "accuracy", "kept"):
        typer.echo(f"{name:>9}: {report[name]:.3f}")
