"""The keyword/length heuristic: the cheapest filter, and the baseline a trained one must beat.

A sentence is taken to state a skill when it is long enough to be a requirement and uses the
words requirements are written with ("experience", "knowledge of", "able to", "must", ...).
This is what a rule-based extractor would do; it needs no training and no model.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

import numpy as np

from skillmap.filter.base import SentenceFilter

CUES = (
    "experience", "experienced", "knowledge", "knowledgeable", "skill", "skills", "skilled",
    "ability", "able", "capable", "proficient", "proficiency", "familiar", "familiarity",
    "understanding", "expertise", "degree", "qualification", "qualified", "certified",
    "certification", "must", "required", "requirement", "requirements", "essential",
    "desirable", "plus", "advantage", "competent", "fluent", "strong", "solid", "proven",
    "responsible", "responsibilities", "will", "you", "background", "hands-on",
)
_WORD = re.compile(r"[\w+#-]+", re.UNICODE)


class KeywordLengthFilter(SentenceFilter):
    """Score = 0.3 per cue word (at most two) + 0.4 when the sentence is long enough.

    With the default threshold 0.5 a sentence is kept when it has ``min_words`` words and a
    requirement cue, or two cues.
    """

    kind = "keyword-length"

    def __init__(self, threshold: float = 0.5, min_words: int = 5, cues: Sequence[str] = CUES,
                 card: dict | None = None):
        super().__init__(threshold, {"name": "keyword/length heuristic", **(card or {})})
        self.min_words = min_words
        self.cues = frozenset(c.lower() for c in cues)

    def predict_proba(self, sentences: Sequence[str], embeddings: np.ndarray | None = None,
                      contexts: Sequence[tuple[str, str]] | None = None) -> np.ndarray:
        scores = np.empty(len(sentences), dtype=np.float32)
        for i, sentence in enumerate(sentences):
            tokens = _WORD.findall(sentence.lower())
            cues = sum(token in self.cues for token in tokens)
            scores[i] = 0.3 * min(cues, 2) + 0.4 * (len(tokens) >= self.min_words)
        return scores

    def _fingerprint_bytes(self) -> bytes:
        return f"{self.min_words}|{'|'.join(sorted(self.cues))}".encode()

    def _save_weights(self, folder: Path) -> dict:
        return {"min_words": self.min_words, "cues": sorted(self.cues)}

    @classmethod
    def _from_folder(cls, folder: Path, manifest: dict,
                     allow_pickle: bool | None = None) -> "KeywordLengthFilter":
        return cls(threshold=manifest["threshold"], min_words=manifest.get("min_words", 5),
                   cues=manifest.get("cues", CUES), card=manifest.get("card"))
