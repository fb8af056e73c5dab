"""A filter that reads a sentence in its ad: a text filter, the ad's sections, and scores
calibrated on real sentences.

A text-only filter sees "Free yoga and a gym discount" alone; the ad says it is under "What we
offer". :class:`StructuredFilter` wraps any text filter (the *inner* one) and adds two things:

* **sections**: a content sentence in a section that states no skills (about the company,
  benefits, how to apply, legal text; :mod:`skillmap.segmentation.structure`) scores 0, so it
  is not searched (the pipeline's named-skill rule still lets "Danish is a plus" through);
* **calibration on real sentences**: the inner filter learned from synthetic sentences and its
  raw score is over-confident on real ones (almost every real line scores 0.99 or 0.01). An
  isotonic regression fitted on real labelled sentences (the calibration half of SkillSpan
  dev, :func:`fit_calibration`) maps it to the share of real sentences at that score that
  state a skill. Thresholds then mean what they say, and the pipeline can rank an ad's skills
  by how sure it is that their evidence sentence states a skill.

Two thresholds come out of that calibration: ``threshold`` (below it a sentence is not
searched: chosen for a recall target, so real skill sentences are rarely lost) and
``evidence_threshold`` (a skill is listed for the ad only if its best evidence sentence
scores at least this: where a real sentence becomes more likely to state a skill than not).

The folder holds ``filter.json`` and the inner filter's own folder (``inner/``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

from skillmap.errors import SkillmapError
from skillmap.filter.base import SentenceFilter, load_filter

SKILL_FREE_SECTIONS = ("company", "benefits", "apply", "legal")
INNER_DIR = "inner"


class StructuredFilter(SentenceFilter):
    """An inner text filter + section rule + isotonic calibration on real sentences."""

    kind = "structured"

    def __init__(self, inner: SentenceFilter, threshold: float = 0.5,
                 skill_free_sections: Sequence[str] = SKILL_FREE_SECTIONS,
                 calibration: tuple[Sequence[float], Sequence[float]] | None = None,
                 evidence_threshold: float | None = None, card: dict | None = None):
        super().__init__(threshold, card)
        if isinstance(inner, StructuredFilter):
            raise SkillmapError("a structured filter wraps a text filter, not another one")
        self.inner = inner
        self.skill_free_sections = tuple(skill_free_sections)
        self.calibration = None if calibration is None else (
            np.asarray(calibration[0], dtype=float), np.asarray(calibration[1], dtype=float))
        self.evidence_threshold = evidence_threshold
        self.encoder_model_id = inner.encoder_model_id

    def text_scores(self, sentences: Sequence[str], embeddings: np.ndarray | None = None
                    ) -> np.ndarray:
        """The inner filter's scores mapped through the calibration (no section rule)."""
        raw = self.inner.predict_proba(sentences, embeddings=embeddings)
        if self.calibration is None:
            return raw.astype(np.float32)
        points, values = self.calibration
        return np.interp(raw, points, values).astype(np.float32)

    def predict_proba(self, sentences: Sequence[str], embeddings: np.ndarray | None = None,
                      contexts: Sequence[tuple[str, str]] | None = None) -> np.ndarray:
        """Calibrated scores; 0 for a sentence in a skill-free section, which the classifier
        does not read (its forward pass is most of the filter's cost)."""
        scores = np.zeros(len(sentences), dtype=np.float32)
        read = [i for i in range(len(sentences)) if contexts is None
                or contexts[i][1] not in self.skill_free_sections]
        if read:
            scores[read] = self.text_scores([sentences[i] for i in read],
                                            None if embeddings is None else embeddings[read])
        return scores

    # ----------------------------------------------------------------- persistence
    def _save_weights(self, folder: Path) -> dict:
        self.inner.save(folder / INNER_DIR)
        return {"inner": INNER_DIR, "skill_free_sections": list(self.skill_free_sections),
                "calibration": None if self.calibration is None else
                {"points": self.calibration[0].tolist(), "values": self.calibration[1].tolist()},
                "evidence_threshold": self.evidence_threshold}

    @classmethod
    def _from_folder(cls, folder: Path, manifest: dict,
                     allow_pickle: bool | None = None) -> "StructuredFilter":
        from skillmap.security import resolve_inside

        inner_dir = resolve_inside(folder, str(manifest["inner"]), "inner filter")
        inner = load_filter(inner_dir, allow_pickle=allow_pickle)
        calibration = manifest.get("calibration")
        if calibration is not None:
            points, values = calibration["points"], calibration["values"]
            if (not isinstance(points, list) or not isinstance(values, list)
                    or len(points) != len(values) or not points
                    or any(not isinstance(v, (int, float)) for v in points + values)):
                raise SkillmapError(f"{folder}: calibration must be two equal lists of numbers")
            calibration = (points, values)
        evidence = manifest.get("evidence_threshold")
        if evidence is not None and not (isinstance(evidence, (int, float))
                                         and 0.0 <= evidence <= 1.0):
            raise SkillmapError(f"{folder}: evidence_threshold must be a number from 0 to 1")
        return cls(inner, threshold=float(manifest["threshold"]),
                   skill_free_sections=[str(s) for s in manifest.get(
                       "skill_free_sections", SKILL_FREE_SECTIONS)],
                   calibration=calibration, evidence_threshold=evidence,
                   card=manifest.get("card"))

    def _fingerprint_bytes(self) -> bytes:
        calibration = b"" if self.calibration is None else (
            self.calibration[0].tobytes() + self.calibration[1].tobytes())
        return (self.inner.fingerprint.encode() + "|".join(self.skill_free_sections).encode()
                + calibration + repr(self.evidence_threshold).encode())


