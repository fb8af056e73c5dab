"""Which sentences reach the model: a spy on the extractor's encoder and on its reranker.

With the reranker on (the default), sentences are encoded through ``extractor.reranker``
(pooled vectors and token embeddings from one forward pass), otherwise through the encoder;
tests that count encodings spy on both.
"""

from __future__ import annotations


def record_encodings(monkeypatch, extractor) -> list[list[str]]:
    """The list each ``encode`` call of ``extractor``'s encoder or reranker appends its
    sentences to (one list per call), filled from now until ``monkeypatch`` is undone."""
    calls: list[list[str]] = []
    for owner in (extractor.encoder, extractor.reranker):
        if owner is None:
            continue

        def spy(sentences, *args, original=owner.encode, **kwargs):
            calls.append(list(sentences))
            return original(sentences, *args, **kwargs)

        monkeypatch.setattr(owner, "encode", spy)
    return calls
