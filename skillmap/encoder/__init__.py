"""Encoder stage: turns sentences and skill texts into vectors in one space.

Today: :class:`SkillEncoder`, a wrapper over any sentence-transformers model (offline
default all-MiniLM-L6-v2). The trained contrastive bi-encoder will plug in here.
"""

from skillmap.encoder.skill_encoder import DEFAULT_MODEL_ID, SkillEncoder, resolve_model

__all__ = ["DEFAULT_MODEL_ID", "SkillEncoder", "resolve_model"]
