"""ESCO import: the real export in ../shared/esco, and a tiny export with every awkward case."""

from __future__ import annotations

import csv

import pytest

from helpers.hostile import REPLACEMENTS, SECRET, replace, within
from skillmap.errors import TaxonomyError
from skillmap.taxonomy import import_esco, load_taxonomy, write_taxonomy

from conftest import ESCO_DIR, needs_esco

U = "http://data.europa.eu/esco/skill/"


def _write(path, header, rows):
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)


@pytest.fixture
def tiny_esco(tmp_path):
    """Pillar S > S1 > S1.1 > S1.1.1; skills under L3, under a skill, with two parents,
    with a link to a concept missing from the export, and no altLabels/description/
    skillType columns at all (optional columns missing)."""
    folder = tmp_path / "esco"
    folder.mkdir()
    _write(folder / "skills_en.csv", ["conceptType", "conceptUri", "preferredLabel"], [
        ["KnowledgeSkillCompetence", U + "k1", "lead a team"],
        ["KnowledgeSkillCompetence", U + "k2", "lead a kitchen team"],
        ["KnowledgeSkillCompetence", U + "k3", "count cash"],
        ["KnowledgeSkillCompetence", U + "k4", "hidden gap skill"],
    ])
    _write(folder / "skillGroups_en.csv", ["conceptUri", "preferredLabel", "code"], [
        [U + "S", "skills", "S"], [U + "S1", "management", "S1"],
        [U + "S11", "leading people", "S1.1"], [U + "S111", "leading teams", "S1.1.1"],
        [U + "S2", "numbers", "S2"], [U + "S21", "handling money", "S2.1"],
    ])
    _write(folder / "skillsHierarchy_en.csv",
           ["Level 0 URI", "Level 0 preferred term", "Level 1 URI", "Level 1 preferred term",
            "Level 2 URI", "Level 2 preferred term", "Level 3 URI", "Level 3 preferred term"], [
        [U + "S", "skills", U + "S1", "management", U + "S11", "leading people", U + "S111",
         "leading teams"],
        [U + "S", "skills", U + "S2", "numbers", U + "S21", "handling money", "", ""],
    ])
    _write(folder / "broaderRelationsSkillPillar_en.csv", ["conceptUri", "broaderUri"], [
        [U + "S1", U + "S"], [U + "S11", U + "S1"], [U + "S111", U + "S11"],
        [U + "S2", U + "S"], [U + "S21", U + "S2"],
        [U + "k1", U + "S111"],                 # under a Level-3 group
        [U + "k2", U + "k1"],                   # under a broader skill only
        [U + "k3", U + "S21"], [U + "k3", U + "S111"],  # two parents
        [U + "k4", U + "not-in-this-copy"],     # dangling: dropped, counted
    ])
    return folder


def test_tiny_export_resolves_levels_through_every_path(tiny_esco, tmp_path):
    taxonomy, report = import_esco(tiny_esco)
    assert report.skills == 4 and report.groups == 6
    assert report.dangling_links_dropped == 1 and report.skills_without_parent == 1
    assert taxonomy.group(U + "S111").level == 3
    assert taxonomy.level2(U + "k1").label == "leading people"
    assert taxonomy.level2(U + "k2").label == "leading people"       # via broader skill
    assert taxonomy.level1(U + "k2").label == "management"
    assert [g.label for g in taxonomy.groups_at_level(U + "k3", 2)] == [
        "handling money", "leading people"]
    assert taxonomy.level2(U + "k4") is None
    assert taxonomy.skill(U + "k1").alt_labels == () and taxonomy.skill(U + "k1").description == ""
    write_taxonomy(taxonomy, tmp_path / "native")
    assert load_taxonomy(tmp_path / "native").fingerprint == taxonomy.fingerprint


def test_export_without_skills_file_is_a_clear_error(tiny_esco):
    (tiny_esco / "skills_en.csv").unlink()
    with pytest.raises(TaxonomyError, match="no skills_<lang>.csv found"):
        import_esco(tiny_esco)


EXPORT_FILES = ("skills_en.csv", "skillGroups_en.csv", "broaderRelationsSkillPillar_en.csv",
                "skillsHierarchy_en.csv")


# (the YAML file or the bracket nest as the optional hierarchy is plain text in one column:
# a CSV without level columns, imported without levels, so not a case)
TEXT = ("yaml-alias-bomb", "deep-nesting")
HOSTILE_CASES = [(name, kind) for name in EXPORT_FILES for kind in REPLACEMENTS
                 if not (name == "skillsHierarchy_en.csv" and kind in TEXT)]


