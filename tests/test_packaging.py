"""A built wheel carries the files skillmap reads (issue 23, fault 5): the demo taxonomy, the
prompt files and the sample ad, mapped into the package, where shipped_path finds them.
CI (.ci/run) also installs the wheel outside the checkout and runs the README's main job."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile

import pytest

import skillmap.defaults as defaults
from conftest import REPO

SHIPPED = {"taxonomies/demo": "skills.csv", "prompts": "template.yaml",
           "data/sample_ad.txt": None}


def test_a_checkout_reads_the_projects_own_folders():
    for name in SHIPPED:
        assert defaults.shipped_path(name) == REPO / name
    assert defaults.demo_taxonomy_dir() == REPO / "taxonomies" / "demo"


def test_an_installed_wheel_reads_its_package_data(tmp_path, monkeypatch):
    package = tmp_path / "site-packages" / "skillmap"
    for name, member in SHIPPED.items():
        target = package / defaults.PACKAGED_DATA / name
        target.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if member else shutil.copy)(REPO / name, target)
    monkeypatch.setattr(defaults, "files", lambda _: package)
    for name in SHIPPED:
        assert defaults.shipped_path(name) == package / defaults.PACKAGED_DATA / name
    from skillmap.generation.prompts import default_prompts_dir

    assert default_prompts_dir() == package / defaults.PACKAGED_DATA / "prompts"


def test_an_installation_without_the_demo_taxonomy_says_so(tmp_path, monkeypatch):
    from skillmap.errors import SkillmapError

    monkeypatch.setattr(defaults, "files", lambda _: tmp_path / "skillmap")
    with pytest.raises(SkillmapError, match="demo taxonomy is missing from this installation"):
        defaults.demo_taxonomy_dir()


@pytest.mark.slow
def test_the_built_wheel_carries_the_shipped_files(tmp_path):
    source = tmp_path / "src"
    for name in ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "skillmap",
                 *SHIPPED):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        copy = shutil.copytree if (REPO / name).is_dir() else shutil.copy
        copy(REPO / name, source / name, **({"ignore": shutil.ignore_patterns("__pycache__")}
                                            if copy is shutil.copytree else {}))
    # built as CI builds it: pip's isolated build environment with pyproject's setuptools
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                    "-w", str(tmp_path / "dist"), str(source)],
                   check=True, capture_output=True, timeout=300)
    wheel = zipfile.ZipFile(next((tmp_path / "dist").glob("skillmap-*.whl")))
    names = set(wheel.namelist())
    for name in SHIPPED:
        files = [p for p in ((REPO / name).rglob("*") if (REPO / name).is_dir()
                             else [REPO / name]) if p.is_file() and "__pycache__" not in p.parts]
        assert files
        for file in files:
            member = f"skillmap/{defaults.PACKAGED_DATA}/{file.relative_to(REPO).as_posix()}"
            assert member in names and wheel.read(member) == file.read_bytes(), member
    assert "skillmap/encoder/default/bundle.json" in names  # the package data as before
