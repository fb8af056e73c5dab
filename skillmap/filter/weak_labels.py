"""Weak labels for real ad lines, from the ads' own structure and from repetition.

Synthetic sentences teach the filter what a skill statement sounds like, but not what the
other lines of *real* ads look like: the intro that names the job, the company's mission in
its own words, a benefits list, a recruiter's sign-off. Unlabelled real postings carry their
own weak labels (Snorkel-style labelling functions, combined by priority):

* not a skill: a line whose kind is structure (title, heading, metadata, placeholder); a
  content line under a company, benefits, how-to-apply or legal heading; a line that recurs
  in several postings of the corpus (boilerplate);
* states a skill: a content line under a requirements heading ("Your profile",
  "Qualifications", "任职要求");
* no label otherwise (responsibilities mix duties with context; text before any heading is
  anything).

The labels are noisy by construction (a requirements list also says "You will love our
team"), which is why they are mixed with synthetic sentences and why the filter's threshold
is chosen on real labelled sentences, not on these.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from skillmap.io import atomic_write
from skillmap.segmentation import CONTENT_KINDS, segment_ad

SKILL_FREE_SECTIONS = ("company", "benefits", "apply", "legal")
SKILL_SECTIONS = ("requirements",)
BOILERPLATE_MIN_POSTINGS = 3


@dataclass(frozen=True)
class WeakLabel:
    posting: str
    line: int            # position of the segment in its posting
    text: str
    skill: int           # 1 states a skill, 0 does not
    section: str
    rule: str            # which labelling function decided

    def to_json(self) -> dict:
        return {"posting": self.posting, "line": self.line, "text": self.text,
                "skill": self.skill, "section": self.section, "rule": self.rule}


def weak_labels(postings: Iterable[tuple[str, str]],
                boilerplate_min: int = BOILERPLATE_MIN_POSTINGS) -> list[WeakLabel]:
    """Labels for the segments of ``postings`` (``(id, text)`` pairs) that a rule decides."""
    segmented = [(posting_id, segment_ad(text)) for posting_id, text in postings]
    seen_in = Counter(text for _, segments in segmented for text in {s.text for s in segments})
    labels = []
    for posting_id, segments in segmented:
        for position, seg in enumerate(segments):
            decided = _label(seg.kind, seg.section, seen_in[seg.text] >= boilerplate_min)
            if decided is not None:
                labels.append(WeakLabel(posting_id, position, seg.text, decided[0],
                                        seg.section, decided[1]))
    return labels


def _label(kind: str, section: str, repeated: bool) -> tuple[int, str] | None:
    if kind not in CONTENT_KINDS:
        return 0, f"kind:{kind}"
    if section in SKILL_FREE_SECTIONS:
        return 0, f"section:{section}"
    if repeated:
        return 0, "boilerplate"
    if section in SKILL_SECTIONS:
        return 1, f"section:{section}"
    return None


def write_labels(labels: Sequence[WeakLabel], out: str | Path) -> Counter:
    """Write labels as JSONL (the format ``skillmap generate labels`` writes); counts per
    rule and label."""
    counts: Counter = Counter()
    with atomic_write(out) as handle:
        for label in labels:
            handle.write(json.dumps(label.to_json(), ensure_ascii=False) + "\n")
            counts[(label.rule, label.skill)] += 1
    return counts
