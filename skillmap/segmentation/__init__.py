"""Stage 1b: from raw ad text to segments that know what part of the ad they are.

:mod:`~skillmap.segmentation.text` cleans the text and splits it into sentences and bullet
items; :mod:`~skillmap.segmentation.structure` marks each one's kind (title, heading,
metadata, placeholder, sentence, bullet) and section (company, responsibilities,
requirements, benefits, apply, legal). :func:`segment_ad` does both.
"""

from skillmap.segmentation.structure import (CONTENT_KINDS, KINDS, SECTIONS, STRUCTURE_KINDS,
                                             annotate)
from skillmap.segmentation.text import Segment, clean_text, segment


def segment_ad(text: str) -> list[Segment]:
    """Clean, split and annotate one ad: its segments with kind and section."""
    cleaned = clean_text(text)
    return annotate(segment(cleaned, cleaned=True), cleaned)


__all__ = ["CONTENT_KINDS", "KINDS", "SECTIONS", "STRUCTURE_KINDS", "Segment", "annotate",
           "clean_text", "segment", "segment_ad"]
