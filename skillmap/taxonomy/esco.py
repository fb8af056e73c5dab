"""Import the official ESCO CSV export (skills pillar) into a :class:`Taxonomy`.

Reads ``skills_en.csv``, ``skillGroups_en.csv``, ``skillsHierarchy_en.csv`` and
``broaderRelationsSkillPillar_en.csv`` (any language suffix works). Group levels come from
the hierarchy file's ``Level N`` columns; a group missing there gets its level from its
parent's. Skills keep *all* their broader links (groups and broader skills), so a skill
hanging under a Level-3 group, or under another skill, or under two groups, still resolves
to its Level-1/Level-2 groups by walking up. ESCO releases and partial copies are messy:
optional columns may be missing and links may point at concepts absent from the copy; such
links are dropped and counted in :class:`EscoImportReport` rather than failing the import.
"""

from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

from skillmap import bounded
from skillmap.errors import SkillmapError, TaxonomyError
from skillmap.io import decode_text
from skillmap.taxonomy.model import Skill, SkillGroup, Taxonomy, TaxonomyMetadata, unique

ESCO_LICENCE = ("ESCO (c) European Union, CC BY 4.0 compatible (Commission Decision "
                "2011/833/EU). This service uses the ESCO classification of the European "
                "Commission.")
_LEVEL_COLUMN = re.compile(r"^Level (\d+) URI$")


@dataclass
class EscoImportReport:
    """What the importer kept and what it had to drop."""

    skills: int = 0
    groups: int = 0
    dangling_links_dropped: int = 0
    skills_without_parent: int = 0


def _find(folder: Path, stem: str, required: bool = True) -> Path | None:
    candidates = sorted(folder.glob(f"{stem}_*.csv")) + sorted(folder.glob(f"{stem}.csv"))
    if candidates:
        return candidates[0]
    if required:
        raise TaxonomyError(f"{folder}: no {stem}_<lang>.csv found; is this the ESCO CSV export?")
    return None


def _rows(path: Path, required: tuple[str, ...]) -> list[dict[str, str]]:
    # an export folder comes from anywhere: a file of it may be a link to /dev/zero or out of
    # the folder, a FIFO or a sparse giant (skillmap.bounded refuses each in one line)
    try:
        text = decode_text(bounded.read_bytes(path.parent, path.name, "csv", "ESCO CSV"),
                           str(path))
    except SkillmapError as exc:
        raise TaxonomyError(str(exc)) from None
    # newline="": rows end at \r/\n only; str.splitlines also split unquoted cells at \x0c,
    # \x85, \u2028 and the like, turning the rest of the row into a phantom concept
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = reader.fieldnames or []
        missing = [c for c in required if c not in header]
        if missing:
            raise TaxonomyError(f"{path}: missing column(s) {', '.join(missing)}")
        return [{k: (v or "").strip() for k, v in row.items() if k is not None} for row in reader]
    except csv.Error as exc:
        raise TaxonomyError(f"{path} row {reader.line_num}: malformed CSV ({exc})") from None


def _labels(cell: str) -> tuple[str, ...]:
    # ESCO separates alternative labels by newlines; '|' is the native list separator.
    return unique(label.replace("|", "/") for label in cell.splitlines())


def import_esco(folder: str | os.PathLike, name: str = "ESCO",
                version: str = "") -> tuple[Taxonomy, EscoImportReport]:
    """Build a taxonomy from an ESCO CSV export folder."""
    folder = Path(folder)
    if not folder.is_dir():
        raise TaxonomyError(f"{folder}: no such directory")
    report = EscoImportReport()
    skill_rows = _rows(_find(folder, "skills"), ("conceptUri", "preferredLabel"))
    group_rows = _rows(_find(folder, "skillGroups"), ("conceptUri", "preferredLabel"))
    relation_rows = _rows(_find(folder, "broaderRelationsSkillPillar"),
                          ("conceptUri", "broaderUri"))
    hierarchy_path = _find(folder, "skillsHierarchy", required=False)

    # Groups: label/code/description from skillGroups, level and parent from the hierarchy.
    group_info: dict[str, dict] = {}
    for row in group_rows:
        group_info[row["conceptUri"]] = {"label": row["preferredLabel"],
                                         "description": row.get("description", ""),
                                         "code": row.get("code", ""), "level": None,
                                         "parents": []}
    if hierarchy_path:
        hierarchy = _rows(hierarchy_path, ())
        levels = sorted(int(m.group(1)) for c in (hierarchy[0] if hierarchy else {})
                        if (m := _LEVEL_COLUMN.match(c)))
        for row in hierarchy:
            parent = None
            for level in levels:
                uri = row.get(f"Level {level} URI", "")
                if not uri:
                    continue
                info = group_info.setdefault(uri, {"label": "", "description": "", "code": "",
                                                   "level": None, "parents": []})
                info["level"] = level
                info["label"] = info["label"] or row.get(f"Level {level} preferred term", "")
                info["code"] = info["code"] or row.get(f"Level {level} code", "")
                if parent and parent not in info["parents"]:
                    info["parents"].append(parent)
                parent = uri

    skill_uris = {row["conceptUri"] for row in skill_rows}
    skill_parents: dict[str, list[str]] = {}
    for row in relation_rows:
        child, parent = row["conceptUri"], row["broaderUri"]
        if parent not in group_info and parent not in skill_uris:
            report.dangling_links_dropped += 1
            continue
        if child in group_info:
            if parent in group_info and parent not in group_info[child]["parents"]:
                group_info[child]["parents"].append(parent)
        elif child in skill_uris:
            skill_parents.setdefault(child, []).append(parent)
        else:
            report.dangling_links_dropped += 1

    # Levels for groups the hierarchy file did not list: one below their parent.
    def level_of(uri: str, seen: tuple = ()) -> int:
        info = group_info[uri]
        if info["level"] is None:
            parents = [p for p in info["parents"] if p not in seen]
            info["level"] = (level_of(parents[0], (*seen, uri)) + 1) if parents else 0
        return info["level"]

    groups = []
    for uri, info in group_info.items():
        groups.append(SkillGroup(id=uri, label=info["label"] or uri, level=level_of(uri),
                                 parents=tuple(info["parents"]),
                                 description=info["description"], code=info["code"]))

    skills = []
    seen: set[str] = set()
    for row in skill_rows:
        uri = row["conceptUri"]
        if uri in seen:
            continue
        seen.add(uri)
        parents = unique(skill_parents.get(uri, []))
        if not parents:
            report.skills_without_parent += 1
        skills.append(Skill(id=uri, label=row["preferredLabel"],
                            alt_labels=_labels(row.get("altLabels", "")),
                            description=row.get("description", ""),
                            skill_type=row.get("skillType", ""), parents=parents,
                            reuse_level=row.get("reuseLevel", "")))
    metadata = TaxonomyMetadata(name=name, version=version, language="en",
                                source=f"ESCO CSV export imported from {folder.name}",
                                licence=ESCO_LICENCE)
    taxonomy = Taxonomy(metadata=metadata, skills=skills, groups=groups)
    report.skills, report.groups = len(skills), len(groups)
    return taxonomy, report
