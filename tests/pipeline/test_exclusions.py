"""Exclusions: skills and sentence patterns an analyst chose to ignore, from a file on the
CLI, in the extractor's config (so batch's manifest records them) and in the app."""

from __future__ import annotations

import json

import pytest

from conftest import DATA
from helpers.cli import one_line_error, run
from skillmap.errors import SkillmapError
from skillmap.pipeline import Extractor, ExtractorConfig
from skillmap.pipeline.exclusions import parse_exclusions

AD = (DATA / "sample_ad.txt").read_text(encoding="utf-8")


def test_the_file_format():
    skills, sentences = parse_exclusions(
        "# a comment\n\nSQL\nskill: python-programming  # by id\n"
        "sentence: equal opportunit(y|ies)\nhttp://data.europa.eu/esco/skill/abc\n")
    assert skills == ("SQL", "python-programming", "http://data.europa.eu/esco/skill/abc")
    assert sentences == ("equal opportunit(y|ies)",)
    with pytest.raises(SkillmapError, match="line 1: '\\(unclosed' is not a valid regular"):
        parse_exclusions("sentence: (unclosed", "list.txt")


def test_excluded_skills_are_never_listed_and_the_next_best_take_their_place(
        demo_index, encoder, demo_extractor):
    before = demo_extractor.extract(AD)
    gone = [before.skills[0].skill_label, before.skills[1].skill_id]   # a label and an id
    after = Extractor(demo_index, encoder, exclude_skills=gone).extract(AD)
    listed = {m.skill_id for m in after.skills} | {m.skill_id for s in after.sentences
                                                   for m in s.matches}
    assert before.skills[0].skill_id not in listed and before.skills[1].skill_id not in listed
    assert len(after.skills) == len(before.skills)   # the list is still top_k long


def test_excluded_sentences_are_not_searched_and_say_so(demo_index, encoder, demo_extractor):
    before = demo_extractor.extract(AD)
    evidence = before.skills[0].evidence_sentence
    pattern = evidence.split()[0] + r"\b.*" + evidence.split()[-1].strip(".")
    after = Extractor(demo_index, encoder, exclude_sentences=[pattern.replace("(", r"\(")
                                                              .replace(")", r"\)")]).extract(AD)
    hit = next(s for s in after.sentences if s.text == evidence)
    assert hit.excluded and not hit.filtered and not hit.matches and not hit.coded
    assert all(m.evidence_sentence != evidence for m in after.skills)
    assert after.to_dict()["sentences"][hit.index]["excluded"] is True


def test_an_unknown_skill_is_one_line(demo_index, encoder):
    with pytest.raises(SkillmapError, match="'no such skill' not in this taxonomy"):
        Extractor(demo_index, encoder, exclude_skills=["no such skill"])


def test_config_round_trips_through_json_as_the_manifest_does():
    config = ExtractorConfig(exclude_skills=["SQL"], exclude_sentences=["salary"])
    data = json.loads(json.dumps(config.to_dict()))
    assert data == config.to_dict() and data["exclude_skills"] == ["SQL"]
    assert ExtractorConfig.from_dict(data) == config


def test_cli_extract_and_batch_take_an_exclusion_file(tmp_path, capsys):
    exclusions = tmp_path / "exclude.txt"
    exclusions.write_text("SQL\nsentence: python\n", encoding="utf-8")
    code, out, _ = run(capsys, "extract", DATA / "sample_ad.txt", "--format", "json")
    assert code == 0 and "SQL" in out
    code, out, _ = run(capsys, "extract", DATA / "sample_ad.txt", "--format", "json",
                       "--exclude", exclusions)
    assert code == 0, out
    data = json.loads(out)
    assert "SQL" not in {m["skill_label"] for m in data["skills"]}
    assert all("python" not in m["evidence_sentence"].lower() for m in data["skills"])
    assert any(s["excluded"] for s in data["sentences"])

    # batch records the list in the manifest of its run (kept by an interrupted run)
    from skillmap.batch.coder import check_batch_input, run_manifest
    from skillmap.cli import _extractor

    table = check_batch_input(DATA / "sample_ads.csv", "description", "ad_id")[0]
    table.scan()
    manifest = run_manifest(table, "description", "ad_id", 256, _extractor(exclude=exclusions), 0)
    assert manifest["extractor"]["exclude_skills"] == ["SQL"]
    assert manifest["extractor"]["exclude_sentences"] == ["python"]
    code, _, err = run(capsys, "batch", DATA / "sample_ads.csv", "--text-column", "description",
                       "--exclude", exclusions, "--out", tmp_path / "coded.csv")
    assert code == 0, err
    assert "SQL" not in (tmp_path / "coded.csv").read_text(encoding="utf-8").split(",")


def test_cli_bad_exclusion_files_are_one_line(tmp_path, capsys):
    missing = tmp_path / "missing.txt"
    code, _, err = run(capsys, "extract", DATA / "sample_ad.txt", "--exclude", missing)
    one_line_error(code, err, "missing.txt", "no such file")
    unknown = tmp_path / "unknown.txt"
    unknown.write_text("basket weaving\n", encoding="utf-8")
    code, _, err = run(capsys, "extract", DATA / "sample_ad.txt", "--exclude", unknown)
    one_line_error(code, err, "'basket weaving'", "not in this taxonomy")
