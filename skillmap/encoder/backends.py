"""What runs an encoder's forward pass, by name: torch or ONNX Runtime (float32 or int8).

:data:`ENCODER_BACKENDS` is the one list of backends: :class:`SkillEncoder` loads through
it and the CLI's ``--backend`` choices are its keys. Each factory takes the model spec as
the user gave it and where it resolved to, and returns an object with sentence-transformers'
``encode``; an ONNX one also carries ``backend`` and its source's ``reference_probe``.
"""

from __future__ import annotations

from typing import Callable

from skillmap.errors import SkillmapError, exception_line
from skillmap.security import MODEL_LOAD_ERRORS


def _torch(model, *, model_id: str, load_path: str, device: str | None,
           allow_pickle: bool | None):
    """sentence-transformers on torch: a model folder, a skillmap bundle or a hub id."""
    from skillmap.encoder.loading import load_model

    try:
        return load_model(load_path, device=device, allow_pickle=allow_pickle)
    except MODEL_LOAD_ERRORS as exc:
        raise SkillmapError(f"could not load encoder {model_id!r}: {exception_line(exc)} "
                            "(give a local model directory; no model hub is reachable "
                            "offline)") from None


def _onnx(quantization: str) -> Callable:
    """ONNX Runtime on an export of the model, made on first use and cached."""
    def load(model, *, model_id: str, load_path: str, device: str | None,
             allow_pickle: bool | None):
        from skillmap.encoder.onnx import OnnxSentenceEncoder, cached_export

        return OnnxSentenceEncoder(cached_export(model, quantization, allow_pickle=allow_pickle),
                                   device=device)

    return load


ENCODER_BACKENDS: dict[str, Callable] = {
    "torch": _torch,
    "onnx": _onnx("none"),
    "onnx-int8": _onnx("int8"),
}


def load_onnx_export(folder: str, backend: str | None, device: str | None):
    """A folder written by ``skillmap encoder export-onnx``: it runs on the backend it was
    exported for, so asking for another one is refused."""
    from skillmap.encoder.onnx import OnnxSentenceEncoder, read_manifest

    exported = read_manifest(folder).get("backend")
    if backend not in (None, exported):
        raise SkillmapError(f"{folder} is an ONNX export for the {exported} backend, not "
                            f"{backend}: drop --backend, or give its source model")
    return OnnxSentenceEncoder(folder, device=device)
