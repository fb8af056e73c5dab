"""Index stage: faiss search over skill embeddings, saved with its provenance."""

from skillmap.index.default import default_index
from skillmap.index.skill_index import IndexMetadata, SkillIndex
from skillmap.taxonomy.skill_text import DEFAULT_TEMPLATE, skill_text

__all__ = ["DEFAULT_TEMPLATE", "IndexMetadata", "SkillIndex", "default_index", "skill_text"]
