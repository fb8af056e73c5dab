"""Find the skills whose label or alternative label a sentence names verbatim.

Dense retrieval with an off-the-shelf encoder under-ranks short, exact names: for "You know
SQL and relational databases" MiniLM prefers generic database skills to the skill "SQL".
Adding a fixed boost to explicitly named skills (hybrid lexical + dense scoring) ranks them
back where a reader expects them; docs/benchmarks.md measures what it does to RP@5 on the ESCO
validation benchmarks.

Matching is on word tokens, case-insensitive, except for labels of three characters or
fewer ("SQL", "R", "Go"), which must match case-sensitively so that ordinary words do not
trigger them. Text without spaces between words (Chinese, Japanese) is not matched.
"""

from __future__ import annotations

import re
from collections import defaultdict

from skillmap.taxonomy.model import Skill

_TOKEN = re.compile(r"[\w+#]+(?:[.\-'’][\w+#]+)*")
MAX_LABEL_TOKENS = 6
CASE_SENSITIVE_MAX_CHARS = 3


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


class LabelMatcher:
    """Token n-gram lookup from label text to skill positions."""

    def __init__(self, skills: list[Skill]):
        self._exact: dict[tuple[str, ...], set[int]] = defaultdict(set)
        self._folded: dict[tuple[str, ...], set[int]] = defaultdict(set)
        for position, skill in enumerate(skills):
            for label in (skill.label, *skill.alt_labels):
                words = tokens(label)
                if not words or len(words) > MAX_LABEL_TOKENS:
                    continue
                if len(label.strip()) <= CASE_SENSITIVE_MAX_CHARS:
                    self._exact[tuple(words)].add(position)
                else:
                    self._folded[tuple(w.casefold() for w in words)].add(position)

    def find(self, sentence: str) -> set[int]:
        """Positions of skills named in ``sentence``."""
        words = tokens(sentence)
        folded = [w.casefold() for w in words]
        found: set[int] = set()
        for n in range(1, MAX_LABEL_TOKENS + 1):
            for start in range(len(words) - n + 1):
                found |= self._folded.get(tuple(folded[start:start + n]), set())
                found |= self._exact.get(tuple(words[start:start + n]), set())
        return found
