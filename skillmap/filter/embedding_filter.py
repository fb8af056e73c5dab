"""The cheap filter: logistic regression on frozen sentence embeddings.

For CPU-only users: training is a minute of encoding plus scikit-learn, and at extraction
time it costs almost nothing when it reads the embeddings the pipeline computes anyway (the
same encoder as the index). It is also the baseline the fine-tuned classifier must beat.

The coefficients are stored in safetensors (no pickle): a saved folder cannot run code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
from safetensors.numpy import load_file, save_file
from sklearn.linear_model import LogisticRegression

from skillmap.errors import SkillmapError
from skillmap.filter.base import SentenceFilter

WEIGHTS_FILE = "logistic.safetensors"


class EmbeddingLogisticFilter(SentenceFilter):
    """``LogisticRegression`` over the embeddings of a :class:`~skillmap.encoder.SkillEncoder`."""

    kind = "embedding-logistic"

    def __init__(self, encoder_model: str | None = None, classifier: LogisticRegression | None = None,
                 threshold: float = 0.5, card: dict | None = None, regularisation: float = 1.0):
        super().__init__(threshold, card)
        from skillmap.encoder.skill_encoder import resolve_model

        self.encoder_model_id = resolve_model(encoder_model)[0]
        self.classifier = classifier or LogisticRegression(
            C=regularisation, class_weight="balanced", max_iter=2000)
        self._encoder = None

    @property
    def encoder(self):
        if self._encoder is None:
            from skillmap.encoder import SkillEncoder

            self._encoder = SkillEncoder.cached(self.encoder_model_id)
        return self._encoder

    def embed(self, sentences: Sequence[str], show_progress: bool = False) -> np.ndarray:
        return self.encoder.encode(list(sentences), show_progress=show_progress)

    def fit(self, sentences: Sequence[str], labels: Sequence[int],
            embeddings: np.ndarray | None = None, show_progress: bool = False
            ) -> "EmbeddingLogisticFilter":
        """Fit on labelled sentences (1 = states a skill)."""
        features = embeddings if embeddings is not None else self.embed(sentences, show_progress)
        self.classifier.fit(features, np.asarray(labels, dtype=int))
        return self

    def predict_proba(self, sentences: Sequence[str], embeddings: np.ndarray | None = None,
                      contexts: Sequence[tuple[str, str]] | None = None) -> np.ndarray:
        if not len(sentences):
            return np.zeros(0, dtype=np.float32)
        if not hasattr(self.classifier, "coef_"):
            raise SkillmapError("this filter is not trained yet (fit it first)")
        features = embeddings if embeddings is not None else self.embed(sentences)
        positive = list(self.classifier.classes_).index(1)
        return self.classifier.predict_proba(features)[:, positive].astype(np.float32)

    def _save_weights(self, folder: Path) -> dict:
        save_file({"coef": np.ascontiguousarray(self.classifier.coef_, dtype=np.float64),
                   "intercept": np.ascontiguousarray(self.classifier.intercept_,
                                                     dtype=np.float64)},
                  str(folder / WEIGHTS_FILE))
        return {"encoder": self.encoder_model_id, "weights": WEIGHTS_FILE}

    @classmethod
    def _from_folder(cls, folder: Path, manifest: dict,
                     allow_pickle: bool | None = None) -> "EmbeddingLogisticFilter":
        from safetensors import SafetensorError

        from skillmap.security import resolve_inside

        weights = resolve_inside(folder, manifest.get("weights", WEIGHTS_FILE),
                                 f"{folder / 'filter.json'} weights")
        try:
            tensors = load_file(str(weights))
            coef, intercept = tensors["coef"], tensors["intercept"]
        except (OSError, KeyError, SafetensorError) as exc:
            raise SkillmapError(f"{weights}: unreadable filter weights ({exc})") from None
        if coef.ndim != 2 or coef.shape[0] != 1 or intercept.shape != (1,):
            raise SkillmapError(f"{weights}: filter weights of the wrong shape {coef.shape}")
        classifier = LogisticRegression()
        classifier.coef_, classifier.intercept_ = coef, intercept
        classifier.classes_ = np.array([0, 1])
        return cls(manifest["encoder"], classifier, threshold=manifest["threshold"],
                   card=manifest.get("card"))

    def _fingerprint_bytes(self) -> bytes:
        return self.encoder_model_id.encode() + np.asarray(
            self.classifier.coef_, dtype=np.float64).tobytes()
