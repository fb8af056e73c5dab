"""Property-based tests (hypothesis) of the taxonomy model, the native folder format and the
ESCO import (issue 9, item 2).

The contract checked here (also stated in ``skillmap/taxonomy/native.py``):

* **Round trip.** ``write_taxonomy`` either refuses a taxonomy with a one-line
  ``TaxonomyError``, or writes a folder that ``load_taxonomy`` reads back *equal* (same
  metadata, skills and groups, field by field, in order; hence the same fingerprint).
* **What it refuses** is exactly what the format cannot store unchanged: no skills; an
  empty id, label or taxonomy name; a value with leading/trailing whitespace (the loader
  strips cells); a NUL character (the loader refuses binary files); a lone surrogate (not
  UTF-8); and in a list cell (``alt_labels``, ``parents``) an item containing the separator
  ``|``, an empty item or a repeated item. Commas, quotes, line breaks of every kind
  (including \x85 and \u2028), any other unicode and any level are stored.
* **Loading never crashes.** Whatever the folder holds (random bytes, random CSV, missing or
  extra columns, dangling parents, cycles, duplicate ids, bad YAML), ``load_taxonomy``
  returns a taxonomy or raises a ``SkillmapError`` with a one-line message; a taxonomy it
  returns can be written and read back equal. The same holds for ``import_esco`` on
  arbitrary small exports (what it imports is written or refused as above).
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from skillmap.errors import SkillmapError, TaxonomyError
from skillmap.taxonomy import import_esco, load_taxonomy, write_taxonomy
from skillmap.taxonomy.model import Skill, SkillGroup, Taxonomy, TaxonomyMetadata
from skillmap.taxonomy.native import GROUP_COLUMNS, SKILL_COLUMNS

# CI (any value of $CI) replays the same examples every run and keeps no example database.
# Each example writes and reads a small folder, so the example count is modest.
CI = "CI" in os.environ
PROPERTY = settings(deadline=None, max_examples=100, derandomize=CI, print_blob=CI)


# -- strategies ------------------------------------------------------------------------
# Characters that matter to CSV, YAML, the list separator and str.splitlines/str.strip.
TRICKY = [",", '"', "'", "\n", "\r", "|", " ", "\t", "\x85", "\u2028", "\u2029", "\x0b", "\x0c",
          "\x1c", "\x1e", "\xa0", "\u3000", "\ufeff", ":", "#", "-", "&", "é", "中", "😀",
          "\U0010fffd", "\x7f", "\x03", "\ufffe"]
chars = st.one_of(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"),
                  st.sampled_from(TRICKY))
# raw values may also hold NUL and lone surrogates (not encodable as UTF-8)
any_value = st.text(alphabet=st.one_of(chars, st.sampled_from(["\x00", "\ud800", "\udfff"])),
                    max_size=12)


# Representable values: no NUL, no '|' (so any of them can be a list item), and a first and
# last character that are not whitespace; inside, anything (line breaks, quotes, commas...).
inner_chars = st.one_of(st.characters(exclude_categories=("Cs",), exclude_characters="\x00|"),
                        st.sampled_from([c for c in TRICKY if c != "|"]))
# (every whitespace character is in category Cc, Zs, Zl or Zp)
edge_chars = st.one_of(st.characters(exclude_categories=("Cs", "Cc", "Zs", "Zl", "Zp"),
                                     exclude_characters="|"),
                       st.sampled_from([c for c in TRICKY if c != "|" and not c.isspace()]))
required_value = st.one_of(edge_chars, st.builds(lambda a, middle, b: a + middle + b, edge_chars,
                                                 st.text(alphabet=inner_chars, max_size=10),
                                                 edge_chars))          # ids, labels, name
text_value = st.one_of(st.just(""), required_value)                   # description, code...
levels = st.integers(min_value=-5, max_value=10**12)


@st.composite
def taxonomies(draw, value=text_value, required=required_value, item=required_value,
               unique=True):
    """A taxonomy with a random DAG: groups under earlier groups, skills under earlier
    groups or skills, several parents allowed. Defaults give a representable taxonomy;
    ``any_value`` and ``unique=False`` give one that may not be."""
    n_groups = draw(st.integers(0, 5))
    n_skills = draw(st.integers(1, 6))
    ids = draw(st.lists(required, min_size=n_groups + n_skills, max_size=n_groups + n_skills,
                        unique=True))
    group_ids, skill_ids = ids[:n_groups], ids[n_groups:]
    groups = []
    for i, gid in enumerate(group_ids):
        parents = draw(st.lists(st.sampled_from(group_ids[:i]), unique=unique, max_size=3)
                       ) if i else []
        groups.append(SkillGroup(id=gid, label=draw(required), level=draw(levels),
                                 parents=tuple(parents), description=draw(value),
                                 code=draw(value)))
    skills = []
    for j, sid in enumerate(skill_ids):
        above = group_ids + skill_ids[:j]
        parents = draw(st.lists(st.sampled_from(above), unique=unique, max_size=3)
                       ) if above else []
        skills.append(Skill(id=sid, label=draw(required),
                            alt_labels=tuple(draw(st.lists(item, unique=unique, max_size=3))),
                            description=draw(value),
                            skill_type=draw(st.one_of(st.sampled_from(
                                ["skill/competence", "knowledge", ""]), value)),
                            parents=tuple(parents)))
    metadata = TaxonomyMetadata(name=draw(required), version=draw(value),
                                language=draw(st.one_of(st.just("en"), value)),
                                source=draw(value), licence=draw(value))
    return Taxonomy(metadata=metadata, skills=skills, groups=groups)


# Unrepresentable on purpose: raw values anywhere (surrounding whitespace, NUL, surrogates,
# '|', empty), so ids used as parents may also carry a separator or be empty, and lists
# (alt_labels, parents) may repeat an item.
# Mostly representable values, so that each rule gets its turn to be the one broken.
with_pipe = st.builds(lambda a, b: f"{a}|{b}", required_value, required_value)
raw_taxonomies = taxonomies(value=st.one_of(text_value, text_value, any_value),
                            required=st.one_of(required_value, required_value, required_value,
                                               any_value, with_pipe),
                            item=st.one_of(required_value, any_value, with_pipe), unique=False)


def representable(tax: Taxonomy) -> bool:
    """The rules of the module docstring, written independently of the writer."""
    def plain(v: str) -> bool:
        return (v == v.strip() and "\x00" not in v
                and not any("\ud800" <= c <= "\udfff" for c in v))

    def required(v: str) -> bool:
        return plain(v) and v != ""

    def items(values) -> bool:
        return (len(set(values)) == len(values)
                and all(required(v) and "|" not in v for v in values))

    meta = tax.metadata
    return (len(tax.skills) > 0 and required(meta.name)
            and all(plain(v) for v in (meta.version, meta.language, meta.source, meta.licence))
            and all(required(g.id) and required(g.label) and plain(g.description)
                    and plain(g.code) and items(g.parents) for g in tax.groups)
            and all(required(s.id) and required(s.label) and plain(s.description)
                    and plain(s.skill_type) and items(s.alt_labels) and items(s.parents)
                    for s in tax.skills))


def assert_equal(again: Taxonomy, tax: Taxonomy) -> None:
    assert again.metadata == tax.metadata
    assert again.groups == tax.groups
    assert again.skills == tax.skills
    assert again.fingerprint == tax.fingerprint


def assert_one_line(exc: BaseException) -> None:
    message = str(exc)
    assert message.strip() and "\n" not in message and "\r" not in message, repr(message)


def _reason(exc: BaseException) -> str:
    """The kind of an error message, for hypothesis' statistics (--hypothesis-show-statistics)."""
    message = str(exc).split(": ", 1)[-1] if "/" in str(exc).split(": ", 1)[0] else str(exc)
    return " ".join(message.split()[:4])


