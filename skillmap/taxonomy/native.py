"""Read and write the native taxonomy folder (format spec: ``taxonomies/README.md``).

A folder holds ``taxonomy.yaml`` (metadata), ``skills.csv`` and ``groups.csv``. List-valued
cells (``alt_labels``, ``parents``) are separated by ``|`` so files stay one row per record
and open cleanly in a spreadsheet. Every error names the file, and where it can the row and
column, so a taxonomy author can fix it without reading code.

:func:`write_taxonomy` stores a taxonomy so that :func:`load_taxonomy` reads it back equal,
or refuses it with a :class:`TaxonomyError` when a value cannot be stored unchanged: no
skills; an empty id, label or name; leading/trailing whitespace (the loader strips cells); a
NUL character (the loader refuses binary files); a lone surrogate (not UTF-8); or, in a list
cell, an item that is empty, repeated or contains ``|``. (Before, such values were written and
the folder then failed to load or loaded different, e.g. a saved index whose taxonomy
fingerprint no longer matched.)
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import yaml

from skillmap import bounded
from skillmap.errors import SkillmapError, TaxonomyError, exception_line
from skillmap.io import atomic_directory, decode_text
from skillmap.taxonomy.model import Skill, SkillGroup, Taxonomy, TaxonomyMetadata, unique

FORMAT_VERSION = 1
LIST_SEPARATOR = "|"
SKILL_COLUMNS = ("id", "label", "alt_labels", "description", "skill_type", "parents")
#: optional skill columns, written only when some skill has a value
OPTIONAL_SKILL_COLUMNS = ("reuse_level",)
GROUP_COLUMNS = ("id", "label", "level", "parents", "description", "code")
REQUIRED_SKILL_COLUMNS = ("id", "label")
REQUIRED_GROUP_COLUMNS = ("id", "label", "level")


def _split(cell: str | None) -> tuple[str, ...]:
    return unique((cell or "").split(LIST_SEPARATOR))


def _read_file(folder: Path, name: str, kind: str) -> bytes:
    """A file of the folder: inside it, regular and size-capped (:mod:`skillmap.bounded`)."""
    if not os.path.lexists(folder / name):
        raise TaxonomyError(f"{folder / name}: missing (a taxonomy folder needs taxonomy.yaml, "
                            "skills.csv and groups.csv)")
    try:
        return bounded.read_bytes(folder, name, kind, what=f"taxonomy {name}")
    except SkillmapError as exc:
        raise TaxonomyError(str(exc)) from None


def _read_rows(folder: Path, name: str, required: tuple[str, ...]
               ) -> list[tuple[int, dict[str, str]]]:
    """Rows of a CSV as (row number as a spreadsheet shows it, dict), header checked."""
    path = folder / name
    try:
        text = decode_text(_read_file(folder, name, "csv"), str(path))
    except SkillmapError as exc:
        raise TaxonomyError(str(exc)) from None
    # newline="" splits rows at \r, \n and \r\n only, as the csv module expects; str.splitlines
    # also split at \x0b, \x1c-\x1e, \x85, \u2028 and \u2029 inside unquoted cells
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
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
                            f"(header is: {', '.join(map(repr, header))})")  # one line
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


def _read_metadata(folder: Path) -> TaxonomyMetadata:
    path = folder / "taxonomy.yaml"
    try:
        data = bounded.load_yaml(_read_file(folder, path.name, "yaml").decode("utf-8"),
                                 str(path)) or {}
    except UnicodeDecodeError as exc:
        raise TaxonomyError(f"{path}: not valid YAML ({exception_line(exc)})") from None
    except SkillmapError as exc:
        raise TaxonomyError(str(exc)) from None
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
    metadata = _read_metadata(folder)
    origins: dict[str, str] = {}

    groups = []
    groups_file = folder / "groups.csv"
    for line, row in _read_rows(folder, groups_file.name, REQUIRED_GROUP_COLUMNS):
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
    for line, row in _read_rows(folder, skills_file.name, REQUIRED_SKILL_COLUMNS):
        where = f"{skills_file.name} row {line}"
        origins.setdefault(row["id"], where)
        skills.append(Skill(id=row["id"], label=row["label"],
                            alt_labels=_split(row.get("alt_labels")),
                            description=row.get("description", ""),
                            skill_type=row.get("skill_type", ""),
                            parents=_split(row.get("parents")),
                            reuse_level=row.get("reuse_level", "")))
    if not skills:
        raise TaxonomyError(f"{skills_file}: no skills")
    try:
        return Taxonomy(metadata=metadata, skills=skills, groups=groups, origins=origins)
    except TaxonomyError as exc:
        raise TaxonomyError(f"{folder}: {exc}") from None


def _cell(value: str, what: str, required: bool = False) -> str:
    """``value`` as written, or a TaxonomyError if the loader would not read it back equal."""
    if required and not value:
        raise TaxonomyError(f"{what} is empty; the native format needs one")
    if value != value.strip():
        raise TaxonomyError(f"{what} has leading or trailing whitespace, which the native "
                            f"format does not keep: {value!r}")
    if "\x00" in value:
        raise TaxonomyError(f"{what} contains a NUL character: {value!r}")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise TaxonomyError(f"{what} is not valid unicode (a lone surrogate): "
                                f"{value!r}") from None
    return value


def _join(values: tuple[str, ...], what: str, node_id: str) -> str:
    for value in values:
        _cell(value, f"an item of the {what} of {node_id!r}", required=True)
        if LIST_SEPARATOR in value:
            raise TaxonomyError(f"{what} of {node_id!r} contains '{LIST_SEPARATOR}', which the "
                                f"native format uses as a list separator: {value!r}")
    if len(set(values)) < len(values):
        raise TaxonomyError(f"{what} of {node_id!r} repeats an item, which the native format "
                            f"does not keep: {values!r}")
    return LIST_SEPARATOR.join(values)


def _group_row(g: SkillGroup) -> list:
    where = f"of group {g.id!r}"
    return [_cell(g.id, "a group id", required=True),
            _cell(g.label, f"the label {where}", required=True), g.level,
            _join(g.parents, "parents", g.id), _cell(g.description, f"the description {where}"),
            _cell(g.code, f"the code {where}")]


def _skill_row(s: Skill) -> list:
    where = f"of skill {s.id!r}"
    return [_cell(s.id, "a skill id", required=True),
            _cell(s.label, f"the label {where}", required=True),
            _join(s.alt_labels, "alt_labels", s.id),
            _cell(s.description, f"the description {where}"),
            _cell(s.skill_type, f"the skill_type {where}"), _join(s.parents, "parents", s.id),
            _cell(s.reuse_level, f"the reuse_level {where}")]


def write_taxonomy(taxonomy: Taxonomy, folder: str | os.PathLike) -> Path:
    """Write ``taxonomy`` as a native folder, atomically (all three files or nothing)."""
    folder = Path(folder)
    if not taxonomy.skills:
        raise TaxonomyError("the taxonomy has no skills; the native format needs at least one")
    meta = {"format_version": FORMAT_VERSION}
    for key in ("name", "version", "language", "source", "licence"):
        meta[key] = _cell(getattr(taxonomy.metadata, key), f"the taxonomy {key}", key == "name")
    group_rows = [_group_row(g) for g in taxonomy.groups]   # refused before anything is written
    skill_rows = [_skill_row(s) for s in taxonomy.skills]
    skill_columns = SKILL_COLUMNS + OPTIONAL_SKILL_COLUMNS
    if not any(s.reuse_level for s in taxonomy.skills):
        skill_columns, skill_rows = SKILL_COLUMNS, [row[:len(SKILL_COLUMNS)] for row in skill_rows]
    meta_text = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True)
    if yaml.safe_load(meta_text) != meta:
        # PyYAML writes a NEL (\x85) raw and reads it back as a line break; escaped ASCII
        # reads back equal
        meta_text = yaml.safe_dump(meta, sort_keys=False)
    with atomic_directory(folder, holds="taxonomy.yaml") as tmp:
        (tmp / "taxonomy.yaml").write_text(meta_text, encoding="utf-8")
        with open(tmp / "groups.csv", "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(GROUP_COLUMNS)
            writer.writerows(group_rows)
        with open(tmp / "skills.csv", "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(skill_columns)
            writer.writerows(skill_rows)
    return folder
