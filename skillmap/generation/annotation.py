"""An LLM labels the lines of real, unlabelled job ads: skill or not, and the section.

The skill-sentence filter must learn what real ad lines look like, but nobody labelled real ads
for us. An instruction model can: it reads a posting a chunk of numbered lines at a time and
answers one label per line (``1Q`` = states a skill, in the requirements; ``0B`` = no skill, in
the benefits; see ``prompts/annotate.yaml``). Those labels train the filter
(``skillmap train filter --labels``).

The run works like ``skillmap generate``: answers are cached in SQLite the moment they arrive
(a killed run resumes by running the same command again, without paying twice), answers that
are not one valid label per line are asked again with a new seed and then recorded as failed,
and the output JSONL is written whole at the end (atomically). The cache stores one string per
line (the label) in :class:`~skillmap.generation.backends.base.Completion` ``sentences``.
"""

from __future__ import annotations

import hashlib
import json
import re
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from skillmap.errors import InputError, SkillmapError
from skillmap.generation.backends.base import Completion
from skillmap.generation.cache import ResponseCache
from skillmap.generation.parsing import ParseError, first_json_value
from skillmap.generation.prompts import default_prompts_dir, render_template
from skillmap.io import atomic_write, read_jsonl

SECTION_CODES = {"C": "company", "T": "responsibilities", "Q": "requirements", "B": "benefits",
                 "A": "apply", "O": "other"}
_LABEL = re.compile(r"^\s*([01])\s*([CTQBAO])?\s*$", re.I)
LINES_PER_REQUEST = 12
MAX_LINE_CHARS = 400  # a pasted paragraph is cut for the prompt, not for the label


class AnnotationPrompt(BaseModel):
    """``prompts/annotate.yaml``."""

    model_config = ConfigDict(extra="forbid")
    id: str
    version: int = Field(ge=1)
    system: str
    user: str
    examples: list[dict] = Field(min_length=1)

    @property
    def tag(self) -> str:
        return f"{self.id}@v{self.version}"

    def messages(self, lines: Sequence[str]) -> list[dict[str, str]]:
        messages = [{"role": "system", "content": self.system.strip()}]
        for example in self.examples:
            messages.append({"role": "user",
                             "content": render_template(self.user, {"lines": example["lines"]},
                                                self.tag).strip()})
            messages.append({"role": "assistant",
                             "content": json.dumps({"labels": example["labels"]})})
        messages.append({"role": "user", "content": render_template(
            self.user, {"lines": list(lines)}, self.tag).strip()})
        return messages


def load_annotation_prompt(prompts_dir: str | Path | None = None) -> AnnotationPrompt:
    from skillmap.bounded import read_yaml

    folder = Path(prompts_dir) if prompts_dir else default_prompts_dir()
    path = folder / "annotate.yaml"
    data = read_yaml(folder, "annotate.yaml", what="prompt template")  # untrusted, bounded
    try:
        return AnnotationPrompt.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise SkillmapError(f"{path}: field {'.'.join(map(str, first['loc']))}: "
                            f"{first['msg']}") from None


@dataclass(frozen=True)
class UnlabelledPosting:
    id: str
    lines: tuple[str, ...]
    source: str = ""


def read_postings(path: str | Path) -> list[UnlabelledPosting]:
    """Postings as JSONL lines ``{"id", "lines": [...], "source"?}`` (SkillSpan's
    ``train_postings.jsonl``) or ``{"id", "text"}`` (split into lines)."""
    postings = list(read_jsonl(path, "posting", _posting))
    if not postings:
        raise InputError(f"{path}: no postings")
    return postings


def _posting(row: dict) -> UnlabelledPosting:
    lines = row["lines"] if "lines" in row else str(row["text"]).splitlines()
    if isinstance(lines, str):
        raise TypeError("'lines' is a string, not a list of lines")
    lines = tuple(str(line).strip() for line in lines if str(line).strip())
    return UnlabelledPosting(str(row["id"]), lines, str(row.get("source", "")))


@dataclass
class LabelReport:
    out: str
    model: str
    requests: int = 0
    answered_from_cache: int = 0
    model_calls: int = 0
    failed: list[dict] = field(default_factory=list)
    lines: int = 0
    skill_lines: int = 0

    def summary(self) -> str:
        return (f"{self.lines} lines labelled ({self.skill_lines} as stating a skill) into "
                f"{self.out}; {self.requests} requests: {self.answered_from_cache} from the "
                f"cache, {self.model_calls} sent to {self.model}, {len(self.failed)} failed")


