"""Rerank faiss's candidates by late interaction (token-level matching).

The first stage stays as it is: faiss returns each sentence's top ``N`` skills (say 100) by
pooled cosine, which is cheap over 13,749 skills. This stage then encodes the sentences once
more at token level and scores only those ``N`` candidates with the trained
:class:`~skillmap.encoder.late_interaction.LateInteractionScorer`, against the same skill
vectors the index holds. Input and output have the shape of
:meth:`skillmap.index.SkillIndex.search`'s, so a caller swaps one for the other.
"""

from __future__ import annotations

import os
from typing import Sequence

import numpy as np

from skillmap.errors import SkillmapError


def sentence_transformer(encoder):
    """The torch sentence-transformers model behind ``encoder`` (a torch
    :class:`~skillmap.encoder.SkillEncoder` or the model itself), or None when there is none:
    an ONNX backend gives pooled vectors only, no token embeddings to rerank with."""
    import sys

    module = sys.modules.get("sentence_transformers")  # loaded with any torch encoder
    model = getattr(encoder, "model", encoder)
    if module is None or not isinstance(model, module.SentenceTransformer):
        return None
    return model


class LateInteractionReranker:
    """Reorders candidate skills by their late-interaction score with the sentence.

    ``model``: the SentenceTransformer (or a torch :class:`~skillmap.encoder.SkillEncoder`)
    whose pooled vectors built the index; ``scorer``: its trained scorer; ``skill_vectors``:
    ``(n_skills, d)``, row ``i`` = skill position ``i`` (``SkillIndex.vectors``).
    """

    def __init__(self, model, scorer, skill_vectors: np.ndarray, batch_size: int = 32):
        model = sentence_transformer(model)
        if model is None:
            raise SkillmapError("late-interaction reranking needs the torch encoder (token "
                                "embeddings); the ONNX backends give pooled vectors only")
        self.model, self.scorer, self.batch_size = model, scorer.eval(), batch_size
        self.skill_vectors = np.ascontiguousarray(skill_vectors, dtype=np.float32)

    def encode(self, sentences: Sequence[str], show_progress: bool = False
               ) -> tuple[np.ndarray, list]:
        """Unit pooled vectors (for faiss) and token embeddings (for :meth:`rerank`) from one
        forward pass, so reranking does not encode the sentences a second time.

        Batches are formed as ``SentenceTransformer.encode`` forms them (longest first), so
        the pooled vectors are the ones ``encode`` gives. The model's own ``tokenize`` and
        forward are called rather than ``encode(output_value=None)``, which fails in some
        sentence-transformers versions this package supports (5.4 indexes every output
        field by row, a string field included). Tokenizing is ``preprocess`` where the
        library has it (6.x, which deprecates ``tokenize`` with a warning on every call),
        else ``tokenize``.
        """
        import torch
        from tqdm.auto import tqdm

        texts = list(sentences)
        vectors = np.zeros((len(texts), self.skill_vectors.shape[1]), np.float32)
        tokens: list = [None] * len(texts)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        starts = range(0, len(texts), self.batch_size)
        self.model.eval()  # as encode() does: no dropout
        preprocess = getattr(self.model, "preprocess", None) or self.model.tokenize
        with torch.no_grad():
            for start in tqdm(starts, desc="Batches", disable=not show_progress):
                rows = order[start:start + self.batch_size]
                features = preprocess([texts[i] for i in rows])
                features = {name: value.to(self.model.device) if torch.is_tensor(value)
                            else value for name, value in features.items()}
                out = self.model(features)
                pooled = torch.nn.functional.normalize(out["sentence_embedding"].float(), dim=-1)
                vectors[rows] = pooled.cpu().numpy()
                mask = out["attention_mask"].bool()
                for j, i in enumerate(rows):
                    tokens[i] = out["token_embeddings"][j][mask[j]]
        return vectors, tokens

    def score(self, sentences: Sequence[str], candidates: np.ndarray,
              tokens: Sequence | None = None) -> np.ndarray:
        """Late-interaction scores ``(n_sentences, n_candidates)``; ``-inf`` where a
        candidate position is ``-1`` (faiss's "no result"). ``tokens``: the sentences'
        token embeddings from :meth:`encode`, if the caller has them."""
        import torch

        from skillmap.encoder.late_interaction import encode_tokens, pad_tokens

        candidates = np.asarray(candidates, dtype=np.int64).reshape(len(sentences), -1)
        scores = np.full(candidates.shape, -np.inf, dtype=np.float32)
        valid = candidates >= 0
        if candidates.size == 0 or not valid.any():
            return scores
        vectors = torch.from_numpy(self.skill_vectors[np.where(valid, candidates, 0)])
        with torch.no_grad():
            for begin in range(0, len(sentences), self.batch_size):
                end = begin + self.batch_size
                batch = (tokens[begin:end] if tokens is not None else
                         encode_tokens(self.model, sentences[begin:end], self.batch_size))
                padded, mask = pad_tokens([t.float().cpu() for t in batch])
                scores[begin:end] = self.scorer(padded, mask, vectors[begin:end]).numpy()
        scores[~valid] = -np.inf
        return scores

    def rerank(self, sentences: Sequence[str], candidates: np.ndarray,
               tokens: Sequence | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(scores, positions)`` per sentence, best first, like ``SkillIndex.search``:
        the candidates reordered by late-interaction score (ties keep faiss's order;
        ``-1`` padding stays last)."""
        candidates = np.asarray(candidates, dtype=np.int64).reshape(len(sentences), -1)
        scores = self.score(sentences, candidates, tokens)
        order = np.argsort(-scores, axis=1, kind="stable")
        return (np.take_along_axis(scores, order, axis=1),
                np.take_along_axis(candidates, order, axis=1))


def load_reranker(encoder, skill_vectors: np.ndarray, folder: str | os.PathLike | None = None,
                  batch_size: int = 32) -> LateInteractionReranker:
    """The reranker for a loaded torch :class:`~skillmap.encoder.SkillEncoder`: its scorer is
    the ``late_interaction.json`` saved with that model (``folder``: another model folder or
    bundle to take it from), its skill vectors those of the index built with it."""
    from skillmap.encoder.late_interaction import LateInteractionScorer
    from skillmap.encoder.skill_encoder import resolve_model

    scorer = LateInteractionScorer.load(folder if folder is not None
                                        else resolve_model(encoder.model_id)[1])
    return LateInteractionReranker(encoder, scorer, skill_vectors, batch_size=batch_size)