def fit_calibration(raw_scores: Sequence[float], labels: Sequence[int]
                    ) -> tuple[list[float], list[float]]:
    """Isotonic regression of gold labels on raw scores: its breakpoints ``(points,
    values)``, for :func:`numpy.interp`."""
    from sklearn.isotonic import IsotonicRegression

    if len(set(int(y) for y in labels)) < 2:
        raise SkillmapError("calibration needs real sentences of both classes")
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip", increasing=True)
    iso.fit(np.asarray(raw_scores, dtype=float), np.asarray(labels, dtype=float))
    return iso.X_thresholds_.tolist(), iso.y_thresholds_.tolist()


def evidence_threshold_for(scores: Sequence[float], labels: Sequence[int],
                           share: float = 0.5) -> float:
    """The lowest calibrated score at which real sentences state a skill at least ``share``
    of the time (with isotonic scores, the score itself is that share)."""
    scores = np.asarray(scores, dtype=float)
    above = np.unique(scores[scores >= share])
    return float(above[0]) if len(above) else float(scores.max(initial=1.0))


def wrap(inner: SentenceFilter | str | os.PathLike) -> StructuredFilter:
    """``inner`` (a filter or folder) as a structured filter; a structured one is returned as
    it is."""
    if not isinstance(inner, SentenceFilter):
        inner = load_filter(inner)
    if isinstance(inner, StructuredFilter):
        return inner
    return StructuredFilter(inner, threshold=inner.threshold,
                            card={"name": f"{inner.name} + ad structure"})


def calibrate_on_ads(screen: StructuredFilter, ads: Sequence[tuple[Sequence, Sequence[bool]]],
                     target: str = "recall:0.97", evidence_share: float = 0.5,
                     source: str = "") -> dict:
    """Fit ``screen``'s calibration and thresholds on real ads with gold sentence labels.

    ``ads``: per ad, its segments (:func:`skillmap.segmentation.segment_ad`) and for each one
    whether it states a skill. The isotonic map is fitted on the content sentences outside
    the skill-free sections; the recall target counts *every* gold skill segment of the ads,
    so what the structure step and the section rule lose is charged to the threshold too.
    Returns the report recorded in the card.
    """
    from skillmap.filter.calibration import parse_target

    name, goal = parse_target(target)
    if name != "recall":
        raise SkillmapError("calibrating on real ads takes a recall target, e.g. recall:0.97")
    texts, labels, total_gold = _screened_sentences(screen, ads)
    raw = screen.inner.predict_proba(texts)
    screen.calibration = tuple(np.asarray(v) for v in fit_calibration(raw, labels))
    scores = screen.text_scores(texts)
    labels_array = np.asarray(labels)
    # the highest threshold whose kept skill sentences still reach the recall goal overall
    candidates = np.unique(scores)[::-1]
    chosen = float(candidates[-1])
    for threshold in candidates:
        kept = int(((scores >= threshold) & (labels_array == 1)).sum())
        if kept / total_gold >= goal:
            chosen = float(threshold)
            break
    screen.threshold = chosen
    screen.evidence_threshold = evidence_threshold_for(scores, labels, evidence_share)
    report = real_ads_report(screen, ads, scores)
    screen.card.setdefault("calibrations", []).append(
        {"source": source, "target": target, "threshold": chosen,
         "evidence_threshold": screen.evidence_threshold, "report": report})
    screen.card["calibration"] = screen.card["calibrations"][-1]
    return report


def _screened_sentences(screen: StructuredFilter, ads) -> tuple[list[str], list[int], int]:
    """The content sentences outside skill-free sections, their gold labels, and how many
    gold skill segments the ads hold in all."""
    from skillmap.segmentation import CONTENT_KINDS

    texts, labels, total_gold = [], [], 0
    for segments, gold in ads:
        total_gold += sum(bool(g) for g in gold)
        for seg, is_skill in zip(segments, gold):
            if seg.kind in CONTENT_KINDS and seg.section not in screen.skill_free_sections:
                texts.append(seg.text)
                labels.append(int(bool(is_skill)))
    if not texts or total_gold == 0:
        raise SkillmapError("no labelled real sentences to calibrate on")
    return texts, labels, total_gold


def real_ads_report(screen: StructuredFilter, ads, scores: Sequence[float] | None = None
                    ) -> dict:
    """Precision, recall, F1 and ROC-AUC of ``screen`` on the screened sentences of real ads
    (``ads`` as for :func:`calibrate_on_ads`), and its recall of every gold skill segment
    (what structure and the section rule drop counts as missed)."""
    from skillmap.filter.calibration import classification_report

    texts, labels, total_gold = _screened_sentences(screen, ads)
    scores = np.asarray(screen.text_scores(texts) if scores is None else scores)
    report = classification_report(scores, labels, screen.threshold)
    kept = int(((scores >= screen.threshold) & (np.asarray(labels) == 1)).sum())
    report["recall_of_all_skill_segments"] = kept / total_gold
    report["skill_segments"] = total_gold
    return report
