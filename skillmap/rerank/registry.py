"""The rerankers an extractor can use, by name (the CLI's ``--rerank`` choices)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: a scorer's temperature when the model was not trained with one (chosen on the ESCO
#: validation sentences for the shipped encoder, docs/benchmarks.md)
DEFAULT_TEMPERATURE = 0.05


def _late_interaction(encoder, skill_vectors: np.ndarray, temperature: float | None = None):
    """Token-level matching: the scorer saved with the encoder's model when it has one and no
    ``temperature`` is given, else an untrained scorer at ``temperature``."""
    from skillmap.encoder.late_interaction import SCORER_FILE, LateInteractionScorer
    from skillmap.encoder.skill_encoder import resolve_model
    from skillmap.rerank.late_interaction import LateInteractionReranker, load_reranker

    if temperature is None and (Path(resolve_model(encoder.model_id)[1]) / SCORER_FILE).exists():
        return load_reranker(encoder, skill_vectors)
    return LateInteractionReranker(encoder, LateInteractionScorer(
        temperature or DEFAULT_TEMPERATURE), skill_vectors)


#: name -> factory(encoder, skill_vectors, temperature=None) of a reranker
RERANKERS = {"late-interaction": _late_interaction}

#: ``ExtractorConfig.rerank`` values besides a reranker's name: ``auto`` (the default) is
#: :data:`DEFAULT_RERANKER` for an encoder that gives token embeddings (the torch backend)
#: and no reranking for one that gives pooled vectors only (the ONNX backends), so the ONNX
#: path keeps working without an option; ``none`` turns reranking off.
AUTO, NONE = "auto", "none"
RERANK_CHOICES = (AUTO, NONE, *RERANKERS)
DEFAULT_RERANKER = "late-interaction"


def resolve_reranker(name: str | None, encoder) -> str | None:
    """The reranker ``ExtractorConfig.rerank`` = ``name`` means for ``encoder`` (None: none)."""
    if name in (None, NONE):
        return None
    if name == AUTO:
        from skillmap.rerank.late_interaction import sentence_transformer

        return DEFAULT_RERANKER if sentence_transformer(encoder) is not None else None
    return name
