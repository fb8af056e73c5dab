"""The extraction pipeline: segment -> encode -> search -> aggregate per ad.

:class:`Extractor` is the one implementation behind ``skillmap extract``, ``skillmap
batch`` and the app. ``extract_many`` codes a batch of ads at once and encodes each distinct
sentence only once: job ads repeat boilerplate heavily, so this saves encoder time on every
corpus. Per ad, a skill's score is the best score any of its sentences gives it, and that
sentence is its evidence.
"""

from __future__ import annotations

import os
from typing import Sequence

import numpy as np

from skillmap.encoder import SkillEncoder
from skillmap.errors import SkillmapError
from skillmap.index import SkillIndex, default_index
from skillmap.pipeline.results import AdResult, SentenceResult, SkillMatch
from skillmap.pipeline.segmentation import Segment, segment


class Extractor:
    """Code job ads against a skill index.

    Parameters
    ----------
    index: a :class:`SkillIndex`, an index folder, or None for the embedded default.
    encoder: the encoder matching the index; None loads the model recorded in the index
        (or the default model). A mismatching encoder is refused.
    top_k: skills kept per ad and per sentence.
    min_score: matches scoring below this cosine similarity are dropped.
    """

    def __init__(self, index: SkillIndex | str | os.PathLike | None = None,
                 encoder: SkillEncoder | None = None, top_k: int = 10, min_score: float = 0.0):
        if top_k < 1:
            raise SkillmapError(f"top-k must be at least 1, got {top_k}")
        if not -1.0 <= min_score <= 1.0:
            raise SkillmapError(f"min-score is a cosine similarity in [-1, 1], got {min_score}")
        if index is None:
            encoder = encoder or SkillEncoder.cached()
            index = default_index(encoder)
        elif not isinstance(index, SkillIndex):
            index = SkillIndex.load(index)
        if encoder is None:
            encoder = SkillEncoder.cached(index.metadata.model_id)
        index.check_encoder(encoder)
        self.index, self.encoder = index, encoder
        self.taxonomy = index.taxonomy
        self.top_k, self.min_score = top_k, min_score
        self._groups = [self._group_labels(skill.id) for skill in index.skills]

    def _group_labels(self, skill_id: str) -> tuple[str, str]:
        level1, level2 = self.taxonomy.level1(skill_id), self.taxonomy.level2(skill_id)
        return (level1.label if level1 else "", level2.label if level2 else "")

    def _match(self, position: int, score: float) -> SkillMatch:
        skill = self.index.skills[position]
        level1, level2 = self._groups[position]
        return SkillMatch(skill_id=skill.id, skill_label=skill.label, score=float(score),
                          level1=level1, level2=level2)

    def extract(self, text: str, doc_id: str = "ad-1") -> AdResult:
        """Code one ad."""
        return self.extract_many([text], [doc_id])[0]

    def extract_many(self, texts: Sequence[str], doc_ids: Sequence[str] | None = None,
                     show_progress: bool = False) -> list[AdResult]:
        """Code several ads, encoding each distinct sentence once."""
        if doc_ids is None:
            doc_ids = [f"ad-{i + 1}" for i in range(len(texts))]
        if len(doc_ids) != len(texts):
            raise ValueError("texts and doc_ids differ in length")
        segmented = [segment(text if isinstance(text, str) else "") for text in texts]
        distinct = list(dict.fromkeys(s.text for segs in segmented for s in segs if s.codable))
        position = {sentence: i for i, sentence in enumerate(distinct)}
        vectors = self.encoder.encode(distinct, show_progress=show_progress)
        scores, hits = self.index.search(vectors, self.top_k)
        return [self._aggregate(doc_id, segs, position, scores, hits)
                for doc_id, segs in zip(doc_ids, segmented)]

    def _aggregate(self, doc_id: str, segments: list[Segment], position: dict[str, int],
                   scores: np.ndarray, hits: np.ndarray) -> AdResult:
        sentences: list[SentenceResult] = []
        best: dict[int, tuple[float, int]] = {}  # skill position -> (score, sentence index)
        for i, seg in enumerate(segments):
            row = position.get(seg.text) if seg.codable else None
            matches = []
            for score, hit in zip(*((scores[row], hits[row]) if row is not None else ((), ()))):
                if hit < 0 or score < self.min_score:
                    continue
                matches.append(self._match(int(hit), float(score)))
                if hit not in best or score > best[hit][0]:
                    best[int(hit)] = (float(score), i)
            for rank, match in enumerate(matches, 1):
                match.rank = rank
            sentences.append(SentenceResult(i, seg.text, seg.start, seg.end, seg.kind, matches))
        ranked = sorted(best.items(), key=lambda item: -item[1][0])[: self.top_k]
        skills = []
        for rank, (hit, (score, sentence_index)) in enumerate(ranked, 1):
            match = self._match(hit, score)
            match.rank = rank
            match.evidence_index = sentence_index
            match.evidence_sentence = segments[sentence_index].text
            skills.append(match)
        return AdResult(doc_id=doc_id, skills=skills, sentences=sentences)

    def __repr__(self) -> str:
        return f"Extractor(index={self.index!r}, top_k={self.top_k}, min_score={self.min_score})"

