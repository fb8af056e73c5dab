"""skillmap: code job advertisements against skill taxonomies such as ESCO.

Quick start::

    from skillmap import Extractor
    result = Extractor().extract("We need a Python developer who knows SQL.")
    for skill in result.skills:
        print(skill.rank, skill.skill_label, round(skill.score, 3))
"""

from skillmap.errors import SkillmapError
from skillmap.version import __version__


def __getattr__(name: str):
    # Heavy imports (torch, faiss) happen only when the API is used, so `skillmap --help`
    # and taxonomy commands start fast.
    if name == "Extractor":
        from skillmap.pipeline import Extractor

        return Extractor
    if name in ("SkillIndex", "default_index"):
        import skillmap.index as index

        return getattr(index, name)
    if name == "SkillEncoder":
        from skillmap.encoder import SkillEncoder

        return SkillEncoder
    if name in ("Taxonomy", "load_taxonomy", "import_esco", "write_taxonomy"):
        import skillmap.taxonomy as taxonomy

        return getattr(taxonomy, name)
    raise AttributeError(f"module 'skillmap' has no attribute {name!r}")


__all__ = ["Extractor", "SkillEncoder", "SkillIndex", "SkillmapError", "Taxonomy",
           "default_index", "import_esco", "load_taxonomy", "write_taxonomy"]
