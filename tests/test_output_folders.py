"""A folder output (index, taxonomy, model, bundle, filter, ONNX export) is written whole
under a temporary name and swapped into place. The swap never takes away a folder of the
user's own files: an ``--out`` that names one, or a file, is refused in one line and left as
it was; an empty folder or an earlier output of the same kind is replaced."""

from __future__ import annotations

import os
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import DEMO_TAXONOMY
from helpers.cli import one_line_error, run
from skillmap.errors import SkillmapError
from skillmap.io import atomic_directory

MARKER = "metadata.json"
names = st.text(string.ascii_letters + string.digits + "._- ", min_size=1, max_size=12).filter(
    lambda name: name not in (".", "..", MARKER))
trees = st.dictionaries(st.lists(names, min_size=1, max_size=3).map(lambda p: "/".join(p)),
                        st.binary(max_size=64), min_size=1, max_size=6)


def make_tree(root: Path, tree: dict[str, bytes]) -> None:
    """Write ``tree`` (relative path -> bytes) under ``root``, skipping a path that an
    earlier one made a file or a folder."""
    for relative, data in tree.items():
        path = root / relative
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        except (IsADirectoryError, NotADirectoryError, FileExistsError):
            continue


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def folder_of(tmp_path_factory, tree: dict[str, bytes]) -> Path:
    """A fresh folder holding ``tree``."""
    root = tmp_path_factory.mktemp("out")
    make_tree(root, tree)
    return root


generated = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def write_output(folder: Path) -> None:
    with atomic_directory(folder, holds=MARKER) as tmp:
        (tmp / MARKER).write_text("{}")


@settings(generated, max_examples=40)
@given(tree=trees)
def test_a_folder_of_other_files_is_refused_and_kept(tmp_path_factory, tree):
    root = folder_of(tmp_path_factory, tree)
    before = snapshot(root)
    with pytest.raises(SkillmapError, match="folder of other files") as error:
        write_output(root)
    assert "\n" not in str(error.value)
    assert snapshot(root) == before
    assert not list(root.parent.glob(f".{root.name}.*"))  # no temporary folder left


@settings(generated, max_examples=20)
@given(tree=trees)
def test_an_earlier_output_of_the_same_kind_is_replaced_whole(tmp_path_factory, tree):
    root = folder_of(tmp_path_factory, tree)
    (root / MARKER).write_text("old")
    write_output(root)
    assert snapshot(root) == {MARKER: b"{}"}


def test_an_empty_folder_is_filled_and_a_file_or_a_link_to_other_files_is_refused(tmp_path):
    write_output(tmp_path / "empty")  # absent
    (tmp_path / "made").mkdir()
    write_output(tmp_path / "made")
    assert snapshot(tmp_path / "made") == {MARKER: b"{}"}
    (tmp_path / "file").write_text("mine")
    with pytest.raises(SkillmapError, match="not a folder"):
        write_output(tmp_path / "file")
    assert (tmp_path / "file").read_text() == "mine"
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("mine")
    os.symlink(tmp_path / "mine", tmp_path / "link")
    with pytest.raises(SkillmapError, match="folder of other files"):
        write_output(tmp_path / "link")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "mine"


def test_the_cli_refuses_an_out_folder_of_the_users_files(capsys, tmp_path):
    mine = tmp_path / "reports"
    mine.mkdir()
    (mine / "q3.xlsx").write_bytes(b"figures")
    code, _, err = run(capsys, "index", "build", "-t", DEMO_TAXONOMY, "--out", mine)
    one_line_error(code, err, str(mine), "folder of other files")
    # training is refused before it starts, not after hours of it
    code, _, err = run(capsys, "train", "encoder", "-c", "none.jsonl", "-t", DEMO_TAXONOMY,
                       "--out", mine)
    one_line_error(code, err, str(mine), "skillmap_card.json")
    assert snapshot(mine) == {"q3.xlsx": b"figures"}
    assert not (tmp_path / "reports.checkpoint").exists()