class Scratch:
    """A fresh temporary folder per example (pytest's tmp_path is per test, not example)."""

    def __enter__(self) -> Path:
        self.path = Path(tempfile.mkdtemp(prefix="skillmap-prop-"))
        return self.path

    def __exit__(self, *exc) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


# -- round trip ------------------------------------------------------------------------
@PROPERTY
@given(taxonomies())
def test_representable_taxonomy_round_trips_through_the_folder_format(tax):
    assert representable(tax)
    with Scratch() as tmp:
        write_taxonomy(tax, tmp / "t")
        assert_equal(load_taxonomy(tmp / "t"), tax)


@PROPERTY
@given(st.one_of(raw_taxonomies, taxonomies()))
@example(Taxonomy(TaxonomyMetadata("n"), [Skill("s", "a|b"), Skill("t", "T", ("x|y",))], []))
@example(Taxonomy(TaxonomyMetadata("n\x85m", source="a\u2028b"),            # stored, as is
                  [Skill("s", "S\x85T", ("a\x1cb", "c,\"d\"\r\ne"), "x\x0cy")], []))
@example(Taxonomy(TaxonomyMetadata("n"), [Skill("s", "S", description="a\x00b")], []))
@example(Taxonomy(TaxonomyMetadata("n"), [Skill("s", "S\ud800")], []))
@example(Taxonomy(TaxonomyMetadata("n"), [Skill("s", "S", parents=("g", "g"))],
                  [SkillGroup("g", "G", 1)]))
