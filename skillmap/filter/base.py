"""The interface every skill-sentence filter implements, and the folder format they share.

A filter scores each sentence with the probability that it states a skill, and keeps the
sentences scoring at or above its *threshold* (chosen on held-out data, see
:mod:`skillmap.filter.calibration`, overridable per call). Retrieval always returns its top k,
so a sentence about the company's pension scheme would otherwise produce false skills.

A saved filter is a folder: ``filter.json`` (kind, threshold, calibration, training card)
next to the kind's weights in safetensors. :func:`load_filter` reads the kind and hands the
folder to the right class, so the pipeline never needs to know which kind it runs.
"""

from __future__ import annotations

import hashlib
import json
import os
from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar, Sequence

import numpy as np

from skillmap.errors import SkillmapError

FILTER_FILE = "filter.json"
#: the filters ``skillmap train filter`` can train (``--kind``)
TRAINABLE_KINDS = ("transformer", "embedding-logistic")
#: how the transformer filter trains its backbone: LoRA adapters or every weight
BACKBONE_MODES = ("lora", "full")


class SentenceFilter(ABC):
    """Scores sentences with P(states a skill); keeps those at or above ``threshold``."""

    kind: ClassVar[str]
    #: the encoder whose embeddings this filter reads (then the pipeline passes its vectors)
    encoder_model_id: str | None = None

    def __init__(self, threshold: float = 0.5, card: dict | None = None):
        self.threshold = float(threshold)
        self.card = dict(card or {})

    @abstractmethod
    def predict_proba(self, sentences: Sequence[str], embeddings: np.ndarray | None = None,
                      contexts: Sequence[tuple[str, str]] | None = None) -> np.ndarray:
        """P(the sentence states a skill) per sentence, as a float array.

        ``contexts``: each sentence's ``(kind, section)`` in its ad
        (:mod:`skillmap.segmentation.structure`), for filters that use them; None for
        sentences seen alone."""

    def keep(self, sentences: Sequence[str], threshold: float | None = None,
             embeddings: np.ndarray | None = None,
             contexts: Sequence[tuple[str, str]] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(scores, mask)``: the mask is True for the sentences that go on to retrieval."""
        scores = self.predict_proba(sentences, embeddings=embeddings, contexts=contexts)
        cut = self.threshold if threshold is None else threshold
        return scores, scores >= cut

    # ----------------------------------------------------------------- persistence
    def save(self, folder: str | os.PathLike) -> Path:
        """Write the filter folder atomically (a crash leaves any previous folder intact)."""
        from skillmap.io import atomic_directory

        folder = Path(folder)
        with atomic_directory(folder, holds=FILTER_FILE) as tmp:
            extra = self._save_weights(tmp)
            manifest = {"kind": self.kind, "threshold": self.threshold, **extra,
                        "card": self.card}
            (tmp / FILTER_FILE).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        return folder

    @abstractmethod
    def _save_weights(self, folder: Path) -> dict:
        """Write the weights into ``folder``; return what ``filter.json`` must record."""

    @classmethod
    @abstractmethod
    def _from_folder(cls, folder: Path, manifest: dict,
                     allow_pickle: bool | None = None) -> "SentenceFilter":
        """Rebuild the filter from a folder written by :meth:`save` (weights from
        safetensors only unless ``allow_pickle``; see :mod:`skillmap.security`)."""

    @property
    def fingerprint(self) -> str:
        """Identifies the filter's weights and threshold (batch resume refuses a change)."""
        digest = hashlib.sha256(f"{self.kind}|{self.threshold}|{self.name}".encode())
        digest.update(self._fingerprint_bytes())
        return digest.hexdigest()[:16]

    def _fingerprint_bytes(self) -> bytes:
        """What identifies this filter's weights beyond its kind, threshold and name."""
        return b""

    @property
    def name(self) -> str:
        return self.card.get("name", self.kind)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, threshold={self.threshold:.3f})"


def _registry() -> dict[str, type[SentenceFilter]]:
    from skillmap.filter.embedding_filter import EmbeddingLogisticFilter
    from skillmap.filter.heuristic import KeywordLengthFilter
    from skillmap.filter.structured_filter import StructuredFilter
    from skillmap.filter.transformer_filter import TransformerFilter

    return {cls.kind: cls for cls in (TransformerFilter, EmbeddingLogisticFilter,
                                      KeywordLengthFilter, StructuredFilter)}


def load_filter(folder: str | os.PathLike, allow_pickle: bool | None = None) -> SentenceFilter:
    """Load any saved filter folder; one-line errors for a missing, foreign or malformed
    folder. ``filter.json`` is untrusted data: paths it names must stay inside the folder
    and weights load from safetensors only unless ``allow_pickle`` (:mod:`skillmap.security`).
    """
    folder = Path(folder).expanduser()
    manifest_path = folder / FILTER_FILE
    if not manifest_path.is_file():
        raise SkillmapError(f"{folder}: not a skillmap filter folder (no {FILTER_FILE}); "
                            "train one with `skillmap train filter`")
    from skillmap import bounded

    bounded.check_folder(folder, "filter folder")
    manifest = bounded.read_json(folder, FILTER_FILE, "filter manifest")
    try:
        kind = manifest["kind"]
    except (KeyError, TypeError) as exc:
        raise SkillmapError(f"{manifest_path}: unreadable ({exc})") from None
    kinds = _registry()
    if not isinstance(kind, str) or kind not in kinds:
        raise SkillmapError(f"{manifest_path}: unknown filter kind {kind!r} "
                            f"(known: {', '.join(sorted(kinds))})")
    threshold = manifest.get("threshold")
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) \
            or not 0.0 <= threshold <= 1.0:
        raise SkillmapError(f"{manifest_path}: threshold must be a number from 0 to 1, got "
                            f"{threshold!r}")
    try:
        return kinds[kind]._from_folder(folder, manifest, allow_pickle=allow_pickle)
    except (KeyError, TypeError) as exc:
        raise SkillmapError(f"{manifest_path}: malformed ({type(exc).__name__}: {exc})") from None
