"""A model-free stand-in for :class:`~skillmap.pipeline.Extractor`, for batch tests that need
many runs, forks or kills: it codes an ad in microseconds, deterministically (the same text
always gives the same rows), and it never touches torch, so a forked child can run it.

``on_chunk(number)`` is called before each chunk is coded: the tests use it to block a run,
change its input under it, or interrupt it.
"""

from __future__ import annotations

import hashlib
from types import SimpleNamespace

from skillmap.pipeline.results import AdResult, SentenceResult, SkillMatch


class FakeExtractor:
    max_ad_chars = 1_000_000
    top_k = 2
    min_score = 0.0
    aggregation = "interleave"
    lexical_boost = 0.2
    sentence_filter = None
    filter_threshold = None
    filter_keeps_named = True

    def __init__(self, on_chunk=None):
        from skillmap.pipeline.config import ExtractorConfig

        self.config = ExtractorConfig(sentence_filter=None, top_k=self.top_k)
        self.on_chunk = on_chunk or (lambda number: None)
        self.chunks_coded = 0
        self.encoder = SimpleNamespace(backend="torch", probe=[0.5, 0.5],
                                       reference_probe=[0.5, 0.5], model_id="fake")
        self.index = SimpleNamespace(metadata=SimpleNamespace(
            taxonomy_fingerprint="fake", model_id="fake", text_template="{label}",
            index_sha256=""))

    def extract_many(self, texts, ids, cache=None, **kwargs):
        self.on_chunk(self.chunks_coded)
        self.chunks_coded += 1
        return [self._code(text, doc_id) for text, doc_id in zip(texts, ids)]

    @staticmethod
    def _code(text: str, doc_id: str) -> AdResult:
        if not text.strip():
            return AdResult(doc_id, [], [])
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        sentence = text.strip().splitlines()[0][:80]
        skills = [SkillMatch(f"S{digest[i:i + 4]}", f"skill {digest[i:i + 4]}",
                             0.9 - 0.1 * rank, "L1", "L2", sentence, 0, rank + 1)
                  for rank, i in enumerate((0, 8))]
        return AdResult(doc_id, skills, [SentenceResult(0, sentence, 0, len(sentence), "sentence")])