@example(Taxonomy(TaxonomyMetadata("n"), [], [SkillGroup("g", "G", 1)]))
@example(Taxonomy(TaxonomyMetadata(" n"), [Skill("s", "S")], []))
def test_write_refuses_exactly_the_values_it_cannot_store(tax):
    with Scratch() as tmp:
        target = tmp / "t"
        try:
            write_taxonomy(tax, target)
        except TaxonomyError as exc:
            assert not representable(tax), f"refused a representable taxonomy: {exc}"
            assert_one_line(exc)
            assert not target.exists() and list(tmp.iterdir()) == []   # nothing half-written
            event("refused: " + next((why for why in ("no skills", "empty", "whitespace", "NUL",
                                                      "surrogate", "separator", "repeats")
                                      if why in str(exc)), str(exc)))
            return
        event("written")
        assert representable(tax), "wrote a taxonomy that cannot be read back unchanged"
        assert_equal(load_taxonomy(target), tax)


# -- model invariants ------------------------------------------------------------------
@PROPERTY
@given(taxonomies())
def test_level_groups_are_the_groups_reachable_by_parent_links(tax):
    """groups_at_level(x, L) holds every level-L group reachable upward from x, each once;
    a direct parent group of level L is the primary one when no earlier parent leads to L."""
    parents = {n.id: n.parents for n in [*tax.groups, *tax.skills]}
    group_ids = {g.id for g in tax.groups}
    for node_id in parents:
        seen, todo = set(), list(parents[node_id])
        while todo:
            current = todo.pop()
            if current not in seen:
                seen.add(current)
                todo.extend(parents[current])
        for level in {g.level for g in tax.groups}:
            found = tax.groups_at_level(node_id, level)
            assert len(found) == len({g.id for g in found})
            assert {g.id for g in found} == {
                p for p in seen if p in group_ids and tax.group(p).level == level}
        if parents[node_id] and parents[node_id][0] in group_ids:
            first = tax.group(parents[node_id][0])
            assert tax.level_group(node_id, first.level) == first
    for group in tax.groups:
        below = {s.id for s in tax.skills_in_group(group.id)}
        assert below == {s.id for s in tax.skills
                         if group in tax.groups_at_level(s.id, group.level)}


# -- corrupted folders -----------------------------------------------------------------
COLUMN_NAMES = st.sampled_from([*SKILL_COLUMNS, *GROUP_COLUMNS, "extra", "", " id ", "ID"])


@st.composite
def csv_texts(draw, ids):
    """CSV-shaped text: a header from the real columns (missing, extra, repeated, shuffled)
    and rows of random length whose cells are ids (so parents dangle, repeat or cycle),
    numbers, '|'-lists or arbitrary text."""
    header = draw(st.lists(COLUMN_NAMES, min_size=0, max_size=8))
    cell = st.one_of(st.sampled_from(ids), st.integers(-3, 5).map(str),
                     st.lists(st.sampled_from(ids), max_size=3).map("|".join),
                     st.text(alphabet=chars, max_size=8))
    rows = draw(st.lists(st.lists(cell, max_size=len(header) + 2), max_size=8))
    buffer = io.StringIO()
    csv.writer(buffer, quoting=draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
               ).writerows([header, *rows])
    return buffer.getvalue()


def _encode(text: str, how: str) -> bytes:
    if how == "utf-8-sig":
        return text.encode("utf-8-sig")
    if how == "utf-16":
        return text.encode("utf-16")
    if how == "latin-1":
        return text.encode("latin-1", errors="replace")
    return text.encode("utf-8")


