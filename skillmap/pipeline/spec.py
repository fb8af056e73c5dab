"""A picklable recipe for an :class:`~skillmap.pipeline.Extractor`.

The CLI builds every extractor from one, and the Ray engine ships one to each actor, which
builds its own extractor once (an extractor holds faiss and torch objects that must not be
pickled). Options mean what they mean for ``Extractor``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class ExtractorSpec:
    """The arguments of ``Extractor`` plus the encoder's backend.

    An index folder, a model directory or a filter folder given as a relative path is made
    absolute, since Ray workers need not share our working directory. With a ``backend`` and
    no ``model``, the model recorded in the index is loaded with that backend.
    """

    index: str | None = None           # index folder; None: the embedded demo index
    model: str | None = None           # None: the model recorded in the index
    top_k: int = 10
    min_score: float = 0.0
    aggregation: str = "interleave"
    lexical_boost: float = 0.2
    sentence_filter: str | None = "default"
    filter_threshold: float | None = None
    filter_keeps_named: bool = True
    backend: str | None = None         # encoder backend: torch, onnx, onnx-int8 (None: torch)
    max_ad_chars: int = 1_000_000      # = Extractor.DEFAULT_MAX_AD_CHARS
    allow_pickle: bool | None = None   # pickle-format weights (None: $SKILLMAP_ALLOW_PICKLE)

    def __post_init__(self):
        self.index = None if self.index is None else str(Path(self.index).expanduser().resolve())
        for name in ("model", "sentence_filter"):
            value = getattr(self, name)
            if value not in (None, "default", "shipped", "none", "keyword-length") \
                    and Path(str(value)).expanduser().exists():
                setattr(self, name, str(Path(str(value)).expanduser().resolve()))

    def build(self):
        from skillmap.encoder import SkillEncoder
        from skillmap.pipeline import Extractor

        model = self.model
        if not model and self.index is not None:
            # the index's own model, unless it names a folder outside the index
            from skillmap.errors import SkillmapError
            from skillmap.index.skill_index import IndexMetadata, recorded_model

            if not Path(self.index).is_dir():
                raise SkillmapError(f"{self.index}: no such index directory")
            model = recorded_model(IndexMetadata.from_json(Path(self.index) / "metadata.json"),
                                   self.index)
        backend = {} if self.backend is None else {"backend": self.backend}
        encoder = (SkillEncoder.cached(model, allow_pickle=self.allow_pickle, **backend)
                   if model or backend else None)
        return Extractor(index=self.index, encoder=encoder, top_k=self.top_k,
                         min_score=self.min_score, aggregation=self.aggregation,
                         lexical_boost=self.lexical_boost,
                         sentence_filter=self.sentence_filter,
                         filter_threshold=self.filter_threshold,
                         filter_keeps_named=self.filter_keeps_named,
                         max_ad_chars=self.max_ad_chars, allow_pickle=self.allow_pickle)
