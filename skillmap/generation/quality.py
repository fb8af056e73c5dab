"""Checks every generated sentence must pass before it enters the corpus.

A sentence is dropped (and counted, by reason) when it is empty, too short or too long to be
one job-ad sentence, a refusal or a meta-comment instead of an ad sentence, or a verbatim
copy of a skill's definition — the model parroting its input teaches the encoder nothing
about how ads word a skill.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from skillmap.taxonomy import Skill

_WORD = re.compile(r"\w+", re.UNICODE)
_REFUSAL = re.compile(r"^(?:i'?m sorry|i cannot|i can't|as an ai|sorry,|here (?:is|are) )", re.I)


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


@dataclass(frozen=True)
class QualityRules:
    """Limits for one sentence; the defaults suit job-ad sentences in European languages."""

    min_words: int = 4
    # skill-free lines of a real ad are often headers or metadata ("Job type: permanent",
    # "Full-time"): the filter must see them, so negatives may be as short as one word
    min_words_negative: int = 1
    max_words: int = 60
    copy_span: int = 8  # this many consecutive words of a definition count as a copy

    def check(self, sentence: str, skills: Sequence[Skill] = (),
              examples: Sequence[str] = (), negative: bool = False) -> str | None:
        """The reason ``sentence`` is rejected, or None when it passes.

        ``examples`` are the prompt's few-shot sentences: small models often repeat one
        verbatim, which would teach the encoder a sentence unrelated to the requested skills.
        """
        tokens = words(sentence)
        if not tokens:
            return "empty"
        if len(tokens) < (self.min_words_negative if negative else self.min_words):
            return "too short"
        if len(tokens) > self.max_words:
            return "too long"
        if _REFUSAL.match(sentence.strip()):
            return "refusal or meta text"
        for skill in skills:
            if skill.description and self._copies(tokens, skill):
                return "copies the definition"
        for example in examples:
            if _shares_span(tokens, words(example), self.copy_span):
                return "copies a prompt example"
        return None

    def _copies(self, sentence: list[str], skill: Skill) -> bool:
        """``copy_span`` consecutive words of the definition (or all of a short one) appear in
        the sentence — not counting words that merely name the skill by a label."""
        definition = words(skill.description)
        span = min(self.copy_span, len(definition))
        if span < 4:
            return False
        grams = {tuple(definition[i:i + span]) for i in range(len(definition) - span + 1)}
        names = [" ".join(words(name)) for name in (skill.label, *skill.alt_labels)]
        for i in range(len(sentence) - span + 1):
            gram = tuple(sentence[i:i + span])
            if gram in grams and not any(" ".join(gram) in name for name in names):
                return True
        return False


def _shares_span(sentence: list[str], other: list[str], span: int) -> bool:
    span = min(span, len(other))
    grams = {tuple(other[i:i + span]) for i in range(len(other) - span + 1)}
    return any(tuple(sentence[i:i + span]) in grams for i in range(len(sentence) - span + 1))


def normalise(text: str) -> str:
    """The de-duplication key of a sentence: case, spacing and punctuation do not count."""
    return " ".join(words(text))