YAMLS = st.one_of(
    st.sampled_from(["name: t\n", "name: t\nformat_version: 1\n", "format_version: 2\nname: t\n",
                     "name:\n", "- a\n- b\n", "just a string\n", "name: [1, 2]\n", "{", "",
                     "name: t\nversion: 1.0\nlanguage: null\n", "name: &a x\nsource: *a\n",
                     "? [a]\n: b\nname: t\n", "name: !!binary aGk=\n", "name: t\n\t- x\n",
                     "name: 'unterminated\n", "%YAML 9.9\n---\nname: t\n", "name: 5\n",
                     "format_version: [1]\nname: t\n", "name: t\nformat_version: true\n"]),
    st.text(alphabet=chars, max_size=40),
    st.text(alphabet=chars, max_size=20).map(lambda v: f"name: {v}\n"))


@st.composite
def folder_contents(draw):
    """The files of a valid taxonomy, of which none, one (most often) or several are broken:
    mutated (truncated, a byte changed or inserted, a line repeated or dropped, a row or a
    parent appended), absent, a directory, random bytes, random text, or random CSV / YAML."""
    tax = draw(taxonomies())
    ids = [g.id for g in tax.groups] + [s.id for s in tax.skills] + ["ghost"]
    with Scratch() as tmp:
        write_taxonomy(tax, tmp / "t")
        contents = {name: (tmp / "t" / name).read_bytes()
                    for name in ("taxonomy.yaml", "groups.csv", "skills.csv")}
    n_broken = draw(st.sampled_from([0, 1, 1, 1, 1, 2, 3]))
    for name in draw(st.permutations(sorted(contents)))[:n_broken]:
        good = contents[name]
        kind = draw(st.sampled_from(["mutated", "mutated", "mutated", "absent", "dir", "bytes",
                                     "text", "csv", "csv"]))
        if kind == "mutated":
            contents[name] = draw(_mutations(good, ids))
        elif kind == "absent":
            contents[name] = None
        elif kind == "dir":
            contents[name] = "dir"
        elif kind == "bytes":
            contents[name] = draw(st.binary(max_size=200))
        elif kind == "text":
            contents[name] = draw(st.text(alphabet=chars, max_size=200)).encode()
        elif name == "taxonomy.yaml":
            contents[name] = draw(YAMLS).encode()
        else:
            contents[name] = _encode(draw(csv_texts(ids)),
                                     draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16",
                                                           "latin-1"])))
    return contents


def _mutations(good: bytes, ids: list[str]):
    lines = good.decode().splitlines(keepends=True)
    return st.one_of(
        # truncate, or flip / insert / delete one byte
        st.integers(0, len(good)).map(lambda n: good[:n]),
        st.tuples(st.integers(0, max(len(good) - 1, 0)), st.integers(0, 255)).map(
            lambda t: good[:t[0]] + bytes([t[1]]) + good[t[0] + 1:]),
        st.tuples(st.integers(0, len(good)), st.binary(min_size=1, max_size=4)).map(
            lambda t: good[:t[0]] + t[1] + good[t[0]:]),
        # duplicate a line (duplicate ids), drop one, or append a row pointing anywhere
        st.integers(0, max(len(lines) - 1, 0)).map(
            lambda i: "".join(lines[:i + 1] + lines[i:]).encode()),
        st.integers(0, max(len(lines) - 1, 0)).map(
            lambda i: "".join(lines[:i] + lines[i + 1:]).encode()),
        st.tuples(st.sampled_from(ids), st.sampled_from(ids), st.integers(-1, 4)).map(
            lambda t: good + f"{t[0]},{t[0]}-label,{t[2]},{t[1]}\r\n".encode()),
        # rewire a parents cell: dangling parent or a cycle through existing ids
        st.tuples(st.integers(0, max(len(lines) - 1, 0)), st.sampled_from(ids)).map(
            lambda t: "".join(lines[:t[0]] + [lines[t[0]].rstrip("\r\n") + "|" + t[1] + "\r\n"]
                              + lines[t[0] + 1:]).encode()),
    )


def _write_folder(folder: Path, contents: dict) -> None:
    folder.mkdir()
    for name, data in contents.items():
        if data == "dir":
            (folder / name).mkdir()
        elif data is not None:
            (folder / name).write_bytes(data)


def _folder(**files: bytes) -> dict:
    """A small valid folder, with the files named (groups=..., skills=..., yaml=...) replaced."""
    base = {"taxonomy.yaml": b"name: t\n",
            "groups.csv": b"id,label,level,parents\na,A,1,\nb,B,2,a\n",
            "skills.csv": b"id,label,parents\ns,S,b|a\n"}
    names = {"yaml": "taxonomy.yaml", "groups": "groups.csv", "skills": "skills.csv"}
    return {**base, **{names[key]: data for key, data in files.items()}}


