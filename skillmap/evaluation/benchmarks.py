"""Readers for gold data: the ESCO skill-extraction benchmark CSVs and a generic format.

Both give a :class:`Benchmark`: items (a text and its gold skill ids) plus what could not be
resolved. Unresolved gold labels stay in the gold set under an ``unresolved:`` id that no
ranker can return, so they count as misses, as the benchmark protocol asks.

Generic format, for a user's own gold data (sentence- or document-level):

- JSONL: one object per line, ``{"text": "...", "skills": ["id1", "id2"], "id": "opt"}``
- CSV: columns ``text`` and ``skills`` (ids separated by ``|``), optional ``id``

Gold entries may be skill ids or exact preferred labels; both are resolved against the
taxonomy like the benchmark labels.

Gold written against another release of the taxonomy names some skills by labels this one
no longer has. ``near=True`` (``skillmap eval --near-labels``) resolves those by three rules,
each only when it points at exactly one skill, and reports every label it resolved so, since
a wrong guess would silently change what is measured: the default stays strict.
"""

from __future__ import annotations

import csv
import difflib
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from skillmap.errors import InputError
from skillmap.io import longer_than, open_regular_file, read_text_file
from skillmap.taxonomy import Taxonomy

NOT_SKILLS = frozenset({"LABEL NOT PRESENT", "UNDERSPECIFIED"})
SPAN_COLUMNS = ("sentence", "label")
UNRESOLVED_PREFIX = "unresolved:"


@dataclass
class GoldItem:
    text: str
    gold: frozenset[str]
    item_id: str = ""


@dataclass
class Benchmark:
    """Gold items of one file, and the resolution report."""

    name: str
    items: list[GoldItem]
    level: str = "sentence"  # "sentence": rank the text as one unit; "document": full pipeline
    unresolved_labels: list[str] = field(default_factory=list)
    items_without_gold: int = 0
    #: gold labels resolved by a near rule (``near=True``): label -> the skill's label
    near_resolved: dict[str, str] = field(default_factory=dict)

    @property
    def unresolved(self) -> int:
        return len(self.unresolved_labels)


def _normalise(label: str) -> str:
    return re.sub(r"\s+", " ", label).strip().casefold()


class LabelResolver:
    """Gold label -> skill id: exact preferred label, normalised label, unique alt label;
    with ``near``, then the near rules of :meth:`resolve_near`."""

    #: least :class:`difflib.SequenceMatcher` ratio for a spelling slip (one or two letters
    #: in a label of a dozen or more)
    NEAR_SPELLING = 0.9

    def __init__(self, taxonomy: Taxonomy, near: bool = False):
        self.ids = {s.id for s in taxonomy.skills}
        self.exact = {s.label: s.id for s in taxonomy.skills}
        self.normalised = {_normalise(s.label): s.id for s in taxonomy.skills}
        alt: dict[str, set[str]] = defaultdict(set)
        for skill in taxonomy.skills:
            for label in skill.alt_labels:
                alt[label].add(skill.id)
        self.alternative = {label: ids.pop() for label, ids in alt.items() if len(ids) == 1}
        self.near = near
        self.near_resolved: dict[str, str] = {}   # label -> skill id, by a near rule
        self._alt_lines = [(skill.id, _normalise(line)) for skill in taxonomy.skills
                           for line in skill.alt_labels] if near else []
        self.label_of = {s.id: s.label for s in taxonomy.skills}

    def resolve(self, label: str) -> str | None:
        label = label.strip()
        found = self._strict(label)
        if found is None and self.near:
            found = self.resolve_near(label)
            if found is not None:
                self.near_resolved[label] = found
        return found

    def _strict(self, label: str) -> str | None:
        if label in self.ids:
            return label
        return (self.exact.get(label) or self.normalised.get(_normalise(label))
                or self.alternative.get(label))

    def resolve_near(self, label: str) -> str | None:
        """A label of another release, by the first rule that names exactly one skill:

        1. ``"name (other name)"``: either part resolves strictly (a skill renamed, its old
           name kept in brackets), and the two do not name different skills;
        2. the label is a phrase inside exactly one skill's alternative-label line: ESCO's
           CSV sometimes joins several alternative labels into one line with spaces, so a
           label that was one of them matches no line whole;
        3. exactly one preferred label is within a spelling slip of it (``NEAR_SPELLING``):
           labels corrected between releases.
        """
        bracketed = re.fullmatch(r"(.+?)\s*\((.+)\)", label)
        if bracketed:
            found = {self._strict(part.strip()) for part in bracketed.groups()} - {None}
            if len(found) == 1:
                return found.pop()
        key = _normalise(label)
        if " " in key:  # one word inside a line is too weak a clue
            phrase = re.compile(r"(?<![\w-])" + re.escape(key) + r"(?![\w-])")
            found = {skill_id for skill_id, line in self._alt_lines if phrase.search(line)}
            if len(found) == 1:
                return found.pop()
        close = difflib.get_close_matches(key, list(self.normalised), n=2,
                                          cutoff=self.NEAR_SPELLING)
        return self.normalised[close[0]] if len(close) == 1 else None


