"""How good is a synthetic corpus? Counts, coverage, diversity and discriminability.

*Coverage*: how many skills of the taxonomy have sentences, and how many each. *Diversity*:
distinct-n (unique n-grams / all n-grams; higher = less repetitive) and self-similarity (mean
pairwise cosine of sentence embeddings; lower = more varied). *Label mentions*: the share of
sentences that name one of their skills' labels verbatim (high = the generator parrots the
taxonomy instead of writing the way ads do). *Discriminability*: with the off-the-shelf
encoder and dense retrieval only (no lexical boost, which would reward parroting), how often
a sentence's own skills are in its top 5 — the measure the method uses to compare
hierarchy-constrained with unconstrained generation.

It is evaluation, not generation: it ranks with an encoder and an index, which the code
that writes a corpus must not need.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from statistics import mean, median
from typing import Iterable

import numpy as np

from skillmap.corpus.records import CorpusRecord, read_corpus
from skillmap.corpus.text import words
from skillmap.evaluation.metrics import hits_at_k, rp_at_k
from skillmap.index import SkillIndex

TOP_K = 5


@dataclass
class ModeStats:
    mode: str
    sentences: int = 0
    distinct_skills: int = 0
    skills_per_sentence: float = 0.0
    words_per_sentence: float = 0.0
    distinct_1: float = 0.0
    distinct_2: float = 0.0
    distinct_3: float = 0.0
    self_similarity: float | None = None
    label_mention_rate: float | None = None
    hit_at_5: float | None = None
    rp_at_5: float | None = None
    sampled: int = 0


@dataclass
class CorpusStats:
    corpus: str
    lines: int
    backends: dict[str, int]
    modes: list[ModeStats]
    taxonomy_skills: int
    skills_covered: int
    sentences_per_skill: dict[str, float] = field(default_factory=dict)
    unknown_skill_ids: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


def distinct_n(token_lists: list[list[str]], n: int) -> float:
    """Unique n-grams over all n-grams of the sentences (0 when there are none)."""
    grams: Counter = Counter()
    for tokens in token_lists:
        grams.update(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))
    total = sum(grams.values())
    return len(grams) / total if total else 0.0


def self_similarity(vectors: np.ndarray) -> float | None:
    """Mean cosine between distinct sentences (vectors are L2-normalised)."""
    count = len(vectors)
    if count < 2:
        return None
    gram = vectors @ vectors.T
    return float((gram.sum() - np.trace(gram)) / (count * (count - 1)))


def corpus_stats(path: str | Path, index: SkillIndex, encoder, sample: int = 1000,
                 seed: int = 0, show_progress: bool = False,
                 records: Iterable[CorpusRecord] | None = None) -> CorpusStats:
    """Statistics of the corpus at ``path``; embeddings on a seeded sample per mode.
    ``records``: the corpus already read (a command reads it before it embeds a taxonomy,
    so a bad file fails at once)."""
    by_mode: dict[str, list[CorpusRecord]] = defaultdict(list)
    backends: Counter[str] = Counter()
    for record in read_corpus(path) if records is None else records:
        by_mode[record.mode].append(record)
        backends[f"{record.backend}:{record.model}"] += 1
    position = {skill.id: i for i, skill in enumerate(index.skills)}
    per_skill: Counter[str] = Counter()
    unknown = 0
    modes = []
    for mode in sorted(by_mode, key=_mode_order):
        records = by_mode[mode]
        for record in records:
            for skill_id in record.skill_ids:
                if skill_id in position:
                    per_skill[skill_id] += 1
                else:
                    unknown += 1
        modes.append(_mode_stats(mode, records, index, encoder, position, sample, seed,
                                 show_progress))
    counts = [per_skill.get(skill.id, 0) for skill in index.skills]
    spread = {}
    if counts:
        spread = {"min": min(counts), "median": median(counts), "mean": round(mean(counts), 2),
                  "max": max(counts), "skills_with_0": counts.count(0),
                  "skills_with_3_or_more": sum(1 for c in counts if c >= 3)}
    return CorpusStats(corpus=str(path), lines=sum(len(r) for r in by_mode.values()),
                       backends=dict(backends), modes=modes, taxonomy_skills=len(index.skills),
                       skills_covered=sum(1 for c in counts if c), sentences_per_skill=spread,
                       unknown_skill_ids=unknown)


def _mode_order(mode: str) -> tuple[int, str]:
    order = ["single", "constrained", "unconstrained", "negatives"]
    return (order.index(mode) if mode in order else len(order), mode)


def _mode_stats(mode: str, records: list[CorpusRecord], index: SkillIndex, encoder,
                position: dict[str, int], sample: int, seed: int,
                show_progress: bool) -> ModeStats:
    tokens = [words(r.text) for r in records]
    stats = ModeStats(
        mode=mode, sentences=len(records),
        distinct_skills=len({s for r in records for s in r.skill_ids}),
        skills_per_sentence=round(mean(len(r.skill_ids) for r in records), 3),
        words_per_sentence=round(mean(len(t) for t in tokens), 2),
        distinct_1=round(distinct_n(tokens, 1), 4), distinct_2=round(distinct_n(tokens, 2), 4),
        distinct_3=round(distinct_n(tokens, 3), 4))
    picked = records if len(records) <= sample else random.Random(seed).sample(records, sample)
    stats.sampled = len(picked)
    vectors = encoder.encode([r.text for r in picked], show_progress=show_progress)
    similarity = self_similarity(vectors)
    stats.self_similarity = None if similarity is None else round(similarity, 4)
    labelled = [(r, v) for r, v in zip(picked, vectors) if r.skill_ids]
    if not labelled:
        return stats
    matcher = index.label_matcher
    mentions = sum(1 for r, _ in labelled
                   if {index.skills[h].id for h in matcher.find(r.text)} & set(r.skill_ids))
    stats.label_mention_rate = round(mentions / len(labelled), 4)
    _, hits = index.search(np.stack([v for _, v in labelled]), TOP_K)
    hit_rates, rps = [], []
    for (record, _), row in zip(labelled, hits):
        ranking = [index.skills[h].id for h in row if h >= 0]
        gold = {s for s in record.skill_ids if s in position}
        if gold:
            hit_rates.append(1.0 if hits_at_k(ranking, gold, TOP_K) else 0.0)
            rps.append(rp_at_k(ranking, gold, TOP_K))
    if hit_rates:
        stats.hit_at_5 = round(mean(hit_rates), 4)
        stats.rp_at_5 = round(mean(rps), 4)
    return stats
