"""How an ad's skills are ranked, by name: the ``aggregation`` setting of an extractor.

While it reads an ad, the extractor keeps per skill its best evidence (strength, cosine,
name bonus, sentence), its best rank in any sentence and how many segments mention it. An
aggregation turns that into the ad's order, best first:

- ``evidence`` (the default): by the strength of the skill's best sentence, in which the
  filter's confidence that the sentence states a skill at all counts, and a skill the ad asks
  for again (in its title, in another requirement) gains a little per repeat;
- ``interleave``: by the best rank the skill reaches in any sentence, then by match, so every
  sentence's first choice comes before any sentence's second: one sentence naming a skill
  with many near-synonyms in the taxonomy cannot crowd the other requirements out;
- ``max``: by match (cosine + name bonus) alone.

:data:`AGGREGATIONS` is the one list of them: the extractor ranks through it,
:class:`~skillmap.pipeline.config.ExtractorConfig` checks names against it and the CLI's
``--aggregation`` offers its keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

#: skill position -> (strength, cosine, name bonus, index of the evidence sentence)
Evidence = dict[int, tuple[float, float, float, int]]

MAX_REPEAT_CREDIT = 2   # repeats that count towards a skill's rank
MENTION_CREDIT = 0.05   # per repeat of the skill elsewhere in the ad (evidence)


@dataclass(frozen=True)
class Aggregation:
    """One way to rank an ad's skills."""

    #: (best evidence, best rank per skill, mentions per skill) -> skill positions, best first
    order: Callable[[Evidence, dict[int, int], dict[int, int]], list[int]]
    #: whether a sentence's filter score adds to its strength as evidence
    weighs_filter_confidence: bool = False


def _by_evidence(best: Evidence, best_rank: dict[int, int],
                 mentions: dict[int, int]) -> list[int]:
    return sorted(best, key=lambda hit: -(
        best[hit][0] + MENTION_CREDIT * min(mentions.get(hit, 1) - 1, MAX_REPEAT_CREDIT)))


def _interleave(best: Evidence, best_rank: dict[int, int],
                mentions: dict[int, int]) -> list[int]:
    return sorted(best, key=lambda hit: (best_rank[hit], -(best[hit][1] + best[hit][2])))


def _by_match(best: Evidence, best_rank: dict[int, int],
              mentions: dict[int, int]) -> list[int]:
    return sorted(best, key=lambda hit: -(best[hit][1] + best[hit][2]))


AGGREGATIONS: dict[str, Aggregation] = {
    "evidence": Aggregation(_by_evidence, weighs_filter_confidence=True),
    "interleave": Aggregation(_interleave),
    "max": Aggregation(_by_match),
}