def _deep_folder(depth: int = 5000) -> dict:
    """A valid taxonomy whose parent chain is deeper than Python's recursion limit (the
    deepest group first, so resolving it walks the whole chain)."""
    rows = "".join(f"g{i},G{i},{i},{f'g{i - 1}' if i else ''}\n" for i in reversed(range(depth)))
    return {"taxonomy.yaml": b"name: deep\n",
            "groups.csv": ("id,label,level,parents\n" + rows).encode(),
            "skills.csv": f"id,label,parents\ns,S,g{depth - 1}\n".encode()}


@PROPERTY
@given(folder_contents())
@example(_folder())
@example(_folder(groups=b"id,label,level,parents\na,A,1,b\nb,B,2,c\nc,C,2,a\n"))   # a cycle
@example(_folder(groups=b'id,label,level,parents\n"a\nb",A,1,c\nc,C,1,"a\nb"\n'))
@example(_folder(groups=b'id,label,level,parents\n"a\nb",A,1,"a\nb"\n'))
@example(_folder(groups=b'id,label,level\n"x\ny",A,1\n"x\ny",B,1\n'))       # duplicate id
@example(_folder(skills="id,label\ns,S\x85T\nt,\u2028x\x1cy\n".encode()))   # unicode breaks
@example(_folder(skills=b'id,label,alt_labels,parents\ns,S," x || x |",b|b|a\n'))
@example(_folder(skills=b'"i\nd",label\ns,S\n'))                  # line break in the header
@example(_folder(yaml=b"\xff\xfe\x00"))
@example(_folder(yaml=b"[" * 5000))                                # nesting beyond recursion
@example(_deep_folder())
@pytest.mark.slow
def test_any_folder_loads_or_fails_with_one_line_taxonomy_error(contents):
    with Scratch() as tmp:
        _write_folder(tmp / "t", contents)
        try:
            tax = load_taxonomy(tmp / "t")
        except SkillmapError as exc:
            assert isinstance(exc, TaxonomyError), type(exc)
            assert_one_line(exc)
            event(f"refused: {_reason(exc)}")
            return
        event("loaded")
        # whatever the loader accepts is a valid taxonomy the writer can store unchanged
        assert representable(tax)
        write_taxonomy(tax, tmp / "again")
        assert_equal(load_taxonomy(tmp / "again"), tax)


# -- ESCO import -----------------------------------------------------------------------
ESCO_COLUMNS = {
    "skills": ["conceptUri", "preferredLabel", "altLabels", "description", "skillType"],
    "skillGroups": ["conceptUri", "preferredLabel", "description", "code"],
    "broaderRelationsSkillPillar": ["conceptUri", "broaderUri"],
    "skillsHierarchy": ["Level 0 URI", "Level 0 preferred term", "Level 1 URI",
                        "Level 1 preferred term", "Level 1 code", "Level 2 URI"],
}


def _csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode()


# ESCO cells are messy on purpose: any text (whitespace, '|', empty) is possible, though
# most labels and URIs are well-formed.
esco_text = st.text(alphabet=chars, max_size=10)
esco_labels = st.one_of(required_value, required_value, required_value, esco_text)
esco_uris = st.one_of(*[st.integers(0, 99).map("http://data.europa.eu/esco/skill/{}".format)] * 4,
                      esco_text)


@st.composite
def _hierarchy_rows(draw, groups):
    """Level 0, 1 and 2 URIs of a hierarchy row: groups in their order, some levels blank."""
    picked = sorted(draw(st.lists(st.sampled_from(range(len(groups))), unique=True,
                                  max_size=3))) if groups else []
    row = ["", "", ""]
    for slot, i in zip(sorted(draw(st.permutations(range(3)))[:len(picked)]), picked):
        row[slot] = groups[i]
    return row


