"""Lexical baselines over the skill definitions: TF-IDF (scikit-learn) and BM25 (rank-bm25).

Both index each skill as ``label + alternative labels + description`` and rank skills by
similarity to the query sentence. They are what any learned encoder must beat.
"""

from __future__ import annotations

import re
from typing import Callable, Sequence

import numpy as np

from skillmap.evaluation.rankers import Ranking
from skillmap.index.lexical import names_document, tfidf_vectorizer
from skillmap.taxonomy import Skill, Taxonomy

_WORD = re.compile(r"\w+")


def skill_document(skill: Skill) -> str:
    return ". ".join(part for part in (names_document(skill), skill.description) if part)


def _top_k(scores: np.ndarray, ids: list[str], k: int) -> Ranking:
    k = min(k, len(ids))
    top = np.argpartition(-scores, k - 1)[:k]
    top = top[np.lexsort((top, -scores[top]))]  # by score, ties by position: deterministic
    return [(ids[i], float(scores[i])) for i in top]


class TfidfRanker:
    """Cosine similarity on TF-IDF of word 1-2-grams and character 3-5-grams (averaged)."""

    name = "TF-IDF (word 1-2 + char 3-5 grams)"

    def __init__(self, taxonomy: Taxonomy, document: Callable[[Skill], str] = skill_document,
                 analyzers: Sequence[str] = ("word", "char")):
        """``document``: the text indexed per skill; ``analyzers``: which of word 1-2-grams
        and character 3-5-grams to average (benchmarks vary both)."""
        self.ids = [s.id for s in taxonomy.skills]
        documents = [document(s) for s in taxonomy.skills]
        self.vectorizers = [tfidf_vectorizer(kind) for kind in analyzers]
        self.matrices = [v.fit_transform(documents) for v in self.vectorizers]

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """Every skill's similarity to each text: a (texts, skills) array, skills in taxonomy
        order (dense, so callers pass a few hundred texts at a time)."""
        return sum((v.transform(list(texts)) @ m.T).toarray()
                   for v, m in zip(self.vectorizers, self.matrices)) / len(self.matrices)

    def rank(self, texts: Sequence[str], k: int) -> list[Ranking]:
        rankings = []
        for start in range(0, len(texts), 256):
            rankings.extend(_top_k(row, self.ids, k)
                            for row in self.scores(texts[start:start + 256]))
        return rankings


class BM25Ranker:
    """Okapi BM25 over lower-cased word tokens."""

    name = "BM25 (Okapi)"

    def __init__(self, taxonomy: Taxonomy):
        from rank_bm25 import BM25Okapi

        self.ids = [s.id for s in taxonomy.skills]
        self.bm25 = BM25Okapi([_WORD.findall(skill_document(s).lower())
                               for s in taxonomy.skills])

    def rank(self, texts: Sequence[str], k: int) -> list[Ranking]:
        return [_top_k(np.asarray(self.bm25.get_scores(_WORD.findall(t.lower()))), self.ids, k)
                for t in texts]