def parse_labels(content: str | None, expected: int) -> list[str]:
    """One ``"1Q"``-style label per line, or a :class:`ParseError`."""
    if not content or not content.strip():
        raise ParseError("empty answer")
    data = first_json_value(content.strip())
    labels = data.get("labels") if isinstance(data, dict) else data
    if not isinstance(labels, list):
        raise ParseError("no label list")
    if len(labels) != expected:
        raise ParseError(f"{len(labels)} labels for {expected} lines")
    out = []
    for label in labels:
        match = _LABEL.match(str(label))
        if not match:
            raise ParseError(f"not a label: {str(label)[:20]!r}")
        out.append(match.group(1) + (match.group(2) or "O").upper())
    return out


def label_postings(postings: Sequence[UnlabelledPosting], backend, out: str | Path,
                   cache: ResponseCache | None = None, prompts_dir: str | Path | None = None,
                   lines_per_request: int = LINES_PER_REQUEST, parse_retries: int = 2,
                   progress: bool = False) -> LabelReport:
    """Label every line of ``postings`` with ``backend`` (an
    :class:`~skillmap.generation.backends.openai_backend.OpenAIBackend`); write JSONL lines
    ``{"posting", "line", "text", "skill", "section", "source"}``."""
    from tqdm.auto import tqdm

    prompt = load_annotation_prompt(prompts_dir)
    jobs = [(p, start, p.lines[start:start + lines_per_request])
            for p in postings for start in range(0, len(p.lines), lines_per_request)]
    report = LabelReport(out=str(out), model=backend.model, requests=len(jobs))
    answers: dict[int, list[str]] = {}
    bar = tqdm(total=len(jobs), desc="labelling", unit="request", disable=not progress)

    def key(lines: Sequence[str]) -> str:
        payload = {"task": prompt.tag, "model": backend.model, "params": backend.cache_params(),
                   "lines": list(lines)}
        return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False)
                              .encode()).hexdigest()

    def ask(lines: Sequence[str]) -> Completion:
        shown = [line[:MAX_LINE_CHARS] for line in lines]
        messages = prompt.messages(shown)
        result = Completion(attempts=0)
        for attempt in range(parse_retries + 1):
            result.attempts = attempt + 1
            try:
                content, finish, prompt_tokens, completion_tokens = backend.chat(
                    messages, seed=attempt)
            except Exception as exc:  # transport errors after the client's own retries
                result.error = f"{type(exc).__name__}: {str(exc)[:200]}"
                return result
            result.prompt_tokens += prompt_tokens
            result.completion_tokens += completion_tokens
            try:
                result.sentences = parse_labels(content, len(lines))
                result.error = None
                return result
            except ParseError as exc:
                result.error = f"{exc}{' (cut off)' if finish == 'length' else ''}"
        return result

    todo = []
    for i, (_, _, lines) in enumerate(jobs):
        cached = cache.get(key(lines)) if cache is not None else None
        if cached is not None:
            answers[i] = cached.sentences
            report.answered_from_cache += 1
            bar.update(1)
        else:
            todo.append(i)
    try:
        def ask_and_remember(lines: list[str]) -> Completion:
            # cached in the worker, before it sends its next request: a kill loses no answer
            completion = ask(lines)
            if completion.ok and cache is not None:
                cache.put(key(lines), completion)
            return completion

        with ThreadPoolExecutor(max_workers=backend.concurrency) as pool:
            futures = {pool.submit(ask_and_remember, jobs[i][2]): i for i in todo}
            for future in as_completed(futures):
                i = futures[future]
                completion = future.result()
                report.model_calls += 1
                bar.update(1)
                if completion.ok:
                    answers[i] = completion.sentences
                else:
                    posting, start, _ = jobs[i]
                    report.failed.append({"posting": posting.id, "first_line": start,
                                          "error": completion.error or ""})
    finally:
        bar.close()
    with atomic_write(out) as handle:
        for i, (posting, start, lines) in enumerate(jobs):
            for offset, (line, label) in enumerate(zip(lines, answers.get(i, ()))):
                record = {"posting": posting.id, "line": start + offset, "text": line,
                          "skill": int(label[0]), "section": SECTION_CODES[label[1]],
                          "source": posting.source}
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
                report.lines += 1
                report.skill_lines += record["skill"]
    return report


def read_labels(path: str | Path) -> Iterable[dict]:
    """The lines of a ``skillmap generate labels`` output."""
    return read_jsonl(path, "label line", lambda row: {
        "text": str(row["text"]), "skill": int(row["skill"]),
        "section": str(row.get("section", "")), "posting": str(row.get("posting", ""))})


def report_dict(report: LabelReport) -> dict:
    return asdict(report)
