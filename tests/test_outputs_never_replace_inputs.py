"""A file output that is the command's own input, by any name (the same path, another
spelling of it, a symbolic or hard link), is refused in one line before any work, and the
input is left byte for byte. Before, `train weak-labels P -o P` replaced the user's postings
with labels (and `generate labels` would have, after its LLM run)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import DATA
from helpers.cli import one_line_error, run
from skillmap.errors import InputError
from skillmap.io import refuse_overwriting_inputs

POSTINGS = b'{"id": "p1", "lines": ["About us", "We need a nurse who speaks German."]}\n'


def _alias(folder: Path, target: Path, how: str) -> Path:
    """Another name for ``target``."""
    if how == "same path":
        return target
    if how == "another spelling":
        (folder / "sub").mkdir(exist_ok=True)
        return folder / "sub" / ".." / target.name
    alias = folder / f"alias-{how.replace(' ', '-')}{target.suffix}"
    if how == "symbolic link":
        alias.symlink_to(target.name)
    else:
        os.link(target, alias)
    return alias


HOW = ["same path", "another spelling", "symbolic link", "hard link"]
COMMANDS = {
    "train weak-labels": (POSTINGS, ".jsonl", ["train", "weak-labels", "INPUT", "-o", "OUT"]),
    "generate labels": (POSTINGS, ".jsonl", ["generate", "labels", "INPUT", "-o", "OUT",
                                             "--base-url", "http://127.0.0.1:9/v1", "-m", "m"]),
    "generate labels --cache": (POSTINGS, ".jsonl", [
        "generate", "labels", "INPUT", "-o", "labels.jsonl", "--cache", "OUT",
        "--base-url", "http://127.0.0.1:9/v1", "-m", "m"]),
    "batch": ((DATA / "sample_ads.csv").read_bytes(), ".csv",
              ["batch", "INPUT", "--text-column", "description", "-o", "OUT"]),
}


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_an_output_naming_the_input_is_refused_and_the_input_kept(
        tmp_path, capsys, monkeypatch, command, how):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPENAI_API_KEY", "x")
    content, suffix, template = COMMANDS[command]
    given = tmp_path / f"input{suffix}"
    given.write_bytes(content)
    out = _alias(tmp_path, given, how)
    before = sorted(p.name for p in tmp_path.iterdir())
    args = [given if a == "INPUT" else out if a == "OUT" else a for a in template]
    code, _, err = run(capsys, *args)
    one_line_error(code, err, "refusing to overwrite the input file")
    assert given.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_a_new_output_beside_the_input_is_accepted(tmp_path):
    given = tmp_path / "in.jsonl"
    given.write_bytes(POSTINGS)
    refuse_overwriting_inputs(tmp_path / "out.jsonl", [given])  # not there yet
    (tmp_path / "copy.jsonl").write_bytes(POSTINGS)  # same bytes, another file
    refuse_overwriting_inputs(tmp_path / "copy.jsonl", [given])
    with pytest.raises(InputError):
        refuse_overwriting_inputs(tmp_path / "." / "in.jsonl", [tmp_path / "copy.jsonl", given])
