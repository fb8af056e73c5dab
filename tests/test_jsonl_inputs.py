"""The JSON Lines files users hand to skillmap besides job ads (unlabelled postings, label
files, SkillSpan, LLM corpora, gold benchmarks) are read through one bounded reader
(``skillmap.io.read_jsonl`` / ``open_regular_file``): a pipe, a device, a folder, a sparse
giant, a link loop, a nesting bomb or bytes that are not UTF-8 are refused in one line that
names the file (and the line), and nothing else escapes. Before, a FIFO hung
`train weak-labels`, /dev/zero ran it out of memory and a binary file ended in "unexpected
UnicodeDecodeError ... (a bug)".
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import DEMO_TAXONOMY
from helpers.cli import one_line_error, run
from helpers.hostile import REPLACEMENTS, SECRET, replace, within
from skillmap.corpus import read_corpus
from skillmap.errors import InputError, SkillmapError
from skillmap.evaluation import read_benchmark
from skillmap.evaluation.skillspan import is_skillspan, read_skillspan
from skillmap.filter.data import read_labelled_lines
from skillmap.generation.annotation import read_labels, read_postings
from skillmap.io import read_jsonl


def _taxonomy():
    from skillmap.taxonomy import load_taxonomy

    return load_taxonomy(DEMO_TAXONOMY)


# reader -> (what it reads, one valid line of it)
READERS = {
    "postings": (read_postings, {"id": "p1", "lines": ["We need a nurse.", "Apply now."]}),
    "filter labels": (lambda p: read_labelled_lines([p]), {"text": "Python", "skill": 1}),
    "generated labels": (lambda p: list(read_labels(p)), {"text": "Python", "skill": 1}),
    "skillspan": (read_skillspan, {"idx": 1, "tokens": ["Python", "skills"],
                                   "tags_skill": ["B", "I"]}),
    "corpus": (lambda p: list(read_corpus(p)), {
        "text": "You know Python.", "skill_ids": ["s1"], "mode": "single",
        "template_id": "single", "template_version": 2, "backend": "template", "model": "t",
        "seed": 0}),
    "benchmark": (lambda p: read_benchmark(p, _taxonomy()), {"text": "We need Python.",
                                                             "skills": ["Python"]}),
}


def _write(folder: Path, lines: list[bytes]) -> Path:
    path = folder / "input.jsonl"
    path.write_bytes(b"".join(lines))
    return path


def _line(row: dict) -> bytes:
    return (json.dumps(row) + "\n").encode()


@pytest.mark.parametrize("name", sorted(READERS))
def test_each_reader_reads_its_valid_lines(tmp_path, name):
    """(The control: with a byte-order mark and blank lines, the valid file reads.)"""
    reader, row = READERS[name]
    path = _write(tmp_path, [b"\xef\xbb\xbf" + _line(row), b"\n", b"  \n", _line(row)])
    assert reader(path)


@pytest.mark.parametrize("kind", REPLACEMENTS)
@pytest.mark.parametrize("name", sorted(READERS))
def test_a_hostile_file_is_refused_in_one_line(tmp_path, name, kind):
    """Every hostile replacement of tests/helpers/hostile.py as the input: one InputError
    naming the file, quoting nothing of what a link points to, within seconds."""
    reader, _ = READERS[name]
    path = tmp_path / "input.jsonl"
    replace(path, kind, tmp_path)
    with pytest.raises(SkillmapError) as error:
        within(20, reader, path)
    message = str(error.value)
    assert "\n" not in message and str(path) in message
    assert SECRET not in message


@pytest.mark.parametrize("kind", ["dev-zero", "fifo", "directory"])
def test_sniffing_a_benchmark_refuses_what_is_not_a_file(tmp_path, kind):
    """`eval pipeline` sniffs the benchmark's first record: a pipe or a device is refused
    there (the readers after it take the file whole), a missing file is not SkillSpan."""
    path = tmp_path / "bench.jsonl"
    replace(path, kind, tmp_path)
    with pytest.raises(InputError, match="not a regular file; the benchmark must be a file"):
        within(20, is_skillspan, path)
    assert is_skillspan(tmp_path / "absent.jsonl") is False


COMMANDS = {  # each command that reads one of these files, INPUT and OUT to fill in
    "train weak-labels": ["train", "weak-labels", "INPUT", "-o", "OUT"],
    "train filter": ["train", "filter", "-c", "INPUT", "-o", "OUT", "--kind",
                     "embedding-logistic"],
    "train encoder": ["train", "encoder", "-c", "INPUT", "-t", DEMO_TAXONOMY, "--out", "OUT"],
    "generate stats": ["generate", "stats", "INPUT"],
    "eval filter": ["eval", "filter", "-b", "INPUT"],
    "eval pipeline": ["eval", "pipeline", "-b", "INPUT"],
}


@pytest.mark.parametrize("kind", ["dev-zero", "fifo", "directory", "sparse-10GB"])
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_commands_refuse_a_hostile_input_in_one_line(tmp_path, capsys, command, kind):
    path = tmp_path / "input.jsonl"
    replace(path, kind, tmp_path)
    out = tmp_path / "out"
    args = [path if a == "INPUT" else out if a == "OUT" else a for a in COMMANDS[command]]
    code, _, err = within(60, run, capsys, *args)
    one_line_error(code, err, str(path))
    assert not out.exists()


def test_a_line_error_names_the_line_and_what_it_should_be(tmp_path):
    path = _write(tmp_path, [_line({"id": 1, "lines": ["a"]}), b"\n", b"\xff\xfe oops\n"])
    with pytest.raises(InputError, match=r"line 3: not a posting \(invalid start byte\)"):
        read_postings(path)
    path = _write(tmp_path, [_line({"lines": ["a"]})])
    with pytest.raises(InputError, match=r"line 1: not a posting \(no 'id'\)"):
        read_postings(path)
    path = _write(tmp_path, [b"[1, 2]\n"])
    with pytest.raises(InputError, match="line 1: not a posting .a JSON list, not an object"):
        read_postings(path)
    path = _write(tmp_path, [_line({"id": 1, "lines": "one string"})])
    with pytest.raises(InputError, match="not a list of lines"):
        read_postings(path)


def test_a_line_longer_than_the_limit_is_refused_before_it_is_held(tmp_path):
    path = _write(tmp_path, [_line({"id": 1}), b'{"id": "' + b"x" * 5000 + b'"}\n'])
    with pytest.raises(InputError, match="line 2: longer than 1,000 bytes, not a row"):
        list(read_jsonl(path, "row", dict, limit=1000))


VALID = [_line(row) for _, row in READERS.values()]


@settings(max_examples=150, deadline=None, derandomize=bool(os.environ.get("CI")),
          suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(READERS)),
       lines=st.lists(st.one_of(st.sampled_from(VALID), st.binary(max_size=40),
                                st.binary(max_size=40).map(lambda b: b + b"\n")),
                      max_size=6))
def test_any_bytes_either_read_or_are_refused_in_one_line(name, lines):
    """Valid lines of every reader mixed with arbitrary bytes: the reader returns, or raises
    one InputError naming the file; never any other exception."""
    reader, _ = READERS[name]
    with tempfile.TemporaryDirectory() as folder:
        path = _write(Path(folder), lines)
        try:
            reader(path)
        except SkillmapError as exc:
            message = str(exc)
            assert "\n" not in message and str(path) in message

