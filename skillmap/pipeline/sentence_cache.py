"""Remember what each sentence was coded to, across the chunks of a batch run.

``Extractor.extract_many`` already encodes each distinct sentence of one call once. Job ads
repeat their boilerplate across a whole corpus (a company's blurb, benefits and closing
lines recur in every ad it posts), so a batch run also keeps a bounded cache from sentence
text to its *outcome* — the filter's score and the ranked ``(skill position, cosine, name
bonus)`` list, or "filtered" — and later chunks skip encoding and search for sentences seen
before.

Eviction is first-in-first-out, not LRU, on purpose: the cache's state after chunk N then
depends only on the sentences *added* in chunks 0..N, so a resumed run can rebuild it
exactly by replaying what each finished chunk added (:meth:`SentenceCache.dump` /
:meth:`SentenceCache.replay`). That matters because an encoder's output for a sentence
differs in the last float bits with the batch it is encoded in: a resumed run that
re-encoded instead would differ from an uninterrupted one in a few rounded scores.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from skillmap.io import atomic_write

Ranked = tuple[tuple, ...]  # (skill position, cosine, bonus[, order key]) per match, best first


@dataclass(frozen=True)
class Outcome:
    """What one sentence was coded to: ``ranked`` is None when the filter dropped it.

    With the ad's context on (``ExtractorConfig.context_weight``) the ranking is finished per
    ad, so ``ranked`` holds every candidate with its order key and ``vector`` the sentence's
    vector as float32 bytes (compact, comparable, hashable; part of the context of the ad's
    other sentences); else ``vector`` is None."""

    filter_score: Optional[float]
    ranked: Optional[Ranked]
    vector: Optional[bytes] = None

    @property
    def array(self) -> np.ndarray | None:
        """``vector`` as a float32 array."""
        return None if self.vector is None else np.frombuffer(self.vector, dtype=np.float32)


class SentenceCache:
    """A FIFO-bounded map from sentence text to its :class:`Outcome`."""

    def __init__(self, max_sentences: int = 100_000):
        if max_sentences < 1:
            raise ValueError(f"max_sentences must be at least 1, got {max_sentences}")
        self.max_sentences = max_sentences
        self._outcomes: dict[str, Outcome] = {}
        self._added: list[tuple[str, Outcome]] = []
        self.hits = 0

    def __len__(self) -> int:
        return len(self._outcomes)

    def __contains__(self, sentence: str) -> bool:
        return sentence in self._outcomes

    @property
    def pending(self) -> list[tuple[str, Outcome]]:
        """What was added since the last :meth:`dump`, in order."""
        return self._added

    def get(self, sentence: str) -> Outcome | None:
        outcome = self._outcomes.get(sentence)
        if outcome is not None:
            self.hits += 1
        return outcome

    def add(self, sentence: str, outcome: Outcome) -> None:
        self._insert(sentence, outcome)
        self._added.append((sentence, outcome))

    def _insert(self, sentence: str, outcome: Outcome) -> None:
        if sentence in self._outcomes:
            return
        if len(self._outcomes) >= self.max_sentences:
            del self._outcomes[next(iter(self._outcomes))]
        self._outcomes[sentence] = outcome

    def dump(self, path: Path) -> None:
        """Write (atomically) what was added since the last dump, and forget that list."""
        with atomic_write(path) as fh:
            for sentence, outcome in self._added:
                row = [sentence, outcome.filter_score,
                       None if outcome.ranked is None else [list(m) for m in outcome.ranked]]
                if outcome.vector is not None:
                    row.append(outcome.array.tolist())
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        self._added = []

    def replay(self, path: Path) -> None:
        """Re-add what a finished chunk added (its :meth:`dump` file), in the same order."""
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                sentence, score, ranked, *vector = json.loads(line)
                self._insert(sentence, Outcome(score, None if ranked is None else tuple(
                    (int(item[0]), *(float(x) for x in item[1:])) for item in ranked),
                    np.asarray(vector[0], dtype=np.float32).tobytes() if vector else None))
