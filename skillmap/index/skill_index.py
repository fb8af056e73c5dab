"""A faiss index over skill embeddings, saved with everything needed to use it safely.

An index folder is self-contained: ``index.faiss`` (the vectors), ``metadata.json`` (which
taxonomy, model and text template produced them) and ``taxonomy/`` (a native copy of the
taxonomy, so results can carry labels and groups without the original files). Loading
checks the files against the metadata, and :meth:`SkillIndex.check_encoder` refuses an
encoder whose dimension or actual weights (probe fingerprint) differ from the builder's.
An ONNX Runtime variant of the builder's model (float32 or int8, :mod:`skillmap.encoder.onnx`)
is accepted: it carries its source model's fingerprint, and its own probe must stay within
:data:`VARIANT_PROBE_MIN_COSINE` of it.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path

import faiss
import numpy as np

from skillmap.encoder.skill_encoder import SkillEncoder
from skillmap import bounded
from skillmap.errors import IndexMismatchError, SkillmapError, exception_line
from skillmap.index.ann import (apply_search_params, build_ann_index, normalise_kind,
                                read_index_file)
from skillmap.index.lexical import LabelMatcher, LabelOverlap
from skillmap.io import atomic_directory, file_sha256
from skillmap.security import resolve_inside
from skillmap.taxonomy import Taxonomy, load_taxonomy, write_taxonomy
from skillmap.taxonomy.skill_text import DEFAULT_TEMPLATE, check_template, skill_text

INDEX_FORMAT_VERSION = 1
METADATA_FILE = "metadata.json"  # every index folder has one
# sane ranges for numbers read from an index's metadata (an absurd one would be allocated)
MAX_DIMENSION = 65_536
MAX_COUNT = 1_000_000_000
PROBE_MIN_COSINE = 0.999
# How far an ONNX / int8 variant of the index's model may move the probe embedding (int8
# moves it a little, docs/benchmarks.md); the *identity* of the model is still
# checked at PROBE_MIN_COSINE, on the source fingerprint the variant carries.
VARIANT_PROBE_MIN_COSINE = 0.98


@dataclass
class IndexMetadata:
    """What an index was built from; compared on every use."""

    taxonomy_name: str
    taxonomy_version: str
    taxonomy_fingerprint: str
    model_id: str
    embedding_dim: int
    text_template: str
    n_skills: int
    faiss_type: str          # flat | hnsw | ivfpq (skillmap.index.ann)
    probe: list[float] = field(repr=False)
    format_version: int = INDEX_FORMAT_VERSION
    created_at: str = ""
    faiss_params: dict = field(default_factory=dict)  # search-time parameters, re-applied on load

    index_sha256: str = ""   # of index.faiss; checked on load (empty: written before it was)

    @classmethod
    def from_json(cls, path: Path) -> "IndexMetadata":
        """Read and type-check ``metadata.json``: every field, before anything uses one.

        The file is read as untrusted (:mod:`skillmap.bounded`: inside the folder, regular,
        size-capped)."""
        if not os.path.lexists(path):
            raise SkillmapError(f"{path.parent}: not a skillmap index (no metadata.json); "
                                "build one with `skillmap index build`")
        text = bounded.read_text(path.parent, path.name, "json", what="index metadata")
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise SkillmapError(f"{path}: corrupt index metadata ({exception_line(exc)})"
                                ) from None
        if not isinstance(data, dict):
            raise SkillmapError(f"{path}: corrupt index metadata (not a JSON object)")
        version = data.get("format_version", INDEX_FORMAT_VERSION)
        if version != INDEX_FORMAT_VERSION:
            raise SkillmapError(f"{path.parent}: index format {version!r} is not supported; "
                                "rebuild it with `skillmap index build`")
        try:
            metadata = cls(**data)
        except TypeError as exc:  # a missing or unknown field
            raise SkillmapError(f"{path}: corrupt index metadata ({exception_line(exc)})") from None
        problem = metadata._problem()
        if problem:
            raise SkillmapError(f"{path}: corrupt index metadata ({problem})")
        return metadata

    def _problem(self) -> str | None:
        """What is wrong with the field types and values, or None."""
        def is_int(value, low=0, high=MAX_COUNT):  # in a range skillmap can allocate
            return (isinstance(value, int) and not isinstance(value, bool)
                    and low <= value <= high)

        for name in ("taxonomy_name", "taxonomy_version", "taxonomy_fingerprint", "model_id",
                     "text_template", "faiss_type", "created_at", "index_sha256"):
            if not isinstance(getattr(self, name), str):
                return f"{name} is not a string"
        if not self.model_id.strip():
            return "model_id is empty"
        if "\0" in self.model_id or len(self.model_id) > 4096:
            return "model_id is not a model name or path"
        if not is_int(self.embedding_dim, 1, MAX_DIMENSION):
            return f"embedding_dim is not an integer from 1 to {MAX_DIMENSION:,}"
        if not is_int(self.n_skills):
            return "n_skills is not a count"
        if (not isinstance(self.probe, list) or len(self.probe) != self.embedding_dim
                or not all(isinstance(x, (int, float)) and not isinstance(x, bool)
                           and math.isfinite(x) for x in self.probe)):
            return f"probe is not {self.embedding_dim} finite numbers"
        if not isinstance(self.faiss_params, dict) or not all(
                is_int(v, 1) for v in self.faiss_params.values()):
            return "faiss_params are not positive integers"
        return None


class SkillIndex:
    """Nearest-skill search: ``search(vectors, k)`` returns scores and skill positions."""

    def __init__(self, taxonomy: Taxonomy, index: faiss.Index, metadata: IndexMetadata):
        self.taxonomy = taxonomy
        self.index = index
        self.metadata = metadata
        self.folder: Path | None = None  # where it was loaded from
        self.skills = taxonomy.skills  # row i of the faiss index is skills[i]

    @classmethod
    def build(cls, taxonomy: Taxonomy, encoder: SkillEncoder,
              text_template: str = DEFAULT_TEMPLATE, show_progress: bool = False,
              faiss_type: str = "auto") -> "SkillIndex":
        """Embed every skill of ``taxonomy`` with ``encoder`` into an inner-product index.

        ``faiss_type`` ``auto`` is exact search up to 50,000 skills and an ANN index above
        (:mod:`skillmap.index.ann`); ``flat``, ``hnsw`` or ``ivfpq`` force one.
        """
        faiss_type = normalise_kind(faiss_type)
        try:
            check_template(text_template)
        except ValueError as exc:
            raise SkillmapError(str(exc)) from None
        texts = [skill_text(skill, text_template) for skill in taxonomy.skills]
        vectors = encoder.encode(texts, show_progress=show_progress)
        index, kind, params = build_ann_index(vectors, faiss_type)
        metadata = IndexMetadata(
            taxonomy_name=taxonomy.metadata.name, taxonomy_version=taxonomy.metadata.version,
            taxonomy_fingerprint=taxonomy.fingerprint, model_id=encoder.model_id,
            embedding_dim=encoder.dimension, text_template=text_template,
            n_skills=len(taxonomy.skills), faiss_type=kind, faiss_params=params,
            # the source model's fingerprint: an index built with an ONNX variant records
            # the model it is a variant of
            probe=[round(float(x), 6) for x in getattr(encoder, "reference_probe",
                                                       encoder.probe)],
            created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
        return cls(taxonomy, index, metadata)

    def save(self, folder: str | os.PathLike) -> Path:
        """Write the index folder atomically (a failed save leaves no partial index)."""
        folder = Path(folder)
        with atomic_directory(folder, holds=METADATA_FILE) as tmp:
            faiss.write_index(self.index, str(tmp / "index.faiss"))
            self.metadata.index_sha256 = _sha256(tmp / "index.faiss")
            (tmp / METADATA_FILE).write_text(json.dumps(asdict(self.metadata), indent=2),
                                               encoding="utf-8")
            write_taxonomy(self.taxonomy, tmp / "taxonomy")
        return folder

    @classmethod
    def load(cls, folder: str | os.PathLike) -> "SkillIndex":
        """Load and cross-check an index folder written by :meth:`save`.

        The metadata's fields and format version, the taxonomy copy against its fingerprint
        and skill count and the faiss file's checksum are checked before faiss parses a
        byte; then faiss reads the file (size-capped) and the parsed index's kind, shape,
        metric and internal links are checked against the metadata (see
        :mod:`skillmap.index.ann`). Each problem is one :class:`SkillmapError` line.
        """
        folder = Path(folder)
        if not folder.is_dir():
            raise SkillmapError(f"{folder}: no such index directory")
        metadata = IndexMetadata.from_json(folder / METADATA_FILE)
        try:
            metadata.faiss_type = normalise_kind(metadata.faiss_type)
        except SkillmapError as exc:
            raise SkillmapError(f"{folder}: {exc}") from None
        if metadata.faiss_type == "auto":
            raise SkillmapError(f"{folder}: corrupt index metadata (faiss_type auto)")
        taxonomy = load_taxonomy(resolve_inside(folder, "taxonomy", "taxonomy copy"))
        if taxonomy.fingerprint != metadata.taxonomy_fingerprint:
            raise IndexMismatchError(f"{folder}: the taxonomy copy does not match the one the "
                                     "index was built from; rebuild the index")
        if metadata.n_skills != len(taxonomy.skills):
            raise IndexMismatchError(f"{folder}: metadata says {metadata.n_skills} skills, the "
                                     f"taxonomy copy has {len(taxonomy.skills)}; rebuild the index")
        index_file = folder / "index.faiss"
        if not os.path.lexists(index_file):
            raise SkillmapError(f"{folder}: index.faiss is missing; rebuild the index")
        # bounded for the checksum's sake (the faiss reader has its own cap)
        bounded.bounded_file(folder, index_file.name, "faiss", "faiss index",
                             cap=16 * (metadata.embedding_dim + 64) * max(metadata.n_skills, 1)
                             + 64 * bounded.MiB)
        if metadata.index_sha256 and _sha256(index_file) != metadata.index_sha256:
            raise SkillmapError(f"{index_file}: corrupt faiss index (its checksum differs from "
                                "the one recorded at build time); rebuild the index")
        try:
            index = read_index_file(index_file, metadata.faiss_type, metadata.embedding_dim,
                                    len(taxonomy.skills), metadata.faiss_params)
            apply_search_params(index, metadata.faiss_type, metadata.faiss_params)
        except SkillmapError as exc:
            raise type(exc)(f"{index_file}: {exc}; rebuild the index") from None
        except RuntimeError as exc:
            raise SkillmapError(f"{index_file}: corrupt faiss index ({exception_line(exc)}); "
                                "rebuild the index") from None
        loaded = cls(taxonomy, index, metadata)
        loaded.folder = folder
        return loaded

    def recorded_model(self) -> str:
        """The model to load for this index when the user names none (:func:`recorded_model`)."""
        return recorded_model(self.metadata, self.folder or Path("."))

    def check_encoder(self, encoder: SkillEncoder) -> None:
        """Refuse an encoder other than the one this index was built with."""
        meta = self.metadata
        if encoder.dimension != meta.embedding_dim:
            raise IndexMismatchError(
                f"model {encoder.model_id!r} gives {encoder.dimension}-dim vectors but the index "
                f"was built with {meta.model_id!r} ({meta.embedding_dim}-dim); use that model or "
                "rebuild the index")
        built_with = np.asarray(meta.probe, dtype=np.float32)
        cosine = float(np.dot(getattr(encoder, "reference_probe", encoder.probe), built_with))
        if cosine < PROBE_MIN_COSINE:
            raise IndexMismatchError(
                f"model {encoder.model_id!r} is not the model the index was built with "
                f"({meta.model_id!r}): their embeddings differ; use that model or rebuild the index")
        backend = getattr(encoder, "backend", "torch")
        if backend != "torch":
            drift = float(np.dot(encoder.probe, built_with))
            if drift < VARIANT_PROBE_MIN_COSINE:
                raise IndexMismatchError(
                    f"the {backend} variant of {encoder.model_id!r} drifts too far from the "
                    f"model the index was built with (probe cosine {drift:.3f} < "
                    f"{VARIANT_PROBE_MIN_COSINE}): its quantisation loses too much; use the "
                    "torch model or a float32 ONNX export (--backend onnx)")

    @cached_property
    def vectors(self) -> np.ndarray:
        """All skill vectors, row i = ``skills[i]`` (materialised: for small taxonomies)."""
        return self.index.reconstruct_n(0, self.index.ntotal)

    def vector(self, position: int) -> np.ndarray:
        """One skill's vector (approximate for ``ivfpq``), without materialising them all."""
        return self.index.reconstruct(int(position))

    @cached_property
    def label_matcher(self) -> LabelMatcher:
        """Finds skills named verbatim in a sentence (see :mod:`skillmap.index.lexical`)."""
        return LabelMatcher(self.skills)

    @cached_property
    def label_overlap(self) -> LabelOverlap:
        """Scores the words a sentence shares with skills' names (:mod:`skillmap.index.lexical`)."""
        return LabelOverlap(self.skills)

    def search(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` cosine scores and skill positions per query row (positions -1 = none)."""
        k = max(1, min(k, self.index.ntotal))
        if len(vectors) == 0:
            return np.zeros((0, k), np.float32), np.zeros((0, k), np.int64)
        return self.index.search(np.ascontiguousarray(vectors, dtype=np.float32), k)

    def __len__(self) -> int:
        return self.index.ntotal

    def __repr__(self) -> str:
        m = self.metadata
        return (f"SkillIndex(taxonomy={m.taxonomy_name!r} {m.taxonomy_version}, "
                f"skills={m.n_skills}, model={m.model_id!r}, faiss={m.faiss_type})")


def index_model(folder: str | os.PathLike) -> str:
    """The model the index in ``folder`` records, if it may be loaded without the user
    naming it (:func:`recorded_model`); read before any model or the index itself loads."""
    if not Path(folder).is_dir():
        raise SkillmapError(f"{folder}: no such index directory")
    return recorded_model(IndexMetadata.from_json(Path(folder) / METADATA_FILE), folder)


def recorded_model(metadata: IndexMetadata, folder: str | os.PathLike) -> str:
    """The model an index records, to load when the user names none.

    A hub id or the shipped default loads as it is. A local path is loaded only if it lies
    inside the index folder: an index downloaded from elsewhere must not make skillmap load
    whatever its ``model_id`` points at on this machine. For a model folder the user trusts,
    ``--model`` names it (and the index still checks it is the one it was built with).
    """
    model_id = metadata.model_id
    if not looks_like_path(model_id):
        return model_id
    from pathlib import PureWindowsPath

    folder = Path(folder)
    path = Path(model_id).expanduser()  # as the encoder would read it
    path = path if path.is_absolute() else folder / path
    try:  # a Windows drive or share is outside wherever it is read
        inside = (not PureWindowsPath(model_id).drive
                  and path.resolve().is_relative_to(folder.resolve()))
    except (OSError, RuntimeError):
        inside = False
    if not inside:
        raise SkillmapError(f"{folder}: the index names the model folder {model_id!r}, "
                            "outside the index; pass --model with that folder if you trust "
                            "it")
    return str(path)


def looks_like_path(model_id: str) -> bool:
    """Whether a recorded model id names a local folder rather than a hub id
    (``owner/name``) or the shipped default."""
    from pathlib import PureWindowsPath

    return ("\\" in model_id or model_id.startswith(("/", "~", "."))
            or PureWindowsPath(model_id).anchor != "" or model_id.count("/") > 1)


def _sha256(path: Path) -> str:
    return file_sha256(path)
