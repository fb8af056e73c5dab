"""Readers for gold data: the ESCO skill-extraction benchmark CSVs and a generic format.

Both give a :class:`Benchmark`: items (a text and its gold skill ids) plus what could not be
resolved. Unresolved gold labels stay in the gold set under an ``unresolved:`` id that no
ranker can return, so they count as misses, as the benchmark protocol asks.

Generic format, for a user's own gold data (sentence- or document-level):

- JSONL: one object per line, ``{"text": "...", "skills": ["id1", "id2"], "id": "opt"}``
- CSV: columns ``text`` and ``skills`` (ids separated by ``|``), optional ``id``

Gold entries may be skill ids or exact preferred labels; both are resolved against the
taxonomy like the benchmark labels.
"""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from skillmap.errors import InputError
from skillmap.io import read_text_file
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

    @property
    def unresolved(self) -> int:
        return len(self.unresolved_labels)


def _normalise(label: str) -> str:
    return re.sub(r"\s+", " ", label).strip().casefold()


class LabelResolver:
    """Gold label -> skill id: exact preferred label, normalised label, unique alt label."""

    def __init__(self, taxonomy: Taxonomy):
        self.ids = {s.id for s in taxonomy.skills}
        self.exact = {s.label: s.id for s in taxonomy.skills}
        self.normalised = {_normalise(s.label): s.id for s in taxonomy.skills}
        alt: dict[str, set[str]] = defaultdict(set)
        for skill in taxonomy.skills:
            for label in skill.alt_labels:
                alt[label].add(skill.id)
        self.alternative = {label: ids.pop() for label, ids in alt.items() if len(ids) == 1}

    def resolve(self, label: str) -> str | None:
        label = label.strip()
        if label in self.ids:
            return label
        return (self.exact.get(label) or self.normalised.get(_normalise(label))
                or self.alternative.get(label))


def _resolve_all(resolver: LabelResolver, labels, unresolved: list[str]) -> frozenset[str]:
    gold = set()
    for label in labels:
        skill_id = resolver.resolve(label)
        if skill_id is None:
            unresolved.append(label)
            skill_id = UNRESOLVED_PREFIX + label
        gold.add(skill_id)
    return frozenset(gold)


def read_skill_extraction_csv(path: str | Path, taxonomy: Taxonomy) -> Benchmark:
    """The span-annotated benchmark CSV (``sentence,span,sub_span,label``), per sentence."""
    path = Path(path)
    rows = list(csv.DictReader(read_text_file(path).splitlines(keepends=True)))
    if not rows or any(c not in rows[0] for c in SPAN_COLUMNS):
        raise InputError(f"{path}: expected a CSV with columns sentence, span, sub_span, label")
    labels: dict[str, list[str]] = {}
    for row in rows:
        sentence_labels = labels.setdefault(row["sentence"], [])
        if row["label"] not in NOT_SKILLS and row["label"] not in sentence_labels:
            sentence_labels.append(row["label"])
    resolver, unresolved = LabelResolver(taxonomy), []
    items = [GoldItem(sentence, _resolve_all(resolver, gold, unresolved), str(i))
             for i, (sentence, gold) in enumerate(labels.items(), 1) if gold]
    return Benchmark(name=path.name, items=items, unresolved_labels=unresolved,
                     items_without_gold=sum(1 for gold in labels.values() if not gold))


def read_gold_file(path: str | Path, taxonomy: Taxonomy, level: str = "sentence") -> Benchmark:
    """The generic gold format (JSONL or CSV, see the module docstring)."""
    path = Path(path)
    if level not in ("sentence", "document"):
        raise InputError(f"level must be 'sentence' or 'document', got {level!r}")
    text = read_text_file(path)
    records: list[tuple[str, list[str], str]] = []
    if path.suffix.lower() in (".jsonl", ".json"):
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                records.append((str(record["text"]), list(record.get("skills") or []),
                                str(record.get("id", number))))
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise InputError(f"{path} line {number}: expected an object with 'text' and "
                                 f"'skills' ({type(exc).__name__})") from None
    else:
        reader = csv.DictReader(text.splitlines(keepends=True))
        if not reader.fieldnames or not {"text", "skills"} <= set(reader.fieldnames):
            raise InputError(f"{path}: expected CSV columns text and skills (and optionally id)")
        for number, row in enumerate(reader, 1):
            skills = [s for s in (row["skills"] or "").split("|") if s.strip()]
            records.append((row["text"] or "", skills, row.get("id") or str(number)))
    resolver, unresolved = LabelResolver(taxonomy), []
    items = [GoldItem(t, _resolve_all(resolver, skills, unresolved), item_id)
             for t, skills, item_id in records if skills]
    return Benchmark(name=path.name, items=items, level=level, unresolved_labels=unresolved,
                     items_without_gold=sum(1 for _, skills, _ in records if not skills))


def read_benchmark(path: str | Path, taxonomy: Taxonomy, level: str | None = None) -> Benchmark:
    """Pick the reader from the file: the span CSV by its header, else the generic format."""
    path = Path(path)
    if path.suffix.lower() == ".csv":
        try:
            with open(path, encoding="utf-8-sig", newline="") as fh:
                header = next(csv.reader(fh), [])
        except FileNotFoundError:
            raise InputError(f"{path}: no such file") from None
        except UnicodeDecodeError:
            header = []
        if "sentence" in header and "label" in header:
            return read_skill_extraction_csv(path, taxonomy)
    return read_gold_file(path, taxonomy, level or "sentence")
