"""Assemble the skillmap bi-encoder from sentence-transformers modules.

``backbone (BERT family) -> [BiLSTM] -> pooling -> Normalize``, one switch for the pooling
ablation: ``mean`` (the off-the-shelf recipe), ``attention`` (learned token weights) and
``bilstm-attention`` (the method's architecture). Sentences and skill texts share the same
encoder, so they land in one space and a faiss inner-product index over skill embeddings
ranks skills by cosine similarity.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from skillmap.encoder.skill_encoder import OFF_THE_SHELF_MODEL_ID, resolve_model
from skillmap.errors import SkillmapError

POOLINGS = ("mean", "attention", "bilstm-attention")
#: how training treats the backbone: kept as is, LoRA adapters, or every weight
BACKBONE_MODES = ("frozen", "lora", "full")
#: the training losses (``skillmap.encoder.losses.LOSSES``, which needs torch, maps each to
#: its class; named here so the CLI can offer them without importing torch)
LOSS_NAMES = ("multi-positive", "cached-multi-positive")


@dataclass
class EncoderConfig:
    """The architecture of a skillmap encoder (recorded in its model card)."""

    backbone: str = OFF_THE_SHELF_MODEL_ID  # model dir or hub id (all-MiniLM-L6-v2: PyPI)
    pooling: str = "bilstm-attention"
    lstm_hidden: int = 192               # per direction
    attention_hidden: int = 128
    max_seq_length: int = 64             # job-ad sentences and skill texts are short

    def to_dict(self) -> dict:
        return asdict(self)


def build_encoder(config: EncoderConfig, device: str | None = None,
                  allow_pickle: bool | None = None):
    """A fresh (untrained-head) SentenceTransformer for ``config`` (the backbone's weights
    load from safetensors only unless ``allow_pickle``, see :mod:`skillmap.security`)."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer

    from skillmap.encoder.modules import AttentionPooling, BiLSTM

    if config.pooling not in POOLINGS:
        raise SkillmapError(f"unknown pooling {config.pooling!r} (choose from "
                            f"{', '.join(POOLINGS)})")
    from skillmap.security import MODEL_LOAD_ERRORS, check_model_files, safetensors_kwargs

    _, path = resolve_model(config.backbone)
    check_model_files(path, allow_pickle, what="backbone")
    try:
        backbone = Transformer(path, max_seq_length=config.max_seq_length,
                               model_kwargs=safetensors_kwargs(allow_pickle))
    except MODEL_LOAD_ERRORS as exc:
        raise SkillmapError(f"cannot load backbone {config.backbone or path}: "
                            f"{str(exc).splitlines()[0]}") from None
    dim = backbone.get_embedding_dimension()
    modules = [backbone]
    if config.pooling == "bilstm-attention":
        modules.append(BiLSTM(dim, hidden_dim=config.lstm_hidden))
    if config.pooling == "mean":
        modules.append(Pooling(dim, pooling_mode="mean"))
    else:
        modules.append(AttentionPooling(dim, hidden_dim=config.attention_hidden))
    modules.append(Normalize())
    return SentenceTransformer(modules=modules, device=device)