def _resolve_all(resolver: LabelResolver, labels, unresolved: list[str]) -> frozenset[str]:
    gold = set()
    for label in labels:
        skill_id = resolver.resolve(label)
        if skill_id is None:
            unresolved.append(label)
            skill_id = UNRESOLVED_PREFIX + label
        gold.add(skill_id)
    return frozenset(gold)


def _near_report(resolver: LabelResolver) -> dict[str, str]:
    return {label: resolver.label_of[skill_id]
            for label, skill_id in resolver.near_resolved.items()}


def read_skill_extraction_csv(path: str | Path, taxonomy: Taxonomy,
                              near: bool = False) -> Benchmark:
    """The span-annotated benchmark CSV (``sentence,span,sub_span,label``), per sentence;
    ``near``: also the near rules of :class:`LabelResolver`."""
    path = Path(path)
    rows = list(csv.DictReader(_read_benchmark_text(path).splitlines(keepends=True)))
    if not rows or any(c not in rows[0] for c in SPAN_COLUMNS):
        raise InputError(f"{path}: expected a CSV with columns sentence, span, sub_span, label")
    labels: dict[str, list[str]] = {}
    for row in rows:
        sentence_labels = labels.setdefault(row["sentence"], [])
        if row["label"] not in NOT_SKILLS and row["label"] not in sentence_labels:
            sentence_labels.append(row["label"])
    resolver, unresolved = LabelResolver(taxonomy, near), []
    items = [GoldItem(sentence, _resolve_all(resolver, gold, unresolved), str(i))
             for i, (sentence, gold) in enumerate(labels.items(), 1) if gold]
    return Benchmark(name=path.name, items=items, unresolved_labels=unresolved,
                     items_without_gold=sum(1 for gold in labels.values() if not gold),
                     near_resolved=_near_report(resolver))


def read_gold_file(path: str | Path, taxonomy: Taxonomy, level: str = "sentence",
                   near: bool = False) -> Benchmark:
    """The generic gold format (JSONL or CSV, see the module docstring); ``near``: also the
    near rules of :class:`LabelResolver`."""
    path = Path(path)
    if level not in ("sentence", "document"):
        raise InputError(f"level must be 'sentence' or 'document', got {level!r}")
    text = _read_benchmark_text(path)
    records: list[tuple[str, list[str], str]] = []
    if path.suffix.lower() in (".jsonl", ".json"):
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                records.append((str(record["text"]), list(record.get("skills") or []),
                                str(record.get("id", number))))
            except (json.JSONDecodeError, KeyError, TypeError, RecursionError) as exc:
                raise InputError(f"{path} line {number}: expected an object with 'text' and "
                                 f"'skills' ({type(exc).__name__})") from None
    else:
        reader = csv.DictReader(text.splitlines(keepends=True))
        if not reader.fieldnames or not {"text", "skills"} <= set(reader.fieldnames):
            raise InputError(f"{path}: expected CSV columns text and skills (and optionally id)")
        for number, row in enumerate(reader, 1):
            skills = [s for s in (row["skills"] or "").split("|") if s.strip()]
            records.append((row["text"] or "", skills, row.get("id") or str(number)))
    resolver, unresolved = LabelResolver(taxonomy, near), []
    items = [GoldItem(t, _resolve_all(resolver, skills, unresolved), item_id)
             for t, skills, item_id in records if skills]
    return Benchmark(name=path.name, items=items, level=level, unresolved_labels=unresolved,
                     items_without_gold=sum(1 for _, skills, _ in records if not skills),
                     near_resolved=_near_report(resolver))


MAX_BENCHMARK_CHARS = 50_000_000  # hundreds of thousands of gold sentences


def _read_benchmark_text(path: Path) -> str:
    return read_text_file(path, max_chars=MAX_BENCHMARK_CHARS,
                          too_long_message=longer_than("a benchmark file"))


def read_benchmark(path: str | Path, taxonomy: Taxonomy, level: str | None = None,
                   near: bool = False) -> Benchmark:
    """Pick the reader from the file: the span CSV by its header, else the generic format.
    ``near``: also resolve labels of another taxonomy release (:class:`LabelResolver`)."""
    path = Path(path)
    # only a regular file: the readers below take it whole, which a pipe or device never ends
    with open_regular_file(path, "benchmark") as raw:
        head = raw.readline(1 << 16)
    if path.suffix.lower() == ".csv":
        try:
            header = next(csv.reader([head.decode("utf-8-sig")]), [])
        except (UnicodeDecodeError, csv.Error):
            header = []
        if "sentence" in header and "label" in header:
            return read_skill_extraction_csv(path, taxonomy, near)
    return read_gold_file(path, taxonomy, level or "sentence", near)
