"""Refusals of bad input, run as a user would: the real `skillmap` process, its exit status,
its stderr, and what it left on disk (the full matrix of inputs and entry points, including
inputs that are coded rather than refused, is tests/pipeline/test_input_matrix.py).

Each case must end with exactly one line `skillmap: error: ...` that names the problem, a
non-zero exit status, and no output file or folder. These inputs fail before any model is
loaded, so the cases are fast.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from conftest import DATA, DEMO_TAXONOMY


def skillmap(*args, cwd):
    return subprocess.run([sys.executable, "-m", "skillmap.cli", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def make_inputs(folder):
    (folder / "empty.csv").write_bytes(b"")
    (folder / "empty.txt").write_bytes(b"\n \n")
    (folder / "binary.csv").write_bytes(bytes(range(256)) * 40)
    (folder / "binary.txt").write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(2000))
    (folder / "latin1.csv").write_bytes("id,text\n1,Koch für Küche gesucht\n".encode("latin-1"))
    (folder / "latin1.txt").write_bytes("Koch für Küche gesucht".encode("latin-1"))
    dup = folder / "dup-tax"
    shutil.copytree(DEMO_TAXONOMY, dup)
    first = (dup / "skills.csv").read_text().splitlines()[1]
    with open(dup / "skills.csv", "a") as fh:
        fh.write(first + "\n")
    (folder / "ragged.csv").write_text("id,text\n1,We need Python, SQL and Java\n")
    (folder / "unclosed.csv").write_text('id,text\n1,"We need Python.\n2,SQL\n')
    (folder / "dupcols.csv").write_text("id,text,text\n1,a,b\n")
    (folder / "utf16-no-bom.txt").write_bytes("We need a Python developer.".encode("utf-16-le"))
    (folder / "huge.txt").write_bytes(b"We need Python. " * 400_000)
    dangling = folder / "dangling-tax"
    shutil.copytree(DEMO_TAXONOMY, dangling)
    with open(dangling / "groups.csv", "a") as fh:
        fh.write("L2-orphans,orphans,2,L1-nowhere,\n")


CASES = {
    "batch empty file": (["batch", "empty.csv", "-c", "text", "-o", "out.csv"], "empty"),
    "batch binary file": (["batch", "binary.csv", "-c", "text", "-o", "out.csv"], "binary"),
    "batch wrong column": (["batch", DATA / "sample_ads.csv", "-c", "body", "-o", "out.csv"],
                           "no column 'body'"),
    "batch non-UTF-8": (["batch", "latin1.csv", "-c", "text", "-o", "out.csv"], "not valid"),
    "batch missing file": (["batch", "nope.csv", "-c", "text", "-o", "out.csv"], "no such file"),
    "batch ragged rows": (["batch", "ragged.csv", "-c", "text", "-o", "out.csv"],
                          "line 2 has 3 cell(s) but the header has 2"),
    "batch unclosed quote": (["batch", "unclosed.csv", "-c", "text", "-o", "out.csv"],
                             "quote left open"),
    "batch duplicated columns": (["batch", "dupcols.csv", "-c", "text", "-o", "out.csv"],
                                 "duplicated column"),
    "batch bad output format": (["batch", DATA / "sample_ads.csv", "-c", "description", "-o",
                                 "out.xlsx"], "must end in .csv or .parquet"),
    "extract UTF-16 without BOM": (["extract", "utf16-no-bom.txt"], "--encoding utf-16"),
    "extract over --max-ad-chars": (["extract", "huge.txt", "--max-ad-chars", "1000000"],
                                    "more than one job ad"),
    "extract empty file": (["extract", "empty.txt"], "empty"),
    "extract binary file": (["extract", "binary.txt"], "binary"),
    "extract non-UTF-8": (["extract", "latin1.txt"], "not valid UTF-8"),
    "taxonomy duplicate id": (["index", "build", "--taxonomy", "dup-tax", "--out", "out-index"],
                              "duplicate id"),
    "taxonomy dangling parent": (["taxonomy", "info", "dangling-tax"], "'L1-nowhere'"),
    "esco folder missing": (["taxonomy", "import-esco", "nope", "--out", "out-tax"],
                            "no such directory"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_gives_one_line_error_and_no_output(tmp_path, case):
    make_inputs(tmp_path)
    before = set(tmp_path.iterdir())
    args, needle = CASES[case]
    result = skillmap(*args, cwd=tmp_path)
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("skillmap: error:") and needle in lines[0], lines[0]
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert set(tmp_path.iterdir()) == before  # no output, no partial or temporary file
