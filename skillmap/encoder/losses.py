"""Contrastive losses for the skillmap encoder, with sentence-transformers' loss interface.

A training row is a sentence (``anchor``), one of its gold skills (``positive``) and, with
hard negatives, a skill from the positive's Level-2 group (``negative``); its ``label`` holds
the taxonomy positions of those candidates and of all the sentence's gold skills (see
:func:`label_row`). A batch of ``B`` rows scores every sentence against all ``B * columns``
candidate skills (InfoNCE), and :func:`multi_positive_mask` removes from a sentence's
softmax every candidate that is another of its gold skills: a sentence asking for Python and
SQL must not be pushed away from SQL because SQL was another sentence's positive.

:class:`CachedMultiPositiveRankingLoss` computes the same loss for batches far larger than
memory allows (GradCache, Gao et al. 2021, the idea behind sentence-transformers'
``CachedMultipleNegativesRankingLoss``): embed every mini-batch without a graph, take the
loss's gradient with respect to the embeddings, then embed each mini-batch again with a graph
and push that cached gradient through it, replaying the first pass's random state so dropout
draws the same masks. Contrastive retrieval gains from large batches (more in-batch
negatives); the cost is a second forward pass.
"""

from __future__ import annotations

from functools import partial
from typing import Iterable, Iterator, Sequence

import torch
from torch import Tensor, nn

from skillmap.encoder.architecture import LOSS_NAMES

PAD = -1  # fills a label row's gold skills up to the batch's width; never a skill position


def label_row(candidates: Sequence[int], gold: Sequence[int], width: int) -> list[int]:
    """One row's ``label``: its candidate columns' skill positions, then its gold skills
    padded with :data:`PAD` to ``width`` (rows of one dataset must have one length)."""
    return [*candidates, *gold, *[PAD] * (width - len(gold))]


def multi_positive_mask(labels: Tensor, columns: int) -> Tensor:
    """``mask[i, j]``: candidate ``j`` is a gold skill of sentence ``i`` other than its own
    positive (candidate ``i``), so it must not count as a negative.

    Candidates are ordered column by column (all positives, then all negatives), as the loss
    concatenates the columns' embeddings.
    """
    candidates = labels[:, :columns].T.reshape(-1)
    gold = labels[:, columns:]
    mask = (gold[:, :, None] == candidates[None, None, :]).any(dim=1)
    own = torch.arange(len(labels), device=labels.device)
    mask[own, own] = False
    return mask


def masked_info_nce(scores: Tensor, mask: Tensor, temperature: float) -> Tensor:
    """Cross-entropy of each sentence's own positive (column ``i``) against its unmasked
    candidates; ``scores`` are similarities, divided by ``temperature`` here."""
    logits = (scores / temperature).masked_fill(mask, torch.finfo(scores.dtype).min)
    return nn.functional.cross_entropy(logits, torch.arange(len(scores), device=scores.device))


class MultiPositiveRankingLoss(nn.Module):
    """InfoNCE over in-batch and hard-negative skills with a multi-positive mask.

    ``model`` ends in ``Normalize``, so the inner product of embeddings is their cosine.
    """

    def __init__(self, model, temperature: float = 0.05):
        super().__init__()
        self.model = model
        self.temperature = temperature

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor) -> Tensor:
        embeddings = [self.model(features)["sentence_embedding"]
                      for features in sentence_features]
        return self.loss_from_embeddings(embeddings, labels)

    def loss_from_embeddings(self, embeddings: list[Tensor], labels: Tensor) -> Tensor:
        """The loss of sentence embeddings ``embeddings[0]`` against the candidate columns."""
        sentences, candidates = embeddings[0], torch.cat(embeddings[1:])
        mask = multi_positive_mask(labels.to(sentences.device), len(embeddings) - 1)
        return masked_info_nce(sentences @ candidates.T, mask, self.temperature)

    def get_config_dict(self) -> dict:
        return {"temperature": self.temperature}