@pytest.mark.parametrize("name, kind", HOSTILE_CASES)
def test_an_export_file_replaced_by_something_hostile_is_refused_in_one_line(
        tiny_esco, tmp_path, name, kind):
    """A file of the export folder that is a FIFO (the import waited forever), a link to
    /dev/zero (read until memory ran out), a link out of the folder, a sparse giant...:
    one TaxonomyError line that quotes nothing of it."""
    replace(tiny_esco / name, kind, tmp_path)
    with pytest.raises(TaxonomyError) as error:
        within(20, import_esco, tiny_esco)
    message = str(error.value)
    assert "\n" not in message and name in message and SECRET not in message


@pytest.fixture(scope="module")
def esco():
    if not (ESCO_DIR / "skills_en.csv").is_file():
        pytest.skip("../shared/esco is not present")
    return import_esco(ESCO_DIR)


def _by_label(taxonomy, label):
    return next(s for s in taxonomy.skills if s.label == label)


@needs_esco
def test_real_esco_counts(esco):
    taxonomy, report = esco
    assert report.skills == 13749 and len(taxonomy) == 13749
    assert taxonomy.levels == {0: 4, 1: 28, 2: 156, 3: 452}
    assert sum(1 for s in taxonomy.skills if len(s.parents) > 1) > 4000
    assert len(taxonomy.skills_without_level(2)) < 20


@needs_esco
@pytest.mark.parametrize("skill, level2", [
    ("work in teams", "collaborating in teams and networks"),
    ("operate forklift", "operating mobile plant"),
    ("SQL", "information and communication technologies (icts)"),
])
def test_real_esco_level2_memberships(esco, skill, level2):
    taxonomy, _ = esco
    assert level2 in [g.label for g in taxonomy.groups_at_level(_by_label(taxonomy, skill).id, 2)]


@needs_esco
def test_real_esco_multi_parent_skill_keeps_both_branches(esco):
    taxonomy, _ = esco
    groups = [g.label for g in taxonomy.groups_at_level(_by_label(taxonomy, "manage budgets").id, 2)]
    assert groups == ["allocating and controlling resources", "working with numbers and measures"]


@needs_esco
def test_real_esco_skill_type_and_reuse_level_survive_the_native_folder(esco, tmp_path):
    """What the skill_type and reuse_level output columns are read from."""
    taxonomy, _ = esco
    work_in_teams = _by_label(taxonomy, "work in teams")
    assert (work_in_teams.skill_type, work_in_teams.reuse_level) == ("skill/competence",
                                                                     "transversal")
    assert _by_label(taxonomy, "SQL").skill_type == "knowledge"
    levels = {s.reuse_level for s in taxonomy.skills}
    assert levels == {"", "transversal", "cross-sector", "sector-specific", "occupation-specific"}
    write_taxonomy(taxonomy, tmp_path / "esco")
    again = load_taxonomy(tmp_path / "esco")
    assert _by_label(again, "work in teams").reuse_level == "transversal"
    assert again.fingerprint == taxonomy.fingerprint


def test_a_taxonomy_without_reuse_levels_keeps_its_file_and_fingerprint(demo_taxonomy, tmp_path):
    """Indexes saved before reuse_level existed still load: their taxonomy copy hashes the same."""
    write_taxonomy(demo_taxonomy, tmp_path / "demo")
    header = (tmp_path / "demo" / "skills.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == "id,label,alt_labels,description,skill_type,parents"
    assert load_taxonomy(tmp_path / "demo").fingerprint == demo_taxonomy.fingerprint


@needs_esco
def test_cli_import_esco_writes_loadable_folder(tmp_path, capsys):
    from skillmap.cli import main

    assert main(["taxonomy", "import-esco", str(ESCO_DIR), "--out", str(tmp_path / "esco")]) == 0
    assert "skills: 13749" in capsys.readouterr().out
    assert len(load_taxonomy(tmp_path / "esco")) == 13749


@needs_esco
@pytest.mark.slow
def test_template_corpus_covers_every_esco_skill_with_constrained_groups(esco, tmp_path):
    """The issue's promise on the real taxonomy: every skill gets sentences, the long tail
    included, and constrained combinations never leave their Level-2 group."""
    import json
    from collections import Counter

    from skillmap.generation import generate_corpus, make_backend

    taxonomy, _ = esco
    out = tmp_path / "esco.jsonl"
    generate_corpus(taxonomy, make_backend("template"), out, modes=["single", "constrained"],
                    per_skill=1)
    single, level2_ok, constrained = Counter(), True, 0
    for line in out.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record["mode"] == "single":
            single[record["skill_ids"][0]] += 1
        else:
            constrained += 1
            groups = {taxonomy.level2(s).id for s in record["skill_ids"]}
            level2_ok &= groups == {record["group"]}
    assert len(single) == len(taxonomy.skills)  # every one of the 13,749 skills
    assert constrained > 4000 and level2_ok
