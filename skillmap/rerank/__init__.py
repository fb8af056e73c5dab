"""Rerank stage: reorder the skills faiss found for a sentence with a finer, slower score.

:class:`LateInteractionReranker` scores each candidate against the sentence's token
embeddings (:mod:`skillmap.encoder.late_interaction`) instead of its pooled vector.
"""

from skillmap.rerank.late_interaction import LateInteractionReranker, load_reranker

__all__ = ["LateInteractionReranker", "load_reranker"]
