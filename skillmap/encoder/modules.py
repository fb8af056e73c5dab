"""Pooling heads for the skillmap encoder, as sentence-transformers modules.

A trained encoder is a plain sentence-transformers pipeline —
``Transformer -> [BiLSTM] -> AttentionPooling | Pooling(mean) -> Normalize`` — saved as a
normal model directory (safetensors, JSON configs); modules.json names these classes by
import path, and :mod:`skillmap.encoder.loading` loads them from there.

Both modules start as the identity of the off-the-shelf model: the BiLSTM is a *residual*
branch whose output projection is zero-initialised, and the attention scorer's last layer is
zero-initialised, so every token gets the same weight (mean pooling). An untrained
``bilstm-attention`` encoder therefore embeds exactly like all-MiniLM-L6-v2 (mean pooling),
and training can only move it away from there where the data asks for it.
"""

from __future__ import annotations

try:
    from typing import Self
except ImportError:  # Python < 3.11
    from typing_extensions import Self

import torch
from sentence_transformers.sentence_transformer.modules import Module
from torch import nn


class _SavedModule(Module):
    """Shared save/load for modules made of a JSON config plus safetensors weights."""

    def save(self, output_path: str, *args, safe_serialization: bool = True, **kwargs) -> None:
        self.save_config(output_path)
        device = next(self.parameters()).device
        self.cpu()  # safetensors cannot save LSTM weights from a GPU
        self.save_torch_weights(output_path, safe_serialization=safe_serialization)
        self.to(device)

    @classmethod
    def load(cls, model_name_or_path: str, subfolder: str = "", token=None, cache_folder=None,
             revision=None, local_files_only: bool = False, **kwargs) -> Self:
        hub = {"subfolder": subfolder, "token": token, "cache_folder": cache_folder,
               "revision": revision, "local_files_only": local_files_only}
        module = cls(**cls.load_config(model_name_or_path=model_name_or_path, **hub))
        return cls.load_torch_weights(model_name_or_path=model_name_or_path, model=module, **hub)


class BiLSTM(_SavedModule):
    """A bidirectional LSTM over the backbone's token states, added back residually.

    sentence-transformers' own ``LSTM`` module reads ``features["sentence_lengths"]``, which
    its ``Transformer`` module does not produce; this one derives the lengths from the
    ``attention_mask`` every tokenizer provides, and pads its output back to the input length
    so the mask still lines up for pooling.
    """

    config_keys: list[str] = ["embedding_dimension", "hidden_dim", "num_layers", "dropout"]
    config_file_name: str = "bilstm_config.json"

    def __init__(self, embedding_dimension: int, hidden_dim: int = 192, num_layers: int = 1,
                 dropout: float = 0.0):
        super().__init__()
        self.embedding_dimension = embedding_dimension
        self.hidden_dim = hidden_dim
        self.num_layers = num_layers
        self.dropout = dropout
        self.lstm = nn.LSTM(embedding_dimension, hidden_dim, num_layers=num_layers,
                            dropout=dropout if num_layers > 1 else 0.0, bidirectional=True,
                            batch_first=True)
        self.project = nn.Linear(2 * hidden_dim, embedding_dimension)
        nn.init.zeros_(self.project.weight)
        nn.init.zeros_(self.project.bias)

    def forward(self, features: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        tokens = features["token_embeddings"]
        lengths = features["attention_mask"].sum(dim=1).clamp(min=1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(tokens, lengths, batch_first=True,
                                                   enforce_sorted=False)
        output, _ = self.lstm(packed)
        output, _ = nn.utils.rnn.pad_packed_sequence(output, batch_first=True,
                                                     total_length=tokens.shape[1])
        features["token_embeddings"] = tokens + self.project(output)
        return features

    def get_embedding_dimension(self) -> int:
        return self.embedding_dimension


class AttentionPooling(_SavedModule):
    """A learned weighted average of token states: score each token, masked softmax, sum.

    The scorer is ``v . tanh(W h)``; with ``v`` zero-initialised all tokens score equally and
    the module computes mean pooling until training teaches it which tokens carry the skill.
    """

    config_keys: list[str] = ["embedding_dimension", "hidden_dim"]
    config_file_name: str = "attention_pooling_config.json"

    def __init__(self, embedding_dimension: int, hidden_dim: int = 128):
        super().__init__()
        self.embedding_dimension = embedding_dimension
        self.hidden_dim = hidden_dim
        self.key = nn.Linear(embedding_dimension, hidden_dim)
        self.score = nn.Linear(hidden_dim, 1, bias=False)
        nn.init.zeros_(self.score.weight)

    def forward(self, features: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        tokens = features["token_embeddings"]
        mask = features["attention_mask"].bool()
        scores = self.score(torch.tanh(self.key(tokens))).squeeze(-1)
        scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)
        weights = torch.softmax(scores, dim=1) * mask  # exact zeros on padding
        weights = weights / weights.sum(dim=1, keepdim=True).clamp(min=1e-9)
        features["sentence_embedding"] = torch.einsum("bt,btd->bd", weights, tokens)
        features["attention_weights"] = weights
        return features

    def get_embedding_dimension(self) -> int:
        return self.embedding_dimension
