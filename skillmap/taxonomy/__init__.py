"""Taxonomy stage: the model of skills and groups, the native folder format, ESCO import,
and the text a skill is embedded as (read by the encoder's trainer and the index alike)."""

from skillmap.taxonomy.esco import EscoImportReport, import_esco
from skillmap.taxonomy.model import Skill, SkillGroup, Taxonomy, TaxonomyMetadata
from skillmap.taxonomy.native import load_taxonomy, write_taxonomy
from skillmap.taxonomy.skill_text import DEFAULT_TEMPLATE, skill_text

__all__ = ["DEFAULT_TEMPLATE", "EscoImportReport", "Skill", "SkillGroup", "Taxonomy", "TaxonomyMetadata",
           "import_esco", "load_taxonomy", "skill_text", "write_taxonomy"]
