"""Pipeline stage: segmentation -> (filter) -> encode -> search -> aggregate.

The extractor, its results and its config load lazily: the CLI reads the config's defaults
for its options without importing torch or faiss.
"""

from importlib import import_module

_LAZY = {"Extractor": "extractor", "ExtractorConfig": "config", "LONG_COLUMNS": "results",
         "AdResult": "results", "SentenceResult": "results", "SkillMatch": "results"}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(f"skillmap.pipeline.{_LAZY[name]}"), name)
    if name in ("Segment", "clean_text", "segment"):
        return getattr(import_module("skillmap.segmentation"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["LONG_COLUMNS", "AdResult", "Extractor", "ExtractorConfig", "Segment",
           "SentenceResult", "SkillMatch", "clean_text", "segment"]
