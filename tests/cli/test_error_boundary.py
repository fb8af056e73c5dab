"""One error boundary for every command: a user's or the machine's problem is one
`skillmap: error:` line (exit 2), a bug is one line too (exit 1) with a hint to re-run with
--debug, which shows the traceback; problems with the output are found before any coding."""

from __future__ import annotations

import errno
import os
import resource
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from helpers.cli import one_line_error, run
from skillmap.cli import main

from conftest import DATA, REPO

SAMPLE = DATA / "sample_ads.csv"


def test_an_unexpected_error_is_one_line_with_a_hint_and_debug_shows_the_traceback(
        capsys, monkeypatch):
    import skillmap.taxonomy

    def broken(folder):
        raise KeyError("a bug deep inside")

    monkeypatch.setattr(skillmap.taxonomy, "load_taxonomy", broken)
    code, out, err = run(capsys, "taxonomy", "info", "taxonomies/demo")
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("skillmap: error: unexpected KeyError")
    assert "--debug" in lines[0]
    with pytest.raises(KeyError):
        main(["--debug", "taxonomy", "info", "taxonomies/demo"])
    monkeypatch.setenv("SKILLMAP_DEBUG", "1")
    with pytest.raises(KeyError):
        main(["taxonomy", "info", "taxonomies/demo"])


def test_extract_of_an_endless_file_stops_at_the_cap_in_one_line(capsys):
    """Issue 25: `extract /dev/zero` read without limit."""
    code, out, err = run(capsys, "extract", "/dev/zero", "--max-ad-chars", "1000")
    one_line_error(code, err, "/dev/zero", "more than one job ad")


@pytest.mark.slow
def test_a_full_disk_during_a_batch_is_one_line_and_the_run_resumes(tmp_path, capsys,
                                                                     monkeypatch,
                                                                     demo_extractor):
    """Issue 25: disk full gave a traceback. The chunks finished before it are kept."""
    import skillmap.batch.coder as coder

    original, calls = coder.write_long_csv, {"n": 0}

    def full(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp_path / "x"))
        return original(*args, **kwargs)

    monkeypatch.setattr(coder, "write_long_csv", full)
    out = tmp_path / "coded.csv"
    args = ["batch", SAMPLE, "-c", "description", "--id-column", "ad_id", "--chunk-size", "5",
            "-o", out]
    code, _, err = run(capsys, *args)
    last = err.strip().splitlines()[-1]  # after the progress bar
    assert code == 2 and "Traceback" not in err
    assert last.startswith("skillmap: error:") and "No space left on device" in last
    assert "--resume" in last
    assert not out.exists() and len(list((tmp_path / "coded.csv.partial").glob("chunk-*.csv"))) == 2
    monkeypatch.setattr(coder, "write_long_csv", original)
    code, _, err = run(capsys, *args, "--resume")
    assert code == 0, err
    assert "2 of 4 chunks resumed" in err


def test_an_output_path_that_is_a_folder_is_refused_before_the_model_loads(tmp_path, capsys,
                                                                          monkeypatch):
    """Issue 25: an output path that is a folder was found only after all the coding."""
    from skillmap.pipeline import Extractor

    def no_model(*args, **kwargs):
        raise AssertionError("the model was loaded")

    monkeypatch.setattr(Extractor, "from_config", no_model)
    (tmp_path / "coded.csv").mkdir()
    code, _, err = run(capsys, "batch", SAMPLE, "-c", "description", "-o",
                       tmp_path / "coded.csv")
    one_line_error(code, err, "is a folder")


def test_repeated_and_empty_ids_are_warned_about(tmp_path, capsys, demo_extractor):
    """Issue 25: duplicate and empty ids passed with no warning."""
    source = tmp_path / "ads.csv"
    source.write_text("id,text\n1,We need Python.\n1,We need SQL.\n,We need Java.\n"
                      "2,We need Excel.\n", encoding="utf-8")
    code, _, err = run(capsys, "batch", source, "-c", "text", "--id-column", "id", "-o",
                       tmp_path / "coded.csv")
    assert code == 0, err
    assert "warning: 1 ads have an id an earlier ad already has (e.g. '1')" in err
    assert "warning: 1 ads have an empty id" in err


@pytest.mark.slow
def test_the_file_size_limit_is_one_line_not_a_kill(tmp_path):
    """Issue 25: past `ulimit -f` the process was killed by SIGXFSZ (or gave a traceback)."""
    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    result = subprocess.run(
        [sys.executable, "-m", "skillmap.cli", "generate", "--per-skill", "3", "--out",
         str(tmp_path / "corpus.jsonl")], cwd=REPO, capture_output=True, text=True,
        preexec_fn=limit, timeout=300, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert result.returncode == 2, result.stderr[-2000:]
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("skillmap: error:") and "ulimit -f" in lines[-1], lines[-1]
    assert "Traceback" not in result.stderr


def _leaf_commands():
    import typer.main

    from skillmap.cli import app

    def walk(command, path):
        children = getattr(command, "commands", None)
        if not children:
            yield path
            return
        for name, child in children.items():
            if not child.hidden:
                yield from walk(child, [*path, name])

    return list(walk(typer.main.get_command(app), []))


@pytest.mark.parametrize("path", _leaf_commands(), ids=" ".join)
def test_every_command_reports_a_usage_error_in_one_line_naming_its_help(capsys, path):
    """Click prints usage, a hint and the error on three lines; skillmap says it in one."""
    code, out, err = run(capsys, *path, "--no-such-option")
    one_line_error(code, err, "--no-such-option", f"skillmap {' '.join(path)} --help")
    assert out == ""


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
               min_size=1, max_size=20).filter(lambda s: not s.startswith("-")))
@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_made_up_choice_is_one_line(capsys, value):
    from skillmap.generation.prompts import MODES

    assume(value not in MODES)
    code, _, err = run(capsys, "generate", "corpus", "-o", "never-written.jsonl", "--mode", value)
    one_line_error(code, err, "--mode")
