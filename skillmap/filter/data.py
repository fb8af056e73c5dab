"""Labelled sentences for the filter, read from synthetic corpora.

Positives are the skill sentences (modes ``single``, ``constrained``, ``unconstrained``),
negatives the ``negatives`` mode. A corpus usually holds many more positives than negatives,
so positives are subsampled (seeded) to at most ``positive_ratio`` per negative; the held-out
split is by sentence hash (:func:`skillmap.corpus.in_heldout`), so it is the same
in every run.

Real ads also state skills as bare fragments — a bullet "SQL", a line "python, docker,
kubernetes" — which generated sentences never are. With a taxonomy, ``fragment_share`` of
the positives are such fragments built from skill labels and alternative labels (one to
four skills of one Level-2 group, some lower-cased, some in Title Case), so the filter does
not learn "short = no skill" or "a bare Title Case line = no skill".
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from skillmap.corpus import in_heldout, read_corpus
from skillmap.errors import SkillmapError
from skillmap.io import read_jsonl
from skillmap.taxonomy import Taxonomy

POSITIVE_MODES = ("single", "constrained", "unconstrained")
NEGATIVE_MODES = ("negatives",)


@dataclass
class FilterData:
    """Sentences and labels (1 = states a skill), split into train and held-out."""

    train_texts: list[str] = field(default_factory=list)
    train_labels: list[int] = field(default_factory=list)
    heldout_texts: list[str] = field(default_factory=list)
    heldout_labels: list[int] = field(default_factory=list)
    counts: dict = field(default_factory=dict)


def load_filter_data(corpora: Sequence[str | Path], heldout_fraction: float = 0.1,
                     positive_ratio: float = 1.0, seed: int = 0,
                     max_examples: int | None = None, taxonomy: Taxonomy | None = None,
                     fragment_share: float = 0.0, mixed_share: float = 0.0,
                     labelled: Sequence[str | Path] = (), labelled_repeat: int = 1
                     ) -> FilterData:
    """Read, de-duplicate, balance and split the corpora's sentences (module docstring).

    ``labelled``: files of real ad lines with labels (``skillmap train weak-labels`` or
    ``skillmap generate labels``), added after balancing; their training-side lines are
    repeated ``labelled_repeat`` times, since a few thousand real lines would otherwise be
    drowned by tens of thousands of synthetic ones.
    """
    if not 0.0 <= fragment_share < 1.0:
        raise SkillmapError(f"fragment share must be in [0, 1), got {fragment_share}")
    if not 0.0 <= mixed_share < 1.0 - fragment_share:
        raise SkillmapError(f"mixed share must be in [0, 1 - fragment share), got {mixed_share}")
    if fragment_share and taxonomy is None:
        raise SkillmapError("skill-label fragments need the taxonomy (--taxonomy)")
    positives, negatives = _read(corpora)
    if not negatives:
        raise SkillmapError("the corpus has no negatives: generate some with "
                            "`skillmap generate corpus --mode negatives` (they teach the filter what a "
                            "sentence without a skill looks like)")
    if not positives:
        raise SkillmapError("the corpus has no skill sentences (modes single, constrained, "
                            "unconstrained)")
    rng = random.Random(seed)
    available = len(positives)
    if positive_ratio > 0 and len(positives) > positive_ratio * len(negatives):
        positives = rng.sample(positives, int(positive_ratio * len(negatives)))
    sentences = positives
    fragments: list[str] = []
    if fragment_share:
        wanted = int(len(positives) * fragment_share)
        fragments = skill_fragments(taxonomy, wanted, rng, exclude=set(negatives))
        sentences = rng.sample(positives, len(positives) - len(fragments))
    mixed: list[str] = []
    if mixed_share:
        # only training-side negatives go into mixtures: the held-out split stays unseen
        pool = [t for t in negatives if not in_heldout(t, heldout_fraction)]
        chosen = sorted(rng.sample(range(len(sentences)),
                                   min(int(len(positives) * mixed_share), len(sentences))))
        for i in chosen:
            sentences[i] = mix_with_context(sentences[i], rng.choice(pool), rng)
        mixed = [sentences[i] for i in chosen]
    positives = sentences + fragments
    examples = [(t, 1) for t in positives] + [(t, 0) for t in negatives]
    rng.shuffle(examples)
    if max_examples:
        examples = examples[:max_examples]
    real = read_labelled_lines(labelled)
    data = FilterData()
    for text, label, repeat in ([(t, y, 1) for t, y in examples]
                                + [(t, y, labelled_repeat) for t, y in real]):
        if in_heldout(text, heldout_fraction):
            data.heldout_texts.append(text)
            data.heldout_labels.append(label)
        else:
            data.train_texts.extend([text] * repeat)
            data.train_labels.extend([label] * repeat)
    if real:
        order = list(range(len(data.train_texts)))
        rng.shuffle(order)
        data.train_texts = [data.train_texts[i] for i in order]
        data.train_labels = [data.train_labels[i] for i in order]
    data.counts = {"positives_available": available, "negatives": len(negatives),
                   "positives_used": len(positives), "fragments": len(fragments),
                   "mixed": len(mixed), "real_lines": len(real),
                   "real_skill_lines": sum(y for _, y in real), "train": len(data.train_texts),
                   "heldout": len(data.heldout_texts)}
    return data


def read_labelled_lines(paths: Sequence[str | Path]) -> list[tuple[str, int]]:
    """Distinct ``(text, label)`` pairs of label files (JSONL lines with ``text`` and
    ``skill``); a line labelled both ways is dropped."""
    labels: dict[str, set[int]] = {}
    for path in paths:
        for text, label in read_jsonl(path, "label line",
                                      lambda row: (str(row["text"]).strip(),
                                                   int(row["skill"]) > 0)):
            labels.setdefault(text, set()).add(label)
    return [(text, int(next(iter(seen)))) for text, seen in labels.items()
            if len(seen) == 1 and text]


def load_labelled_sentences(corpora: Sequence[str | Path]) -> tuple[list[str], list[int]]:
    """Every distinct sentence of the corpora with its label (1 = a skill sentence), unbalanced
    and unsplit: the data a threshold is re-calibrated on (:func:`recalibrate_filter`)."""
    positives, negatives = _read(corpora)
    if not positives or not negatives:
        raise SkillmapError("calibration needs skill sentences and negatives: generate both "
                            "(`skillmap generate corpus --mode single --mode negatives`)")
    return positives + negatives, [1] * len(positives) + [0] * len(negatives)


def _read(corpora: Iterable[str | Path]) -> tuple[list[str], list[str]]:
    positives: dict[str, None] = {}
    negatives: dict[str, None] = {}
    for corpus in corpora:
        for record in read_corpus(corpus):
            text = record.text.strip()
            if record.mode in NEGATIVE_MODES:
                negatives[text] = None
            elif record.mode in POSITIVE_MODES:
                positives[text] = None
    both = positives.keys() & negatives.keys()  # contradictory labels: trust neither
    return ([t for t in positives if t not in both], [t for t in negatives if t not in both])


def skill_fragments(taxonomy: Taxonomy, count: int, rng: random.Random,
                    exclude: set[str] = frozenset()) -> list[str]:
    """``count`` distinct bare skill mentions: "SQL", "- manage budgets", "python, docker"."""
    skills = list(taxonomy.skills)
    fragments: dict[str, None] = {}
    for _ in range(20 * count):
        if len(fragments) >= count:
            break
        first = rng.choice(skills)
        group = taxonomy.level2(first.id)
        pool = taxonomy.skills_in_group(group.id) if group else skills
        chosen = [first] + rng.sample(pool, min(rng.choice((0, 0, 1, 2, 3)), len(pool)))
        names = [rng.choice((s.label, *s.alt_labels)) for s in dict.fromkeys(chosen)]
        names = [name for name in names if len(name.split()) <= 6]  # a bullet, not a clause
        if not names:
            continue
        text = rng.choice((", ", " / ", "; ")).join(names)
        casing = rng.random()
        if casing < 0.3:
            text = text.lower()
        elif casing < 0.6:
            text = title_case(text)
        if rng.random() < 0.2:
            text = "- " + text
        if text.strip() and text not in exclude:
            fragments[text] = None
    return list(fragments)


def mix_with_context(skill_sentence: str, context: str, rng: random.Random) -> str:
    """One line that states a skill amid skill-free context, still a positive.

    Real sentences mix the two ("experience with SAP, which our finance team has run since
    2010"; a segmenter glues "We offer a pension. You will manage payroll."). Pure positives next to
    pure negatives teach "context words = no skill"; these mixtures say the skill decides.
    """
    if rng.random() < 0.5:
        return f"{context} {skill_sentence}"
    joiner = rng.choice(("; ", ", and ", " - ", ", "))
    return skill_sentence.rstrip(". ") + joiner + context[:1].lower() + context[1:]


def title_case(text: str) -> str:
    """"financial services, SQL" -> "Financial Services, SQL": headline style, as ads list
    industries and tools. Without it every bare Title Case line a filter sees in training is
    a negative (job titles, company names, section headings), and it learns casing, not skills.
    """
    return " ".join(word[:1].upper() + word[1:] for word in text.split(" "))
