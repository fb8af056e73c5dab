"""Every setting of an :class:`~skillmap.pipeline.Extractor`, with its default, in one place.

The CLI builds one from its options, ``skillmap batch`` writes it as the run's manifest (a
resumed run must code with the same settings), the Ray engine ships it to each actor (which
builds its own extractor: faiss and torch objects are not pickled) and the app keys its
cached extractors on it. ``Extractor(**options)`` and ``Extractor.from_config(config)`` are
the same thing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from skillmap.errors import SkillmapError
from skillmap.filter import FILTERS
from skillmap.pipeline.aggregation import AGGREGATIONS
from skillmap.rerank.registry import AUTO, RERANK_CHOICES

#: the cosine similarity below which a match is dropped, calibrated for the default encoder
#: on the ESCO validation sentences so that 95 % of the gold skills in a sentence's top 10
#: score above it (docs/benchmarks.md)
DEFAULT_MIN_SCORE = 0.3
#: the share of the words a sentence shares with a skill's names in the order of its
#: candidates (skillmap/index/lexical.py), chosen on the ESCO validation sentences
#: (docs/benchmarks.md §13.12)
DEFAULT_LABEL_OVERLAP = 0.3
#: how much the rest of the ad reorders a sentence's candidates (0: off; ad_context.py)
DEFAULT_CONTEXT_WEIGHT = 0.0


@dataclass
class ExtractorConfig:
    """What an extractor does (see :class:`~skillmap.pipeline.Extractor` for each field)."""

    index: str | None = None             # index folder; None: the embedded demo index
    model: str | None = None             # encoder; None: the one recorded in the index
    backend: str | None = None           # encoder backend (torch, onnx, onnx-int8); None: torch
    top_k: int = 10
    min_score: float = DEFAULT_MIN_SCORE
    aggregation: str = "evidence"
    lexical_boost: float = 0.2
    label_overlap: float = DEFAULT_LABEL_OVERLAP  # order += W x words shared with the names
    structure: bool = True
    sentence_filter: Any = "default"     # a name (FILTERS), a folder, a filter, or None
    filter_threshold: float | None = None
    filter_keeps_named: bool = True
    min_evidence: float | None = None    # None: the filter's calibrated evidence threshold
    max_ad_chars: int = 1_000_000
    allow_pickle: bool | None = None     # pickle-format weights (None: $SKILLMAP_ALLOW_PICKLE)
    exclude_skills: tuple[str, ...] = ()     # ids or labels never listed (exclusions.py)
    exclude_sentences: tuple[str, ...] = ()  # regular expressions: sentences not searched
    rerank: str | None = AUTO            # a reranker (RERANKERS), auto or none (None = none)
    rerank_candidates: int = 20          # faiss candidates per sentence the reranker reorders
    rerank_weight: float = 0.25          # order = cosine + bonus + weight x reranker score
    rerank_temperature: float | None = None  # None: the model's trained scorer, else 0.05
    second_opinion: str | None = None    # a second encoder mixed into the candidates' order
    second_opinion_weight: float = 0.3   # its share W of the order key (second_opinion.py)
    context_weight: float = DEFAULT_CONTEXT_WEIGHT  # the rest of the ad in the order key

    def __post_init__(self):
        # relative folders become absolute: Ray workers need not share our working directory
        if self.index is not None:
            self.index = str(Path(self.index).expanduser().resolve())
        for name in ("model", "sentence_filter", "second_opinion"):
            value = getattr(self, name)
            if isinstance(value, (str, Path)) and str(value) not in FILTERS \
                    and Path(str(value)).expanduser().exists():
                setattr(self, name, str(Path(str(value)).expanduser().resolve()))
            elif isinstance(value, Path):
                setattr(self, name, str(value))
        for name in ("exclude_skills", "exclude_sentences"):   # lists from JSON, a str alone
            value = getattr(self, name)
            setattr(self, name, (value,) if isinstance(value, str) else tuple(value or ()))
        self.validate()

    def validate(self) -> None:
        """One-line errors for values out of range (before any model loads)."""
        if self.aggregation not in AGGREGATIONS:
            raise SkillmapError(f"aggregation must be one of {', '.join(AGGREGATIONS)}, "
                                f"got {self.aggregation!r}")
        if self.top_k < 1:
            raise SkillmapError(f"top-k must be at least 1, got {self.top_k}")
        if self.max_ad_chars < 1:
            raise SkillmapError(f"max-ad-chars must be at least 1, got {self.max_ad_chars}")
        if not 0.0 <= self.lexical_boost <= 1.0:
            raise SkillmapError(f"lexical boost must be in [0, 1], got {self.lexical_boost}")
        if not 0.0 <= self.label_overlap <= 1.0:
            raise SkillmapError(f"label overlap must be in [0, 1], got {self.label_overlap}")
        if not -1.0 <= self.min_score <= 1.0:
            raise SkillmapError(f"min-score is a cosine similarity in [-1, 1], got "
                                f"{self.min_score}")
        from skillmap.pipeline.exclusions import check_pattern

        for pattern in self.exclude_sentences:
            check_pattern(pattern, "excluded sentence pattern")
        if self.rerank is not None and self.rerank not in RERANK_CHOICES:
            raise SkillmapError(f"rerank must be one of {', '.join(RERANK_CHOICES)}, got "
                                f"{self.rerank!r}")
        if not 1 <= self.rerank_candidates <= 10_000:
            raise SkillmapError(f"rerank candidates must be from 1 to 10,000, got "
                                f"{self.rerank_candidates}")
        if not 0.0 <= self.rerank_weight <= 100.0:
            raise SkillmapError(f"rerank weight must be from 0 to 100, got {self.rerank_weight}")
        if not 0.0 <= self.second_opinion_weight <= 1.0:
            raise SkillmapError(f"second-opinion weight must be in [0, 1], got "
                                f"{self.second_opinion_weight}")
        if not 0.0 <= self.context_weight <= 1.0:
            raise SkillmapError(f"context weight must be in [0, 1], got {self.context_weight}")
        if self.rerank_temperature is not None and not 0.0 < self.rerank_temperature <= 100.0:
            raise SkillmapError(f"rerank temperature must be above 0 (at most 100), got "
                                f"{self.rerank_temperature}")
        for name in ("filter_threshold", "min_evidence"):
            value = getattr(self, name)
            if value is not None and not 0.0 <= value <= 1.0:
                raise SkillmapError(f"{name.replace('_', ' ')} is a probability in [0, 1], "
                                    f"got {value}")

    @classmethod
    def from_preset(cls, name: str = "fast", **options) -> "ExtractorConfig":
        """A named preset's settings (:mod:`skillmap.pipeline.presets`: ``fast``,
        ``accurate``), ``options`` overriding them: the Python side of ``--preset``."""
        from skillmap.pipeline.presets import get_preset

        return cls(**get_preset(name).fill(options))

    def replace(self, **changes) -> "ExtractorConfig":
        """A copy with ``changes`` (validated)."""
        return replace(self, **changes)

    def to_dict(self) -> dict:
        """JSON-ready; a filter given as an object is recorded by its fingerprint."""
        data = asdict(self) if not _is_filter(self.sentence_filter) else {
            f.name: getattr(self, f.name) for f in fields(self)}
        if _is_filter(self.sentence_filter):
            data["sentence_filter"] = f"{self.sentence_filter.name}@" \
                                      f"{self.sentence_filter.fingerprint}"
        for name in ("exclude_skills", "exclude_sentences"):  # as JSON reads them back
            data[name] = list(data[name])
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "ExtractorConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise SkillmapError(f"unknown extractor settings: {', '.join(sorted(unknown))}")
        return cls(**data)


def _is_filter(value: Any) -> bool:
    return hasattr(value, "predict_proba") and hasattr(value, "fingerprint")
