"""Read and write the native taxonomy folder (format spec: ``taxonomies/README.md``).

A folder holds ``taxonomy.yaml`` (metadata), ``skills.csv`` and ``groups.csv``. List-valued
cells (``alt_labels``, ``parents``) are separated by ``|`` so files stay one row per record
and open cleanly in a spreadsheet. Every error names the file, and where it can the row and
column, so a taxonomy author can fix it without reading code.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import yaml

from skillmap.errors import SkillmapError, TaxonomyError
from skillmap.io import atomic_directory, decode_text
from skillmap.taxonomy.model import Skill, SkillGroup, Taxonomy, TaxonomyMetadata, unique

FORMAT_VERSION = 1
LIST_SEPARATOR = "|"
SKILL_COLUMNS = ("id", "label", "alt_labels", "description", "skill_type", "parents")
GROUP_COLUMNS = ("id", "label", "level", "parents", "description", "code")
REQUIRED_SKILL_COLUMNS = ("id", "label")
REQUIRED_GROUP_COLUMNS = ("id", "label", "level")


def _split(cell: str | None) -> tuple[str, ...]:
    return unique((cell or "").split(LIST_SEPARATOR))


def _read_rows(path: Path, required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """Rows of a CSV as (row number as a spreadsheet shows it, dict), header checked."""
    if not path.is_file():
        raise TaxonomyError(f"{path}: missing (a taxonomy folder needs taxonomy.yaml, "
                            "skills.csv and groups.csv)")
    try:
        text = decode_text(path.read_bytes(), str(path))
    except SkillmapError as exc:
        raise TaxonomyError(str(exc)) from None
    reader = csv.DictReader(text.splitlines(keepends=True), strict=True)
    try:
        header = [h.strip() for h in (reader.fieldnames or [])]
    except csv.Error as exc:
        raise TaxonomyError(f"{path}: malformed CSV header ({exc})") from None
    if not header:
        raise TaxonomyError(f"{path}: empty file, expected a header row")
    reader.fieldnames = header
    seen = set()
    for name in header:
        if name in seen and name:
            raise TaxonomyError(f"{path}: column {name!r} appears twice in the header")
        seen.add(name)
    missing = [c for c in required if c not in header]
    if missing:
        raise TaxonomyError(f"{path}: missing required column(s) {', '.join(missing)} "
                            f"(header is: {', '.join(header)})")
    rows = []
    try:
        for row in reader:
            line = reader.line_num
            if None in row:
                raise TaxonomyError(f"{path} row {line}: more cells than header columns")
            if any(v is None for v in row.values()):
                raise TaxonomyError(f"{path} row {line}: fewer cells than header columns")
            for column in ("id", "label"):  # required and non-empty in both files
                if not (row[column] or "").strip():
                    raise TaxonomyError(f"{path} row {line}, column {column}: empty {column}")
            rows.append((line, {k: (v or "").strip() for k, v in row.items()}))
    except csv.Error as exc:
        raise TaxonomyError(f"{path} row {reader.line_num}: malformed CSV ({exc})") from None
    return rows


def _read_metadata(path: Path) -> TaxonomyMetadata:
    if not path.is_file():
        raise TaxonomyError(f"{path}: missing (a taxonomy folder needs taxonomy.yaml, "
                            "skills.csv and groups.csv)")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise TaxonomyError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise TaxonomyError(f"{path}: expected a mapping of keys (name, version, ...)")
    version = data.get("format_version", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        raise TaxonomyError(f"{path}: format_version {version!r} is not supported "
                            f"(this skillmap reads version {FORMAT_VERSION})")
    if not str(data.get("name") or "").strip():
        raise TaxonomyError(f"{path}: key 'name' is required")
    return TaxonomyMetadata(**{k: str(data.get(k) or "").strip() for k in
                               ("name", "version", "language", "source", "licence")})


def load_taxonomy(folder: str | os.PathLike) -> Taxonomy:
    """Load and validate a native taxonomy folder."""
    folder = Path(folder)
    if not folder.is_dir():
        raise TaxonomyError(f"{folder}: not a taxonomy folder (no such directory)")
    metadata = _read_metadata(folder / "taxonomy.yaml")
    origins: dict[str, str] = {}

    groups = []
    groups_file = folder / "groups.csv"
    for line, row in _read_rows(groups_file, REQUIRED_GROUP_COLUMNS):
        where = f"{groups_file.name} row {line}"
        try:
            level = int(row["level"])
        except ValueError:
            raise TaxonomyError(f"{groups_file} row {line}, column level: {row['level']!r} "
                                "is not a whole number") from None
        origins.setdefault(row["id"], where)
        groups.append(SkillGroup(id=row["id"], label=row["label"], level=level,
                                 parents=_split(row.get("parents")),
                                 description=row.get("description", ""),
                                 code=row.get("code", "")))

    skills = []
    skills_file = folder / "skills.csv"
    for line, row in _read_rows(skills_file, REQUIRED_SKILL_COLUMNS):
        where = f"{skills_file.name} row {line}"
        origins.setdefault(row["id"], where)
        skills.append(Skill(id=row["id"], label=row["label"],
                            alt_labels=_split(row.get("alt_labels")),
                            description=row.get("description", ""),
                            skill_type=row.get("skill_type", ""),
                            parents=_split(row.get("parents"))))
    if not skills:
        raise TaxonomyError(f"{skills_file}: no skills")
    try:
        return Taxonomy(metadata=metadata, skills=skills, groups=groups, origins=origins)
    except TaxonomyError as exc:
        raise TaxonomyError(f"{folder}: {exc}") from None


def _join(values: tuple[str, ...], what: str, node_id: str) -> str:
    for value in values:
        if LIST_SEPARATOR in value:
            raise TaxonomyError(f"{what} of {node_id!r} contains '{LIST_SEPARATOR}', which the "
                                f"native format uses as a list separator: {value!r}")
    return LIST_SEPARATOR.join(values)


def write_taxonomy(taxonomy: Taxonomy, folder: str | os.PathLike) -> Path:
    """Write ``taxonomy`` as a native folder, atomically (all three files or nothing)."""
    folder = Path(folder)
    with atomic_directory(folder) as tmp:
        meta = {"format_version": FORMAT_VERSION,
                "name": taxonomy.metadata.name, "version": taxonomy.metadata.version,
                "language": taxonomy.metadata.language, "source": taxonomy.metadata.source,
                "licence": taxonomy.metadata.licence}
        (tmp / "taxonomy.yaml").write_text(yaml.safe_dump(meta, sort_keys=False,
                                                          allow_unicode=True), encoding="utf-8")
        with open(tmp / "groups.csv", "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(GROUP_COLUMNS)
            for g in taxonomy.groups:
                writer.writerow([g.id, g.label, g.level, _join(g.parents, "parents", g.id),
                                 g.description, g.code])
        with open(tmp / "skills.csv", "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(SKILL_COLUMNS)
            for s in taxonomy.skills:
                writer.writerow([s.id, s.label, _join(s.alt_labels, "alt_labels", s.id),
                                 s.description, s.skill_type, _join(s.parents, "parents", s.id)])
    return folder
