"""Lexical evidence for a skill: names a sentence says verbatim, and words it shares with them.

Dense retrieval with an off-the-shelf encoder under-ranks short, exact names: for "You know
SQL and relational databases" MiniLM prefers generic database skills to the skill "SQL".
Adding a fixed boost to explicitly named skills (hybrid lexical + dense scoring) ranks them
back where a reader expects them; docs/benchmarks.md measures what it does to RP@5 on the ESCO
validation benchmarks.

Matching is on word tokens, case-insensitive, except for labels of three characters or
fewer ("SQL", "R", "Go"), which must match case-sensitively so that ordinary words do not
trigger them. Text without spaces between words (Chinese, Japanese) is not matched.

A verbatim name is all or nothing: "principles of artificial intelligence" is not named by
"Industry: Artificial Intelligence", nor "ICT infrastructure" by "infrastructure
architecture", and the encoder does not always make up for it. :class:`LabelOverlap` scores
the partial case: the TF-IDF cosine between the sentence's words (and word pairs) and a
skill's label and alternative labels, so a rare shared word counts for much and a common
one ("manage", "skills") for little. The pipeline adds a share of it to the order of each
sentence's candidates.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Sequence

import numpy as np

from skillmap.taxonomy.model import Skill

_TOKEN = re.compile(r"[\w+#]+(?:[.\-'’][\w+#]+)*")
MAX_LABEL_TOKENS = 6
CASE_SENSITIVE_MAX_CHARS = 3


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


class LabelMatcher:
    """Token n-gram lookup from label text to skill positions."""

    def __init__(self, skills: list[Skill]):
        self._exact: dict[tuple[str, ...], set[int]] = defaultdict(set)
        self._folded: dict[tuple[str, ...], set[int]] = defaultdict(set)
        for position, skill in enumerate(skills):
            for label in (skill.label, *skill.alt_labels):
                words = tokens(label)
                if not words or len(words) > MAX_LABEL_TOKENS:
                    continue
                if len(label.strip()) <= CASE_SENSITIVE_MAX_CHARS:
                    self._exact[tuple(words)].add(position)
                else:
                    self._folded[tuple(w.casefold() for w in words)].add(position)

    def find(self, sentence: str) -> set[int]:
        """Positions of skills named in ``sentence``."""
        words = tokens(sentence)
        folded = [w.casefold() for w in words]
        found: set[int] = set()
        for n in range(1, MAX_LABEL_TOKENS + 1):
            for start in range(len(words) - n + 1):
                found |= self._folded.get(tuple(folded[start:start + n]), set())
                found |= self._exact.get(tuple(words[start:start + n]), set())
        return found


#: the n-gram kinds a TF-IDF over skill text uses here: scikit-learn analyzer and range
TFIDF_ANALYZERS = {"word": ("word", (1, 2)), "char": ("char_wb", (3, 5))}


def tfidf_vectorizer(kind: str = "word"):
    """scikit-learn's ``TfidfVectorizer`` as skillmap uses it over skill text (lower-cased,
    sublinear term frequency): ``word`` 1-2-grams or ``char`` 3-5-grams within words."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    analyzer, ngram_range = TFIDF_ANALYZERS[kind]
    return TfidfVectorizer(analyzer=analyzer, ngram_range=ngram_range, sublinear_tf=True,
                           lowercase=True)


def names_document(skill: Skill) -> str:
    """The text :class:`LabelOverlap` indexes for a skill: its label and alternative labels."""
    return ". ".join(part for part in (skill.label, ", ".join(skill.alt_labels)) if part)


class LabelOverlap:
    """How much of a skill's names a sentence shares, word by word, weighted by rarity.

    scikit-learn's ``TfidfVectorizer`` over each skill's :func:`names_document` (words and
    word pairs, lower-cased, sublinear term frequency). Names are short, so fitting is cheap:
    it is built on first use from the index's skills and not stored with the index (an index
    built before it existed gets it too).
    """

    def __init__(self, skills: Sequence[Skill]):
        self._vectorizer = tfidf_vectorizer("word")
        try:
            self._names = self._vectorizer.fit_transform([names_document(s) for s in skills])
        except ValueError:  # no word of two letters in any name ("R", "C"): nothing to share
            self._names = None

    def scores(self, sentences: Sequence[str],
               positions: Sequence[Sequence[int]]) -> list[np.ndarray]:
        """Per sentence, the cosine in [0, 1] between it and each skill of its
        ``positions`` (skill positions, as in the index), in that order."""
        if self._names is None or not len(sentences):
            return [np.zeros(len(row)) for row in positions]
        said = self._vectorizer.transform(list(sentences))
        return [np.asarray((self._names[list(row)] @ said[i].T).todense()).ravel()
                if len(row) else np.zeros(0) for i, row in enumerate(positions)]
