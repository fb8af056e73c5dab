"""Token-level matching of a sentence against a skill (the ConTeXT-match idea).

A pooled sentence vector blends every requirement of a sentence into one point, so a
sentence asking for three skills sits between them and near none. Here each skill is scored
against the sentence's *tokens*: with ``c_t`` the cosine between token ``t``'s embedding and
the skill's pooled embedding,

    score(sentence, skill) = sum_t softmax_t(c_t / temperature) * c_t

over the sentence's real (unpadded) tokens: a weighted mean of the token cosines in which
the tokens closest to the skill weigh most. A high temperature gives the plain mean of the
token cosines, a low one their maximum; the temperature is learned. Each skill attends to
its own tokens, so the three skills of a three-skill sentence can all score high.

The token embeddings come from the same encoder (sentence-transformers' ``token_embeddings``
output, after any BiLSTM), so they share the skill vectors' space and the faiss index's
skill vectors serve as they are. The scorer has one parameter and is saved as a small JSON
file, :data:`SCORER_FILE`, next to the model it was trained with.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Iterable, Sequence

import torch
from torch import Tensor, nn

from skillmap.encoder.losses import masked_info_nce, multi_positive_mask
from skillmap.errors import SkillmapError

SCORER_FILE = "late_interaction.json"
SCORER_FORMAT = 1


class LateInteractionScorer(nn.Module):
    """The softmax-weighted sum of token-to-skill cosines, with a learned temperature."""

    def __init__(self, temperature: float = 0.1):
        super().__init__()
        if not (temperature > 0 and math.isfinite(temperature)):
            raise SkillmapError(f"late-interaction temperature must be positive, got "
                                f"{temperature!r}")
        self.log_temperature = nn.Parameter(torch.tensor(math.log(temperature)))

    @property
    def temperature(self) -> float:
        return float(self.log_temperature.detach().exp())

    def forward(self, tokens: Tensor, mask: Tensor, skills: Tensor) -> Tensor:
        """Scores ``(sentences, candidates)``.

        ``tokens``: ``(B, T, d)`` token embeddings, ``mask``: ``(B, T)`` (1 = real token),
        ``skills``: ``(C, d)`` candidates shared by every sentence, or ``(B, C, d)`` each
        sentence's own candidates.
        """
        tokens = nn.functional.normalize(tokens, dim=-1)
        skills = nn.functional.normalize(skills, dim=-1)
        pattern = "btd,cd->bct" if skills.dim() == 2 else "btd,bcd->bct"
        cosines = torch.einsum(pattern, tokens, skills)
        real = mask.bool()[:, None, :]
        logits = (cosines / self.log_temperature.exp()).masked_fill(
            ~real, torch.finfo(cosines.dtype).min)
        weights = torch.softmax(logits, dim=-1) * real  # exact zeros on padding
        return (weights * cosines).sum(dim=-1)

    def save(self, folder: str | Path) -> Path:
        path = Path(folder) / SCORER_FILE
        path.write_text(json.dumps({"format": SCORER_FORMAT, "kind": "late-interaction",
                                    "temperature": self.temperature}, indent=2) + "\n",
                        encoding="utf-8")
        return path

    @classmethod
    def load(cls, folder: str | Path) -> "LateInteractionScorer":
        """The scorer saved with a model (its folder or bundle); one line if there is none."""
        path = Path(folder) / SCORER_FILE
        if not path.is_file():
            raise SkillmapError(f"{folder} has no late-interaction scorer ({SCORER_FILE}): "
                                "train one with `skillmap train encoder --late-interaction`")
        from skillmap import bounded

        data = bounded.read_json(path.parent, path.name, "late-interaction scorer")
        try:
            if data.get("format") != SCORER_FORMAT:
                raise ValueError(f"format {data.get('format')!r}")
            return cls(float(data["temperature"]))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise SkillmapError(f"{path}: unreadable ({exc})") from None


def pad_tokens(token_embeddings: Sequence[Tensor]) -> tuple[Tensor, Tensor]:
    """Per-sentence ``(T_i, d)`` token embeddings as one ``(B, T, d)`` batch and its mask."""
    tokens = nn.utils.rnn.pad_sequence(list(token_embeddings), batch_first=True)
    mask = torch.zeros(tokens.shape[:2], dtype=torch.bool)
    for i, sentence in enumerate(token_embeddings):
        mask[i, :len(sentence)] = True
    return tokens, mask


def encode_tokens(model, sentences: Sequence[str], batch_size: int = 32) -> list[Tensor]:
    """Each sentence's token embeddings (real tokens only) from a SentenceTransformer."""
    if len(sentences) == 0:
        return []
    return model.encode(list(sentences), output_value="token_embeddings",
                        batch_size=batch_size, convert_to_numpy=False, show_progress_bar=False)


class LateInteractionRankingLoss(nn.Module):
    """The multi-positive InfoNCE of :mod:`skillmap.encoder.losses` on late-interaction
    scores, plus the same loss on pooled cosines.

    The pooled term keeps the sentence vectors good for the first stage (faiss finds the
    candidates with them); the late-interaction term trains the tokens and the scorer's
    temperature for the second stage.
    """

    def __init__(self, model, temperature: float = 0.05, scorer: LateInteractionScorer | None
                 = None, pooled_weight: float = 1.0):
        super().__init__()
        self.model = model
        self.scorer = scorer or LateInteractionScorer()
        self.temperature = temperature
        self.pooled_weight = pooled_weight

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor) -> Tensor:
        features = list(sentence_features)
        sentences = self.model(features[0])
        candidates = torch.cat([self.model(column)["sentence_embedding"]
                                for column in features[1:]])
        mask = multi_positive_mask(labels.to(candidates.device), len(features) - 1)
        late = self.scorer(sentences["token_embeddings"], sentences["attention_mask"],
                           candidates)
        loss = masked_info_nce(late, mask, self.temperature)
        if self.pooled_weight:
            pooled = sentences["sentence_embedding"] @ candidates.T
            loss = loss + self.pooled_weight * masked_info_nce(pooled, mask, self.temperature)
        return loss

    def get_config_dict(self) -> dict:
        return {"temperature": self.temperature, "pooled_weight": self.pooled_weight,
                "scorer_temperature": self.scorer.temperature}
