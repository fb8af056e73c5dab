"""Taxonomy model, native folder format, validation errors and `taxonomy info`."""

from __future__ import annotations

import shutil

import pytest

from skillmap.errors import TaxonomyError
from skillmap.taxonomy import load_taxonomy, write_taxonomy

from conftest import DEMO_TAXONOMY


def test_demo_taxonomy_is_large_enough_and_fully_grouped(demo_taxonomy):
    assert len(demo_taxonomy) >= 150
    level2 = {g.id for g in demo_taxonomy.groups if g.level == 2}
    assert len(level2) >= 12
    for skill in demo_taxonomy.skills:
        assert demo_taxonomy.level1(skill.id) is not None, skill.id
        assert demo_taxonomy.level2(skill.id) is not None, skill.id
        assert skill.description, f"{skill.id} has no description"
    # every Level-2 group is actually used
    used = {demo_taxonomy.level2(s.id).id for s in demo_taxonomy.skills}
    assert used == level2


def test_multi_parent_and_level3_skills_resolve_to_level2(demo_taxonomy):
    spreadsheets = next(s for s in demo_taxonomy.skills if s.label == "use spreadsheets software")
    assert len(spreadsheets.parents) == 2
    assert len(demo_taxonomy.groups_at_level(spreadsheets.id, 2)) == 2
    # JavaScript hangs under a Level-3 group; its Level-2 group is found by walking up
    js = next(s for s in demo_taxonomy.skills if s.label == "JavaScript")
    assert demo_taxonomy.group(js.parents[0]).level == 3
    assert demo_taxonomy.level2(js.id).label == "software development"


def test_write_then_load_round_trips(demo_taxonomy, tmp_path):
    write_taxonomy(demo_taxonomy, tmp_path / "copy")
    again = load_taxonomy(tmp_path / "copy")
    assert again.fingerprint == demo_taxonomy.fingerprint
    assert again.metadata == demo_taxonomy.metadata
    assert [s.alt_labels for s in again.skills] == [s.alt_labels for s in demo_taxonomy.skills]


def _copy_demo(tmp_path):
    folder = tmp_path / "tax"
    shutil.copytree(DEMO_TAXONOMY, folder)
    return folder


def _append(path, line):
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(line + "\n")


def test_duplicate_id_names_file_and_both_rows(tmp_path):
    folder = _copy_demo(tmp_path)
    first_id = (folder / "skills.csv").read_text().splitlines()[1].split(",")[0]
    _append(folder / "skills.csv", f"{first_id},again,,,skill/competence,L2-languages")
    with pytest.raises(TaxonomyError, match=rf"duplicate id '{first_id}' \(first defined at "
                                            r"skills.csv row 2\)"):
        load_taxonomy(folder)


def test_dangling_parent_names_row_column_and_parent(tmp_path):
    folder = _copy_demo(tmp_path)
    n = len((folder / "skills.csv").read_text().splitlines())
    _append(folder / "skills.csv", "orphan,orphan skill,,,skill/competence,L2-nowhere")
    with pytest.raises(TaxonomyError) as err:
        load_taxonomy(folder)
    message = str(err.value)
    assert f"skills.csv row {n + 1}" in message and "parents" in message
    assert "'L2-nowhere'" in message and "\n" not in message


def test_cycle_is_refused(tmp_path):
    folder = tmp_path / "tax"
    folder.mkdir()
    (folder / "taxonomy.yaml").write_text("name: cyc\n")
    (folder / "groups.csv").write_text("id,label,level,parents\na,A,1,b\nb,B,2,a\n")
    (folder / "skills.csv").write_text("id,label,parents\ns,S,a\n")
    with pytest.raises(TaxonomyError, match="cycle"):
        load_taxonomy(folder)


@pytest.mark.parametrize("groups, skills, expected", [
    ("id,label,level\ng,G,one\n", "id,label,parents\ns,S,g\n", r"groups.csv row 2, column level"),
    ("id,label,level\ng,G,1\n", "id,parents\ns,g\n", r"skills.csv: missing required column\(s\) label"),
    ("id,label,level\ng,G,1\n", "", r"skills.csv: empty file"),
    ("id,label,level\ng,G,1\n", "id,label,parents\n,S,g\n", r"skills.csv row 2, column id: empty id"),
    ("id,label,level\ng,G,1\n", "id,label,parents\ns,S,g,extra\n", r"skills.csv row 2: more cells"),
    ("id,label,level\ng,G,1\n", "id,label,label\ns,S,T\n", r"column 'label' appears twice"),
])
def test_malformed_files_name_the_problem(tmp_path, groups, skills, expected):
    folder = tmp_path / "tax"
    folder.mkdir()
    (folder / "taxonomy.yaml").write_text("name: t\n")
    (folder / "groups.csv").write_text(groups)
    (folder / "skills.csv").write_text(skills)
    with pytest.raises(TaxonomyError, match=expected):
        load_taxonomy(folder)


def test_missing_metadata_and_folder(tmp_path):
    with pytest.raises(TaxonomyError, match="no such directory"):
        load_taxonomy(tmp_path / "nope")
    folder = _copy_demo(tmp_path)
    (folder / "taxonomy.yaml").unlink()
    with pytest.raises(TaxonomyError, match="taxonomy.yaml: missing"):
        load_taxonomy(folder)


def test_failed_write_leaves_existing_folder_intact(demo_taxonomy, tmp_path):
    from dataclasses import replace

    target = tmp_path / "out"
    write_taxonomy(demo_taxonomy, target)
    before = (target / "skills.csv").read_bytes()
    bad = replace(demo_taxonomy.skills[0], alt_labels=("a|b",))
    broken = type(demo_taxonomy)(demo_taxonomy.metadata, [bad, *demo_taxonomy.skills[1:]],
                                 demo_taxonomy.groups)
    with pytest.raises(TaxonomyError, match="list separator"):
        write_taxonomy(broken, target)
    assert (target / "skills.csv").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_cli_info_prints_counts(capsys):
    from skillmap.cli import main

    assert main(["taxonomy", "info", str(DEMO_TAXONOMY)]) == 0
    out = capsys.readouterr().out
    assert f"skills: {len(load_taxonomy(DEMO_TAXONOMY))}" in out
    assert "groups at level 2: " in out and "skills without a level-2 group: 0" in out


def test_cli_info_on_bad_taxonomy_is_one_line_error(tmp_path, capsys):
    from skillmap.cli import main

    folder = _copy_demo(tmp_path)
    _append(folder / "skills.csv", "x,x,,,skill/competence,missing-group")
    assert main(["taxonomy", "info", str(folder)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("skillmap: error:") and "missing-group" in err and "\n" not in err
