"""One generation run: plan the requests, answer them (cache first), check, write, report.

Requests are processed in plan order, in chunks. Within a chunk the backend may answer in any
order (concurrent API calls, batched local generation); each answer is cached as soon as it
arrives, and corpus lines are written in plan order. A killed run therefore resumes — by
running the same command again — to exactly the corpus an uninterrupted run writes: answers
already paid for come from the cache, lines already written are recognised and skipped.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

from tqdm.auto import tqdm

from skillmap.corpus import CorpusRecord, CorpusWriter, answer_key
from skillmap.errors import SkillmapError
from skillmap.generation.backends.base import Backend, Completion
from skillmap.generation.cache import ResponseCache
from skillmap.generation.prompts import PromptTemplate, load_prompt
from skillmap.generation.quality import QualityRules
from skillmap.generation.sampling import GenerationRequest, plan_requests
from skillmap.io import atomic_write
from skillmap.taxonomy import SkillGroup, Taxonomy


@dataclass
class GenerationReport:
    """What a run did; saved beside the corpus as ``<corpus>.report.json``."""

    corpus: str
    backend: str
    model: str
    modes: list[str]
    requests: int = 0
    answered_from_cache: int = 0
    answered_in_corpus: int = 0  # no cached answer, but the corpus has the request's lines
    model_calls: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)
    sentences_received: int = 0
    written: int = 0
    written_per_mode: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    lines_before: int = 0
    torn_bytes_repaired: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    skipped_skills: dict[str, int] = field(default_factory=dict)
    reuse_levels: list[str] = field(default_factory=list)  # the pool's filter, if any
    retry_passes: list[dict[str, int]] = field(default_factory=list)  # seed, asked, written
    single_skills: int = 0                   # skills the single mode planned for
    single_skills_without_a_line: int = 0    # of those, how many the corpus has no line for
    seconds: float = 0.0

    def save(self, path: str | Path) -> None:
        with atomic_write(path) as handle:
            json.dump(asdict(self), handle, indent=2)

    def summary(self) -> str:
        lines = [f"{self.written} new sentences written to {self.corpus} "
                 f"({', '.join(f'{m}: {n}' for m, n in self.written_per_mode.items()) or 'none'}); "
                 f"{self.lines_before} were already there",
                 f"{self.requests} requests: {self.answered_from_cache} answered from the cache, "
                 + (f"{self.answered_in_corpus} already in the corpus, "
                    if self.answered_in_corpus else "")
                 + f"{self.model_calls} sent to {self.backend} ({self.model}), "
                 f"{len(self.failed)} failed",
                 f"tokens: {self.prompt_tokens} prompt, {self.completion_tokens} completion; "
                 f"{self.seconds:.1f} s"]
        if self.single_skills:
            line = (f"single: {self.single_skills - self.single_skills_without_a_line} of "
                    f"{self.single_skills} skills have a sentence")
            if self.single_skills_without_a_line and not self.retry_passes:
                line += " (--retry-passes 2 asks the others again with other seeds)"
            lines.append(line)
        for retry in self.retry_passes:
            lines.append(f"retry pass (seed {retry['seed']}): {retry['asked']} skills without a "
                         f"line asked again, {retry['written']} sentences written")
        if self.dropped or self.duplicates:
            reasons = ", ".join(f"{r}: {n}" for r, n in sorted(self.dropped.items()))
            lines.append(f"dropped by the quality checks: {sum(self.dropped.values())} "
                         f"({reasons or 'none'}); duplicates skipped: {self.duplicates}")
        if self.failed:
            lines.append(f"{len(self.failed)} requests failed (listed in the report); run the "
                         "same command again to retry only those")
        return "\n".join(lines)


def check_retry_passes(modes: Sequence[str], retry_passes: int) -> None:
    """Retry passes ask single-mode skills again; asked for without that mode, say so."""
    if retry_passes and "single" not in modes:
        raise SkillmapError("--retry-passes retries single-mode skills; add --mode single")


def generate_corpus(taxonomy: Taxonomy, backend: Backend, out: str | Path,
                    modes: Sequence[str] = ("single", "constrained", "negatives"),
                    per_skill: int = 3, seed: int = 0, negatives: int = 500,
                    groups: Sequence[SkillGroup] | None = None, limit: int | None = None,
                    cache: ResponseCache | None = None, prompts_dir: str | Path | None = None,
                    rules: QualityRules = QualityRules(), chunk_size: int = 64,
                    progress: bool = False,
                    reuse_levels: Sequence[str] | None = None,
                    retry_passes: int = 0) -> GenerationReport:
    """Write (or complete) the corpus ``out``; returns the run's report (also saved).

    ``retry_passes``: after the run, up to that many more passes over the ``single`` skills
    still without a line (their answer was dropped by the quality checks, or the request
    failed), each with the next seed, so it draws another form, another implicit/named choice
    and another sample. A small model's drops are mostly draws, not skills it cannot write
    for; without retries a run leaves them uncovered. Passes stop early once every skill has
    a line. Being planned from the corpus, they resume like the first pass.
    """
    check_retry_passes(modes, retry_passes)
    started = time.perf_counter()
    out = Path(out)
    backend.prepare(taxonomy)
    templates = {mode: load_prompt(mode, prompts_dir, backend.language) for mode in modes}
    categories = list(templates["negatives"].categories) if "negatives" in templates else []
    plan = plan_requests(taxonomy, modes, per_skill=per_skill, seed=seed, negatives=negatives,
                         negative_categories=categories, groups=groups, limit=limit,
                         reuse_levels=reuse_levels)
    report = GenerationReport(corpus=str(out), backend=backend.name, model=backend.model,
                              modes=list(modes), requests=len(plan.requests),
                              reuse_levels=list(reuse_levels or []),
                              skipped_skills=dict(plan.skipped))
    written_per_mode: Counter[str] = Counter()
    dropped: Counter[str] = Counter()
    bar = None
    try:
        with CorpusWriter(out, near_duplicate=rules.near_duplicate) as writer:
            # after the writer has the file: a busy or foreign --out fails before a bar shows
            bar = tqdm(total=len(plan.requests), desc="generating", unit="prompt",
                       disable=not progress)
            report.lines_before = writer.existing
            report.torn_bytes_repaired = writer.repaired_bytes
            passes = _Passes(templates, backend, cache, rules, writer, report, bar, chunk_size,
                             written_per_mode, dropped)
            passes.ask(plan.requests)
            if "single" in templates:
                passes.retry_single(range(seed + 1, seed + 1 + retry_passes), lambda s: (
                    plan_requests(taxonomy, ["single"], per_skill=per_skill, seed=s,
                                  groups=groups, limit=limit, reuse_levels=reuse_levels,
                                  negatives=0).requests))
                passes.count_single([r for r in plan.requests if r.mode == "single"])
            report.duplicates = writer.duplicates
            if writer.near_duplicates:
                dropped["near-duplicate"] = writer.near_duplicates
            report.written = writer.written
    finally:
        if bar is not None:
            bar.close()
        report.written_per_mode = dict(written_per_mode)
        report.dropped = dict(dropped)
        report.seconds = round(time.perf_counter() - started, 2)
    report.save(out.with_name(out.name + ".report.json"))
    return report


@dataclass
class _Passes:
    """What the passes of one run share: they ask, check and write the same way, into one
    corpus and one report."""

    templates: dict[str, PromptTemplate]
    backend: Backend
    cache: ResponseCache | None
    rules: QualityRules
    writer: CorpusWriter
    report: GenerationReport
    bar: tqdm
    chunk_size: int
    written_per_mode: Counter
    dropped: Counter

    def ask(self, requests: list[GenerationRequest]) -> None:
        """Answer (cache first), check and write ``requests``, chunk by chunk in plan order."""
        for start in range(0, len(requests), self.chunk_size):
            chunk = requests[start:start + self.chunk_size]
            for request, completion in _answer(chunk, self.templates, self.backend, self.cache,
                                               self.report, arrived=lambda: self.bar.update(1),
                                               in_corpus=self.writer.answered):
                if completion is not None:
                    _record(request, completion, self.templates[request.mode], self.backend,
                            self.rules, self.writer, self.report, self.written_per_mode,
                            self.dropped)
            self.writer.flush()

    def retry_single(self, seeds: range, plan_single) -> None:
        """One pass per seed over the single-mode requests with no line (``plan_single(seed)``
        plans them all); stops once none is left."""
        for seed in seeds:
            missing = self.without_a_line(plan_single(seed))
            if not missing:
                break
            before = self.written_per_mode["single"]
            self.bar.total += len(missing)
            self.bar.refresh()
            self.ask(missing)
            self.report.retry_passes.append({"seed": seed, "asked": len(missing),
                                             "written": self.written_per_mode["single"] - before})

    def count_single(self, single: list[GenerationRequest]) -> None:
        """Into the report: how many skills ``single`` asked for have no line yet; a failure a
        retry pass answered is no longer one."""
        still = self.without_a_line(single)
        self.report.single_skills = len({r.skill_ids[0] for r in single})
        self.report.single_skills_without_a_line = len({r.skill_ids[0] for r in still})
        if self.report.retry_passes:
            ids = {r.request_id for r in still}
            self.report.failed = list({f["request_id"]: f for f in self.report.failed
                                       if not f["request_id"].startswith("single-")
                                       or f["request_id"] in ids}.values())

    def without_a_line(self, requests: list[GenerationRequest]) -> list[GenerationRequest]:
        """The single-mode requests none of whose lines are in the corpus."""
        template_id, version = self.backend.provenance(self.templates["single"])
        return [r for r in requests
                if answer_key(r.request_id, r.skill_ids, template_id, version,
                              self.backend.model) not in self.writer.answered]


def _answer(chunk: list[GenerationRequest], templates: dict[str, PromptTemplate],
            backend: Backend, cache: ResponseCache | None, report: GenerationReport,
            arrived=lambda: None, in_corpus: set = frozenset()
            ) -> list[tuple[GenerationRequest, Completion | None]]:
    """``(request, completion)`` for every request of ``chunk``, in plan order.

    Uncached requests go to the backend; every answer is cached the moment it arrives, before
    any sentence of the chunk is checked or written, so a kill at any point loses no answer
    that was paid for. A request with no cached answer whose lines are already in the corpus
    (``in_corpus``: the corpus was carried to a machine without the cache) is not asked again
    and comes back with ``None``. ``arrived`` is called once per request answered (progress).
    """
    answers: dict[int, Completion] = {}
    keys: dict[int, str] = {}
    to_call: list[int] = []
    for i, request in enumerate(chunk):
        if backend.cacheable and cache is not None:
            keys[i] = backend.cache_key(request, templates[request.mode])
            cached = cache.get(keys[i])
            if cached is not None:
                answers[i] = cached
                report.answered_from_cache += 1
                arrived()
                continue
            template_id, version = backend.provenance(templates[request.mode])
            if answer_key(request.request_id, request.skill_ids, template_id, version,
                          backend.model) in in_corpus:
                report.answered_in_corpus += 1
                arrived()
                continue
        to_call.append(i)
    jobs = [(chunk[i], templates[chunk[i].mode]) for i in to_call]

    def remember(position: int, completion: Completion) -> None:
        # in the backend's worker, the moment the answer exists (see Backend.generate)
        if backend.cacheable and cache is not None:
            cache.put(keys[to_call[position]], completion)

    for position, completion in (backend.generate(jobs, remember) if jobs else ()):
        i = to_call[position]
        if backend.cacheable:
            report.model_calls += 1
            report.prompt_tokens += completion.prompt_tokens
            report.completion_tokens += completion.completion_tokens
        answers[i] = completion
        arrived()
    return [(request, answers.get(i)) for i, request in enumerate(chunk)]


def _record(request: GenerationRequest, completion: Completion, template: PromptTemplate,
            backend: Backend, rules: QualityRules, writer: CorpusWriter,
            report: GenerationReport, written_per_mode: Counter, dropped: Counter) -> None:
    if not completion.ok:
        report.failed.append({"request_id": request.request_id, "error": completion.error or ""})
        return
    sentences = completion.sentences
    report.sentences_received += len(sentences)
    kept = 0
    template_id, version = backend.provenance(template)
    style, implicit = backend.variation(request, template)
    for sentence in sentences:
        if kept == request.n:
            break  # a backend may offer spares; the request asked for n
        text = sentence.strip() if isinstance(sentence, str) else ""
        reason = rules.check(text, request.skills, template.example_sentences,
                             negative=request.mode == "negatives", language=backend.language,
                             names_by_design=backend.names_by_design)
        if reason is not None:
            dropped[reason] += 1
            continue
        record = CorpusRecord(
            text=text, skill_ids=request.skill_ids, mode=request.mode, template_id=template_id,
            template_version=version, backend=backend.name, model=backend.model,
            seed=request.seed, group=request.group.id if request.group else None,
            category=request.category or None, language=backend.language,
            request_id=request.request_id, style=style or None,
            implicit=implicit if style else None)
        if writer.add(record):
            written_per_mode[request.mode] += 1
            kept += 1