@st.composite
def esco_exports(draw):
    """An ESCO-shaped export: skills (some repeated), groups, a Level 0-2 hierarchy, broader
    relations among them and to concepts absent from the copy; none, one (most often) or
    several of its files are broken (absent, random bytes, another header, ragged rows).
    Returns the files' bytes and, if skills_<lang>.csv is intact, the URI -> preferred label
    (both stripped, first row of a URI wins) that the import must keep."""
    n_groups, n_skills = draw(st.integers(0, 4)), draw(st.sampled_from([0, 1, 2, 2, 3, 4, 5]))
    uris = draw(st.lists(esco_uris, min_size=n_groups + n_skills,
                         max_size=n_groups + n_skills, unique=True))
    groups, skills = uris[:n_groups], uris[n_groups:]
    concepts = st.sampled_from([*uris, "http://absent/1"])
    # broader links: mostly child below parent (a group under a group, a skill under a group
    # or an earlier skill), sometimes any pair (self-links, cycles, links to absent concepts)
    downward = (st.integers(1, len(uris) - 1).flatmap(
        lambda c: st.tuples(st.just(uris[c]), st.sampled_from(uris[:c])))
        if len(uris) > 1 else st.nothing())
    links = st.one_of(*[downward] * 6, st.tuples(concepts, concepts))
    chains = _hierarchy_rows(groups)
    files = {
        "skillGroups": [ESCO_COLUMNS["skillGroups"]] + [
            [g, draw(esco_labels), draw(esco_text), draw(esco_text)] for g in groups],
        "skillsHierarchy": [ESCO_COLUMNS["skillsHierarchy"]] + [
            [c[0], draw(esco_text), c[1], draw(esco_text), draw(esco_text), c[2]]
            for c in draw(st.lists(chains, max_size=4))],
        "broaderRelationsSkillPillar": [ESCO_COLUMNS["broaderRelationsSkillPillar"]] + [
            list(draw(links)) for _ in range(draw(st.integers(0, 8)))],
        "skills": [ESCO_COLUMNS["skills"]] + [
            [u, draw(esco_labels), "\n".join(draw(st.lists(esco_text, max_size=3))),
             draw(esco_text), draw(st.sampled_from(["skill/competence", "knowledge", ""]))]
            for u in skills + draw(st.lists(st.sampled_from(skills), max_size=2)
                                   if skills else st.just([]))],
    }
    contents = {stem: _csv(rows) for stem, rows in files.items()}
    n_broken = draw(st.sampled_from([0, 0, 0, 1, 1, 2]))
    broken = draw(st.permutations(sorted(files)))[:n_broken]
    labels = None
    if "skills" not in broken:
        labels = {}
        for row in files["skills"][1:]:
            labels.setdefault(row[0].strip(), row[1].strip())
    for stem in broken:
        kind = draw(st.sampled_from(["absent", "bytes", "header", "ragged", "text"]))
        if kind == "absent":
            del contents[stem]
        elif kind == "bytes":
            contents[stem] = draw(st.binary(max_size=100))
        elif kind == "header":
            header = draw(st.lists(st.sampled_from([*ESCO_COLUMNS[stem], "extra", ""]),
                                   max_size=7))
            contents[stem] = _csv([header, *files[stem][1:]])
        elif kind == "ragged":
            contents[stem] = _csv([files[stem][0]] + [
                row[:draw(st.integers(0, len(row)))] + draw(st.lists(esco_text, max_size=2))
                for row in files[stem][1:]])
        else:
            contents[stem] = draw(st.text(alphabet=chars, max_size=100)).encode()
    return contents, labels


@PROPERTY
@given(esco_exports())
def test_esco_import_of_any_export_fails_cleanly_or_gives_a_writable_taxonomy(export_labels):
    """Import fails with a one-line SkillmapError, or keeps every skill of an intact skills
    file with its preferred label, and its result is written and read back equal or refused
    by write_taxonomy as the format's rules say."""
    files, labels = export_labels
    with Scratch() as tmp:
        export = tmp / "esco"
        export.mkdir()
        for stem, data in files.items():
            (export / f"{stem}_en.csv").write_bytes(data)
        try:
            tax, report = import_esco(export)
        except SkillmapError as exc:
            assert_one_line(exc)
            event(f"import refused: {_reason(exc)}")
            return
        assert report.skills == len(tax.skills) and report.groups == len(tax.groups)
        if labels is not None:
            assert {s.id: s.label for s in tax.skills} == labels
        try:
            write_taxonomy(tax, tmp / "native")
        except TaxonomyError as exc:
            assert not representable(tax)
            assert_one_line(exc)
            event(f"imported, write refused: {_reason(exc)}")
            return
        event(f"imported and round-tripped ({min(len(tax.skills), 3)}+ skills)")
        assert_equal(load_taxonomy(tmp / "native"), tax)


def test_demo_taxonomy_is_representable(demo_taxonomy):
    """The shipped taxonomy obeys the rules the properties above are stated in."""
    assert representable(demo_taxonomy)
