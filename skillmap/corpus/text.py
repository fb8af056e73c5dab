"""Words of a sentence, and when two sentences count as the same: shared by the corpus writer
(de-duplication), the generator's quality rules and the corpus statistics, so all three cut
text into words the same way."""

from __future__ import annotations

import re
from typing import Sequence

# a CJK character counts as a word (those scripts write no spaces between words)
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_WORD = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+", re.UNICODE)


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def normalise(text: str) -> str:
    """The de-duplication key of a sentence: case, spacing and punctuation do not count."""
    return " ".join(words(text))


def near_duplicate(tokens: frozenset[str], others: Sequence[frozenset[str]],
                   threshold: float) -> bool:
    """Whether ``tokens`` overlaps one of ``others`` (Jaccard) at ``threshold`` or more."""
    for other in others:
        union = len(tokens | other)
        if union and len(tokens & other) / union >= threshold:
            return True
    return False
