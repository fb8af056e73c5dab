"""Pipeline stage: segmentation -> (filter) -> encode -> search -> aggregate."""

from skillmap.pipeline.extractor import Extractor
from skillmap.pipeline.results import LONG_COLUMNS, AdResult, SentenceResult, SkillMatch
from skillmap.pipeline.segmentation import Segment, clean_text, segment

__all__ = ["LONG_COLUMNS", "AdResult", "Extractor", "Segment", "SentenceResult", "SkillMatch",
           "clean_text", "segment"]
