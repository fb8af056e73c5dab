"""Per-ad evaluation on real postings: is the skill list an analyst reads made of real skills?

Sentence-level benchmarks only hold sentences that state a skill, so they cannot see what a
whole ad adds: headings, metadata, company blurbs and benefits, each of which retrieval turns
into skills. SkillSpan postings (:mod:`~skillmap.evaluation.skillspan`) tag every sentence of
real ads with skill and knowledge spans, which is enough to judge the *evidence* of every skill
the pipeline lists, with no ESCO link needed:

* **evidence precision@k**: of an ad's top-k skills (fewer when the list is shorter), the share
  whose evidence sentence has a skill or knowledge span;
* **noise skills per ad**: how many of the top-k skills have a no-skill evidence sentence;
* **coverage**: the share of an ad's skill sentences that are evidence for at least one listed
  skill (a pipeline that lists nothing is precise but useless);
* **list length**: how many skills an ad gets;
* the **filter's** precision and recall on the real sentences: a segment is *kept* when it was
  searched (neither structure nor filter dropped it); gold is whether any line it covers has a
  span.

Postings are rebuilt one line per gold sentence, so every segment the pipeline makes maps back
to the gold lines it covers. :func:`split_postings` halves a posting file by posting id (a
stable hash, so every run and every model sees the same halves): choose on one half, report on
the other.
"""

from __future__ import annotations

import bisect
import hashlib
import time
from dataclasses import asdict, dataclass, field
from typing import Sequence

from skillmap.evaluation.skillspan import Posting

EVIDENCE_KS = (5, 10)
SPLITS = ("calibration", "report", "all")


def split_postings(postings: Sequence[Posting], split: str) -> list[Posting]:
    """The ``calibration`` or ``report`` half of ``postings`` (by a hash of the posting id and
    its source, so both halves hold tech and house ads), or ``all``."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    if split == "all":
        return list(postings)
    wanted = 0 if split == "calibration" else 1
    return [p for p in postings
            if hashlib.sha256(f"{p.source}|{p.id}".encode()).digest()[0] % 2 == wanted]


def segment_gold(posting: Posting, start: int, end: int) -> bool:
    """Whether any gold line that characters ``start:end`` of the posting cover has a span."""
    first = max(bisect.bisect_right(posting.starts, start) - 1, 0)
    last = max(bisect.bisect_right(posting.starts, max(end - 1, start)) - 1, 0)
    return any(posting.sentences[i].has_skill for i in range(first, last + 1))


@dataclass
class PerAdReport:
    """What one configuration of the pipeline lists for a set of real postings."""

    system: str
    postings: int
    evidence_precision: dict[str, float]   # "@5", "@10" -> mean over ads with a list
    noise_skills_per_ad: float             # at the largest k
    coverage: float
    list_length: float
    ads_without_skills: int
    filter_precision: float
    filter_recall: float
    sentences: int
    sentences_kept: int
    seconds: float
    ads_per_second: float
    per_ad: list[dict] = field(default_factory=list, repr=False)

    def to_dict(self, per_ad: bool = False) -> dict:
        data = asdict(self)
        if not per_ad:
            data.pop("per_ad")
        return data


def evaluate_postings(extractor, postings: Sequence[Posting], system: str,
                      ks: Sequence[int] = EVIDENCE_KS) -> PerAdReport:
    """Code every posting with ``extractor`` (whole pipeline) and score its skill lists."""
    if not postings:
        raise ValueError("no postings to evaluate")
    started = time.perf_counter()
    results = extractor.extract_many([p.text for p in postings], [p.id for p in postings])
    seconds = time.perf_counter() - started
    top = max(ks)
    precision = {k: [] for k in ks}
    noise, coverage, lengths, per_ad = [], [], [], []
    kept_gold = kept = gold_total = segments = 0
    for posting, result in zip(postings, results):
        gold = [segment_gold(posting, s.start, s.end) for s in result.sentences]
        searched = [s.coded for s in result.sentences]
        segments += len(gold)
        gold_total += sum(gold)
        kept += sum(searched)
        kept_gold += sum(g and k for g, k in zip(gold, searched))
        listed = result.skills[:top]
        good = [gold[m.evidence_index] for m in listed]
        lengths.append(len(listed))
        for k in ks:
            if listed[:k]:
                precision[k].append(sum(good[:k]) / len(good[:k]))
        noise.append(len(good) - sum(good))
        skill_segments = {i for i, g in enumerate(gold) if g}
        if skill_segments:
            evidence = {m.evidence_index for m in listed}
            coverage.append(len(skill_segments & evidence) / len(skill_segments))
        per_ad.append({"id": posting.id, "listed": len(listed), "noise": len(good) - sum(good),
                       "skill_sentences": len(skill_segments)})
    return PerAdReport(
        system=system, postings=len(postings),
        evidence_precision={f"@{k}": _mean(precision[k]) for k in ks},
        noise_skills_per_ad=_mean(noise), coverage=_mean(coverage), list_length=_mean(lengths),
        ads_without_skills=sum(1 for n in lengths if n == 0),
        filter_precision=kept_gold / kept if kept else 0.0,
        filter_recall=kept_gold / gold_total if gold_total else 0.0,
        sentences=segments, sentences_kept=kept, seconds=seconds,
        ads_per_second=len(postings) / seconds if seconds else float("inf"), per_ad=per_ad)


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def oracle_filter(postings: Sequence[Posting], segments):
    """A filter that keeps exactly the segments whose gold lines have a span: the upper bound
    of any filter (``segments(text)`` is the extractor's segmentation of a posting)."""
    from skillmap.filter.base import SentenceFilter

    positive = set()
    for posting in postings:
        for seg in segments(posting.text):
            if segment_gold(posting, seg.start, seg.end):
                positive.add(seg.text)

    class OracleFilter(SentenceFilter):
        kind = "oracle"

        def predict_proba(self, sentences, embeddings=None, contexts=None):
            import numpy as np

            return np.array([float(s in positive) for s in sentences], dtype=np.float32)

        def _save_weights(self, folder):
            raise NotImplementedError("the oracle knows the gold labels; it is not saved")

        @classmethod
        def _from_folder(cls, folder, manifest, allow_pickle=None):
            raise NotImplementedError

    return OracleFilter(threshold=0.5, card={"name": "oracle (gold span sentences)"})


def standard_systems(build, postings: Sequence[Posting]) -> list[tuple[str, object]]:
    """The configurations the per-ad benchmark compares, side by side, in one run.

    ``build(**overrides)`` makes an extractor from the user's options with the overrides. The
    systems: the pipeline as it was before ad structure (no filter, every sentence alone,
    interleaved), the keyword/length heuristic, the text filter that shipped before
    (``shipped``), the default, and the oracle that keeps only the gold span sentences.
    """
    no_structure = build(sentence_filter=None, structure=False, aggregation="interleave",
                         min_score=0.0)
    systems = [("no filter (sentences alone)", no_structure),
               ("keyword-length", build(sentence_filter="keyword-length")),
               ("shipped text filter", build(sentence_filter="shipped-text")),
               ("default", build())]
    oracle = oracle_filter(postings, systems[-1][1].segments)
    systems.append(("oracle (gold span sentences)",
                    build(sentence_filter=oracle, filter_keeps_named=False)))
    return systems
