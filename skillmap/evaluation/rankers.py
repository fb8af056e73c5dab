"""Everything the harness can evaluate is a *ranker*: texts in, ranked skill ids out.

Our pipeline, the baselines and (in ``benchmarks/``) the open-source peer all implement
``rank(texts, k) -> [[(skill_id, score), ...], ...]``, so they are scored by the same code
on the same items.
"""

from __future__ import annotations

from typing import Protocol, Sequence

from skillmap.pipeline import Extractor

Ranking = list[tuple[str, float]]


class Ranker(Protocol):
    name: str

    def rank(self, texts: Sequence[str], k: int) -> list[Ranking]:
        """Per text, up to ``k`` (skill id, score) pairs, best first."""


class PipelineRanker:
    """The skillmap pipeline as a ranker.

    ``level="sentence"`` ranks each text as one sentence (the benchmark protocol: no
    segmentation, no aggregation); ``level="document"`` runs the full pipeline on each text
    (segmentation, per-sentence retrieval, per-ad aggregation).
    """

    def __init__(self, extractor: Extractor, level: str = "sentence", name: str | None = None):
        if level not in ("sentence", "document"):
            raise ValueError(f"level must be 'sentence' or 'document', got {level!r}")
        self.extractor, self.level = extractor, level
        meta = extractor.index.metadata
        screen = extractor.sentence_filter
        config = extractor.config
        rerank = (f"rerank {config.rerank_weight}" if extractor.reranker is not None
                  else "rerank off")
        second = ("" if config.second_opinion is None else
                  f", second opinion {config.second_opinion.rsplit('/', 1)[-1]} "
                  f"{config.second_opinion_weight}")
        # a sentence ranked alone has no ad around it: say so rather than name a weight
        context = "" if not config.context_weight else (
            f", ad context {config.context_weight}" if level == "document"
            else ", ad context none (lone sentences)")
        self.name = name or (f"skillmap ({meta.model_id.rsplit('/', 1)[-1]}, "
                             f"boost {extractor.lexical_boost}, label overlap "
                             f"{extractor.label_overlap}, {rerank}{second}{context}, "
                             f"filter {screen.name if screen else 'off'})")

    def rank(self, texts: Sequence[str], k: int) -> list[Ranking]:
        if k > self.extractor.top_k:
            raise ValueError(f"the extractor keeps {self.extractor.top_k} skills; asked for {k}")
        skills = self.extractor.index.skills
        if self.level == "sentence":
            # the filter runs as in extraction, on each text as a lone sentence: a sentence
            # it drops gets an empty ranking
            _, keep, vectors = self.extractor.screen(list(texts))
            kept = [text for text, ok in zip(texts, keep) if ok]
            rows = iter(self.extractor.rank_sentences(
                kept, vectors[keep] if vectors is not None else None))
            return [[(skills[p].id, cosine + bonus) for p, cosine, bonus in next(rows)[:k]]
                    if ok else [] for ok in keep]
        return [[(m.skill_id, m.score) for m in result.skills[:k]]
                for result in self.extractor.extract_many(list(texts))]
