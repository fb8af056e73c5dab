"""The ad around a sentence as a word-sense prior for the sentence's candidates.

A sentence alone is often ambiguous where its ad is not: "Design and maintain batch and
streaming pipelines in Python and Spark" is, to a sentence encoder, as close to the plumber's
"clear pipelines" as to anything a data engineer does; the ad's other lines (SQL, data
modelling, a "Data Engineer" title) say which pipelines. So each candidate of a sentence gets
a term from how well it fits the rest of the ad: the cosine of the skill's vector to the
normalised mean vector of the ad's other searched segments, minus the median of that fit over
the sentence's candidates, kept only where positive, times a weight. Centring on the
candidates' median makes the term reorder the candidates rather than lift them all, and the
positive part only ever promotes a candidate that fits the ad better than most, never
demotes one for fitting less.

Transversal and cross-sector skills (ESCO's reuse levels; "work in teams", "communication")
get no term: they fit any ad, so the ad's topic says nothing about whether a sentence states
them, and letting the topic decide pushed them down (docs/benchmarks.md §13.11).
"""

from __future__ import annotations

import numpy as np

#: reuse levels whose skills fit any ad: the context gives them no term
BROAD_REUSE_LEVELS = frozenset({"transversal", "cross-sector"})


def leave_one_out_contexts(vectors: np.ndarray) -> np.ndarray:
    """Row i: the normalised mean of the other rows of ``vectors`` (a segment's context is the
    rest of its ad); all zeros where there is no other row or the others cancel out."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if len(vectors) < 2:
        return np.zeros_like(vectors)
    others = vectors.sum(axis=0, keepdims=True) - vectors
    norms = np.linalg.norm(others, axis=1, keepdims=True)
    return np.divide(others, norms, out=np.zeros_like(others), where=norms > 1e-6)


def context_terms(candidate_vectors: np.ndarray, context: np.ndarray, weight: float,
                  exempt: np.ndarray) -> np.ndarray:
    """Per candidate (rows of ``candidate_vectors``), ``weight`` x max(0, its cosine to
    ``context`` - the candidates' median); 0 where ``exempt`` (a boolean mask) is set."""
    if not len(candidate_vectors) or not weight or not np.any(context):
        return np.zeros(len(candidate_vectors), dtype=np.float32)
    fit = np.asarray(candidate_vectors, dtype=np.float32) @ np.asarray(context, np.float32)
    terms = weight * np.maximum(fit - np.median(fit), 0.0)
    terms[np.asarray(exempt, dtype=bool)] = 0.0
    return terms.astype(np.float32)