class _ReplayableRandomState:
    """The random state before a mini-batch's first forward pass, restored for the second
    one (CPU and, for a CUDA model, that device), and the outer state kept intact."""

    def __init__(self, device: torch.device):
        self.cpu = torch.get_rng_state()
        self.device = device if device.type == "cuda" else None
        self.cuda = torch.cuda.get_rng_state(device) if self.device is not None else None

    def __enter__(self) -> None:
        devices = [self.device] if self.device is not None else []
        self._fork = torch.random.fork_rng(devices=devices)
        self._fork.__enter__()
        torch.set_rng_state(self.cpu)
        if self.device is not None:
            torch.cuda.set_rng_state(self.cuda, self.device)

    def __exit__(self, *exc) -> None:
        self._fork.__exit__(*exc)


class CachedMultiPositiveRankingLoss(MultiPositiveRankingLoss):
    """:class:`MultiPositiveRankingLoss` with gradient caching: the batch (say 512) is
    embedded ``mini_batch_size`` rows at a time, so memory is that of one mini-batch."""

    def __init__(self, model, temperature: float = 0.05, mini_batch_size: int = 32):
        super().__init__(model, temperature)
        if mini_batch_size < 1:
            raise ValueError(f"mini_batch_size must be at least 1, got {mini_batch_size}")
        self.mini_batch_size = mini_batch_size

    def _mini_batches(self, features: dict[str, Tensor]) -> Iterator[dict[str, Tensor]]:
        size = next(v for v in features.values() if isinstance(v, Tensor)).shape[0]
        for begin in range(0, size, self.mini_batch_size):
            yield {key: value[begin:begin + self.mini_batch_size]
                   if isinstance(value, Tensor) else value for key, value in features.items()}

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor) -> Tensor:
        features = list(sentence_features)
        if not torch.is_grad_enabled():  # evaluation: the same loss, mini-batch by mini-batch
            embeddings = [torch.cat([self.model(batch)["sentence_embedding"]
                                     for batch in self._mini_batches(column)])
                          for column in features]
            return self.loss_from_embeddings(embeddings, labels)
        # (1) embed without a graph, remembering each mini-batch's random state
        cached, states = [], []
        for column in features:
            column_embeddings, column_states = [], []
            for batch in self._mini_batches(column):
                column_states.append(_ReplayableRandomState(batch["input_ids"].device))
                with torch.no_grad():
                    embedded = self.model(batch)["sentence_embedding"]
                column_embeddings.append(embedded.detach().requires_grad_())
            cached.append(column_embeddings)
            states.append(column_states)
        # (2) the loss, and its gradient with respect to every embedding
        loss = self.loss_from_embeddings([torch.cat(column) for column in cached], labels)
        loss.backward()
        gradients = [[embedded.grad for embedded in column] for column in cached]
        # (3) when the trainer back-propagates the loss, replay each mini-batch with a graph
        loss = loss.detach().requires_grad_()
        loss.register_hook(partial(self._backward_through_model, features, gradients, states))
        return loss

    def _backward_through_model(self, features: list[dict[str, Tensor]],
                                gradients: list[list[Tensor]],
                                states: list[list[_ReplayableRandomState]],
                                grad_output: Tensor) -> None:
        with torch.enable_grad():
            for column, column_gradients, column_states in zip(features, gradients, states):
                for batch, gradient, state in zip(self._mini_batches(column), column_gradients,
                                                  column_states):
                    with state:
                        embedded = self.model(batch)["sentence_embedding"]
                    # d(loss)/d(params) = sum over rows of gradient . d(embedding)/d(params)
                    (torch.sum(embedded * gradient) * grad_output).backward()

    def get_config_dict(self) -> dict:
        return {**super().get_config_dict(), "mini_batch_size": self.mini_batch_size}


#: ``--loss`` names (``architecture.LOSS_NAMES``, in that order) -> loss class
LOSSES = dict(zip(LOSS_NAMES, (MultiPositiveRankingLoss, CachedMultiPositiveRankingLoss),
                  strict=True))
