"""Taxonomy stage: the model of skills and groups, the native folder format, ESCO import."""

from skillmap.taxonomy.esco import EscoImportReport, import_esco
from skillmap.taxonomy.model import Skill, SkillGroup, Taxonomy, TaxonomyMetadata
from skillmap.taxonomy.native import load_taxonomy, write_taxonomy

__all__ = ["EscoImportReport", "Skill", "SkillGroup", "Taxonomy", "TaxonomyMetadata",
           "import_esco", "load_taxonomy", "write_taxonomy"]
