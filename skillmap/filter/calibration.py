"""Choosing a filter's threshold on held-out data, and scoring a filter against gold labels.

The threshold is a product decision, not a training by-product: an analyst who wants no
skill sentence lost asks for high recall, one who wants clean output asks for precision.
``target`` names the goal: ``"f1"`` (the threshold with the best F1), ``"precision:0.9"``
(the lowest threshold reaching that precision, i.e. the most recall at it) or
``"recall:0.97"`` (the highest threshold keeping that recall, i.e. the most precision at it).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np
from sklearn.metrics import precision_recall_curve, roc_auc_score

from skillmap.errors import SkillmapError


@dataclass
class Calibration:
    """A chosen threshold and what it achieved on the data it was chosen on."""

    target: str
    threshold: float
    precision: float
    recall: float
    f1: float
    n: int

    def to_dict(self) -> dict:
        return asdict(self)


def parse_target(target: str) -> tuple[str, float | None]:
    """``"f1"`` -> ("f1", None); ``"precision:0.9"`` -> ("precision", 0.9); else an error."""
    name, _, value = target.partition(":")
    name = name.strip().lower()
    if name == "f1" and not value:
        return "f1", None
    if name in ("precision", "recall"):
        try:
            goal = float(value)
        except ValueError:
            goal = -1.0
        if 0.0 < goal <= 1.0:
            return name, goal
    raise SkillmapError(f"calibration target must be 'f1', 'precision:P' or 'recall:R' with "
                        f"0 < P, R <= 1, got {target!r}")


def calibrate(scores: Sequence[float], labels: Sequence[int], target: str = "f1") -> Calibration:
    """The threshold on ``scores`` that best meets ``target`` for the gold ``labels``."""
    name, goal = parse_target(target)
    scores, labels = np.asarray(scores, dtype=float), np.asarray(labels, dtype=int)
    if len(set(labels.tolist())) < 2:
        raise SkillmapError("calibration needs held-out sentences of both classes")
    precision, recall, thresholds = precision_recall_curve(labels, scores)
    # the last (precision 1, recall 0) point has no threshold
    precision, recall = precision[:-1], recall[:-1]
    f1 = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(
        precision + recall, 1e-12), 0.0)
    if name == "f1":
        best = int(np.argmax(f1))
    elif name == "precision":
        reaching = np.flatnonzero(precision >= goal)
        # unreachable: the most precise threshold there is
        best = int(reaching[0]) if len(reaching) else int(np.argmax(precision))
    else:
        reaching = np.flatnonzero(recall >= goal)
        best = int(reaching[-1]) if len(reaching) else 0
    return Calibration(target=target, threshold=float(thresholds[best]),
                       precision=float(precision[best]), recall=float(recall[best]),
                       f1=float(f1[best]), n=len(labels))


def classification_report(scores: Sequence[float], labels: Sequence[int],
                          threshold: float) -> dict:
    """Precision, recall, F1 of the positive class at ``threshold``, ROC-AUC of the scores,
    and the share of sentences kept."""
    scores, labels = np.asarray(scores, dtype=float), np.asarray(labels, dtype=int)
    kept = scores >= threshold
    true_positive = int((kept & (labels == 1)).sum())
    precision = true_positive / max(int(kept.sum()), 1)
    recall = true_positive / max(int((labels == 1).sum()), 1)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    both = len(set(labels.tolist())) == 2
    return {"precision": precision, "recall": recall, "f1": f1,
            "roc_auc": float(roc_auc_score(labels, scores)) if both else float("nan"),
            "accuracy": float((kept == (labels == 1)).mean()) if len(labels) else float("nan"),
            "kept": float(kept.mean()) if len(labels) else float("nan"),
            "threshold": float(threshold), "n": int(len(labels)),
            "positives": int((labels == 1).sum())}
