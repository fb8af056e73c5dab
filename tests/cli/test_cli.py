"""The `skillmap` command line: outputs, help, and one-line errors on bad input."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest


from conftest import DATA, REPO
from helpers.cli import one_line_error, run


@pytest.fixture(scope="module", autouse=True)
def _warm(demo_extractor):
    """Load the model and default index once; CLI calls in this module reuse them."""


def test_extract_json_has_skills_and_per_sentence_detail(capsys):
    code, out, _ = run(capsys, "extract", str(DATA / "sample_ad.txt"), "--format", "json", "-k", "5")
    assert code == 0
    data = json.loads(out)
    assert data["doc_id"] == "sample_ad.txt" and len(data["skills"]) == 5
    assert {"skill_id", "skill_label", "score", "level1", "level2", "evidence_sentence"} <= set(
        data["skills"][0])
    assert len(data["sentences"]) > 10 and all("skills" in s for s in data["sentences"])


def test_extract_csv_is_the_batch_long_format(capsys):
    code, out, _ = run(capsys, "extract", str(DATA / "sample_ad.txt"), "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == ["doc_id", "rank", "skill_id", "skill_label", "score", "name_bonus",
                             "mentions", "level1", "level2", "skill_type", "reuse_level",
                             "evidence_sentence", "evidence_section"]
    assert {r["skill_type"] for r in rows} <= {"skill/competence", "knowledge"}
    assert all(0 <= float(r["score"]) <= 1 for r in rows)
    assert [int(r["rank"]) for r in rows] == list(range(1, len(rows) + 1))


def test_extract_table_and_stdin(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(
        "Fluent German is required.".encode())))
    code, out, _ = run(capsys, "extract", "-")
    assert code == 0 and "speak German" in out


def test_extract_table_fits_an_80_column_terminal(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    code, out, _ = run(capsys, "extract", str(DATA / "sample_ad.txt"), "-k", "10")
    assert code == 0
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert len(lines) <= 10 * 2 + 6      # a skill label may wrap once; evidence never does
    assert "--format json" in out        # where the full evidence is
    full = json.loads(run(capsys, "extract", str(DATA / "sample_ad.txt"), "-f", "json")[1])
    assert any(len(m["evidence_sentence"]) > 60 for m in full["skills"])


def test_extract_bad_inputs(capsys, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n")
    one_line_error(*run(capsys, "extract", str(empty))[::2], "empty")
    binary = tmp_path / "blob.bin"
    binary.write_bytes(bytes(range(256)) * 10)
    one_line_error(*run(capsys, "extract", str(binary))[::2], "binary")
    latin = tmp_path / "latin.txt"
    latin.write_bytes("Gesucht: Bäcker mit Erfahrung".encode("latin-1"))
    one_line_error(*run(capsys, "extract", str(latin))[::2], "not valid UTF-8", "--encoding")
    one_line_error(*run(capsys, "extract", str(tmp_path / "missing.txt"))[::2], "no such file")
    # the suggested fix works
    code, out, _ = run(capsys, "extract", str(latin), "--encoding", "latin-1", "-f", "json")
    assert code == 0 and "Bäcker" in out


def test_utf16_with_bom_is_read(capsys, tmp_path):
    ad = tmp_path / "utf16.txt"
    ad.write_bytes("Experience administering medication.".encode("utf-16"))
    code, out, _ = run(capsys, "extract", str(ad), "-f", "json")
    assert code == 0 and json.loads(out)["skills"][0]["skill_label"] == "administer medication"


def test_extract_with_missing_index_is_one_line_error(capsys, tmp_path):
    one_line_error(*run(capsys, "extract", str(DATA / "sample_ad.txt"), "--index",
                        str(tmp_path / "nope"))[::2], "no such index directory")


def test_help_teaches_with_examples():
    result = subprocess.run([sys.executable, "-m", "skillmap.cli", "extract", "--help"],
                            capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0
    assert "--top-k" in result.stdout and "skillmap extract data/sample_ad.txt" in result.stdout


def test_usage_errors_exit_nonzero(capsys):
    code, _, err = run(capsys, "extract", str(DATA / "sample_ad.txt"), "--top-k", "0")
    assert code == 2 and "--top-k" in err


def test_model_option_is_checked_against_the_index(capsys, tiny_model_factory, demo_index,
                                                   tmp_path):
    tiny = tiny_model_factory(hidden=32)
    demo_index.save(tmp_path / "idx")
    one_line_error(*run(capsys, "extract", str(DATA / "sample_ad.txt"), "--index",
                        str(tmp_path / "idx"), "--model", str(tiny))[::2], "index was built with")
    # without --index, --model chooses the encoder of the embedded default index
    code, out, _ = run(capsys, "extract", str(DATA / "sample_ad.txt"), "--model", str(tiny),
                       "-f", "json")
    assert code == 0 and json.loads(out)["skills"]
