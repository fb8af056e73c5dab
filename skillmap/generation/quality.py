"""Checks every generated sentence must pass before it enters the corpus.

A sentence is dropped (and counted, by reason) when it is empty, too short or too long to be
one job-ad sentence, a refusal or a meta-comment instead of an ad sentence, a verbatim copy
of a skill's definition or of a prompt example, little more than the skill's own name, or in
another language than the one asked for — the model parroting its input, or drifting, teaches
the encoder nothing about how ads word a skill. Near-duplicates of a sentence already written
for the same skills are caught by the corpus writer
(:func:`skillmap.corpus.text.near_duplicate`), which sees them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from skillmap.corpus.text import words
from skillmap.generation.language import stop_words, wrong_language
from skillmap.taxonomy import Skill

_REFUSAL = re.compile(r"^(?:i'?m sorry|i cannot|i can't|as an ai|sorry,|here (?:is|are) )", re.I)


@dataclass(frozen=True)
class QualityRules:
    """Limits for one sentence; the defaults suit job-ad sentences in European languages."""

    # terse lines of real ads ("SQL / dbt", "Forklift licence") are skill statements too
    min_words: int = 2
    # skill-free lines of a real ad are often headers or metadata ("Job type: permanent",
    # "Full-time"): the filter must see them, so negatives may be as short as one word
    min_words_negative: int = 1
    max_words: int = 60
    copy_span: int = 8  # this many consecutive words of a definition count as a copy
    # a sentence with fewer words than this beyond its skills' names and function words only
    # repeats the label ("Manage budgets."); terse lists of several skills are not affected
    min_own_words: int = 2
    # token-set overlap above which a sentence repeats one already written for its skills
    near_duplicate: float = 0.8

    def check(self, sentence: str, skills: Sequence[Skill] = (),
              examples: Sequence[str] = (), negative: bool = False,
              language: str | None = None, names_by_design: bool = False) -> str | None:
        """The reason ``sentence`` is rejected, or None when it passes.

        ``names_by_design``: the sentence was written by filling a skill's name into a
        phrasing (the template backend), so naming it is not parroting.

        ``examples`` are the prompt's few-shot sentences: small models often repeat one
        verbatim, which would teach the encoder a sentence unrelated to the requested skills.
        """
        tokens = words(sentence)
        if not tokens:
            return "empty"
        if language and wrong_language(sentence, language):
            return "wrong language"
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
        if (len(skills) == 1 and not names_by_design
                and self._parrots(tokens, skills[0], language or "en")):
            return "only the skill's name"
        return None

    def _parrots(self, sentence: list[str], skill: Skill, language: str) -> bool:
        """Nothing but the skill's names and function words: the label handed back."""
        names = {w for name in (skill.label, *skill.alt_labels) for w in words(name)}
        function = stop_words(language.split("-")[0]) or stop_words("en")
        own = [w for w in sentence if w not in names and w not in function]
        return len(own) < self.min_own_words

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
