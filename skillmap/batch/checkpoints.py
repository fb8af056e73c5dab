"""A batch run's checkpoint folder, ``OUT.partial/``: one run at a time, safe to kill anywhere.

The folder holds ``manifest.json`` (the run's identity: the input's content hash and every
option that changes the output), one ``chunk-NNNNNN.csv`` per finished chunk (its long rows)
with its ``ads-NNNNNN.csv`` (one summary row per ad, for ``--summary``), and, at the end,
the output being assembled. Three rules keep a user's rows safe:

- **One run per output.** The folder is locked (``flock``) for as long as a run uses it, so
  a second run on the same output — started by hand, by a scheduler, or as a ``--resume``
  — stops at once with one line instead of deleting or re-creating chunks under the first.
  The lock dies with its process: a killed run never leaves a stale lock.
- **Every step atomic.** Files are written under a temporary name, flushed to disk
  (``fsync``) and renamed into place; the output is assembled *inside* the folder and
  renamed onto ``OUT`` (same file system), so a kill leaves either the old state or the new
  one, and never a temporary file next to ``OUT``. Temporary files of a killed run are
  removed by the next run that takes the lock.
- **Clean-up cannot be half done.** The folder is first renamed away (one atomic step) and
  only then deleted, so ``OUT.partial/`` is either whole or absent; a kill during the
  deletion leaves a hidden ``.OUT.partial.discarded-*`` folder that the next run removes.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import uuid
from pathlib import Path
from typing import IO, Iterator

from skillmap.errors import InputError
from skillmap.io import atomic_write, fsync_directory, open_directory, try_lock

MANIFEST = "manifest.json"
ASSEMBLING = "assembling.json"  # every chunk is done; the output is being assembled


class CheckpointFolder:
    """``OUT.partial/`` of one run; use as a context manager (it holds the lock)."""

    def __init__(self, output_path: Path):
        self.output = Path(output_path)
        self.path = self.output.with_name(self.output.name + ".partial")
        self._fd: int | None = None
        self.created = False  # this run made the folder (nothing to resume)

    # ------------------------------------------------------------------ lock
    def __enter__(self) -> "CheckpointFolder":
        self._remove_discarded()
        for _ in range(100):  # a few rounds at most, when other runs race for the folder
            try:
                self.path.mkdir(parents=True)
                self.created = True
            except FileExistsError:
                if not self.path.is_dir():
                    raise InputError(f"{self.path}: in the way of this run's checkpoint "
                                     "folder (it is not a folder); move or delete it") from None
            fd = open_directory(self.path)
            if fd is None:      # removed between mkdir and open: try again
                continue
            if not try_lock(fd):
                os.close(fd)
                raise InputError(busy_message(self.output))
            if _same_inode(self.path, fd):
                self._fd = fd
                return self
            os.close(fd)        # the run that held it renamed it away: take the new one
            self.created = False
        raise InputError(busy_message(self.output))

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            os.close(self._fd)  # releases the lock
            self._fd = None

    # ------------------------------------------------------------------ identity
    def start(self, manifest: dict, resume: bool) -> None:
        """Record ``manifest`` in a new folder, or check it against the one there."""
        self._remove_temporary_files()
        previous = self._read_manifest()
        if previous is None:
            # a fresh folder, or one left by a kill before its manifest was written (no
            # chunk of it can be trusted without one): start over
            try:
                for stale in self.path.iterdir():
                    _remove(stale)
                with atomic_write(self.path / MANIFEST) as fh:
                    json.dump(manifest, fh, indent=2)
                fsync_directory(self.path)
            except BaseException:
                self.discard()
                raise
            return
        if not resume:
            raise InputError(f"{self.path} holds an interrupted run: pass --resume to continue "
                             "it, or delete that folder to start over")
        if previous != manifest:
            changed = sorted(k for k in set(previous) | set(manifest)
                             if previous.get(k) != manifest.get(k))
            raise InputError(f"{self.path} was made with a different input or options "
                             f"({', '.join(changed[:4])}); delete it to start over")

    def _read_manifest(self) -> dict | None:
        try:
            data = json.loads((self.path / MANIFEST).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            raise InputError(f"{self.path / MANIFEST}: damaged; delete {self.path} to start "
                             "over") from None
        return data if isinstance(data, dict) else None

    # ------------------------------------------------------------------ chunks
    def chunk(self, number: int) -> Path:
        return self.path / f"chunk-{number:06d}.csv"

    def cache_log(self, number: int) -> Path:
        return self.path / f"chunk-{number:06d}.cache.jsonl"

    def chunks(self) -> list[Path]:
        return sorted(self.path.glob("chunk-*.csv"))

    def ads_record(self, number: int) -> Path:
        """The chunk's per-ad summary rows (every ad, also one without skills), written
        before the chunk file: a done chunk has its record, unless an older version of
        skillmap made the folder."""
        return self.path / f"ads-{number:06d}.csv"

    def ads_records(self) -> list[Path]:
        return sorted(self.path.glob("ads-*.csv"))

    # ------------------------------------------------------------------ output
    @contextlib.contextmanager
    def assembling(self, binary: bool = False, also: dict[Path, Path] | None = None
                   ) -> Iterator[IO]:
        """Write the output inside the folder; on success move it onto ``OUT``.

        The marker says that every chunk is done; the temporary output lives in the locked
        folder, so a kill leaves nothing beside ``OUT`` and the next run removes it.
        ``also`` (staged file -> its target: the per-ad summary, from :meth:`staging`) moves
        into place just before ``OUT``, so a finished output has its summary beside it.
        """
        with atomic_write(self.path / ASSEMBLING) as fh:
            json.dump({"output": str(self.output)}, fh)
        staged = self.path / f"output{self.output.suffix}.tmp"
        with self._staged(staged, binary) as fh:
            yield fh
        for extra, target in (also or {}).items():
            os.replace(extra, target)
            fsync_directory(target.parent)
        os.replace(staged, self.output)
        fsync_directory(self.output.parent)

    @contextlib.contextmanager
    def staging(self, name: str, binary: bool = False) -> Iterator[IO]:
        """Write a further output (``name``, ending in ``.tmp``) inside the folder, for
        :meth:`assembling` to move into place with ``OUT``."""
        with self._staged(self.path / name, binary) as fh:
            yield fh

    @staticmethod
    @contextlib.contextmanager
    def _staged(path: Path, binary: bool) -> Iterator[IO]:
        with open(path, "wb" if binary else "w", **({} if binary else
                                                    {"encoding": "utf-8", "newline": ""})) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())

    def discard(self) -> None:
        """Remove the folder: renamed away first (atomic), then deleted."""
        trash = self.output.with_name(f".{self.path.name}.discarded-{uuid.uuid4().hex[:8]}")
        try:
            os.rename(self.path, trash)
        except FileNotFoundError:
            return
        fsync_directory(self.output.parent)
        shutil.rmtree(trash, ignore_errors=True)

    # ------------------------------------------------------------------ leftovers
    def _remove_temporary_files(self) -> None:
        for leftover in self.path.glob("*.tmp"):
            _remove(leftover)
        for leftover in self.path.glob(".*.tmp"):
            _remove(leftover)

    def _remove_discarded(self) -> None:
        """Delete folders a killed clean-up renamed away (unless a run still holds one)."""
        for trash in self.output.parent.glob(f".{self.path.name}.discarded-*"):
            fd = open_directory(trash)
            if fd is None:
                continue
            try:
                if try_lock(fd):
                    shutil.rmtree(trash, ignore_errors=True)
            finally:
                os.close(fd)


def busy_message(output: Path) -> str:
    return (f"another skillmap batch run is writing {output} (its checkpoint folder is "
            "locked); wait for it to finish, or choose another --out")


def check_not_busy(output: Path) -> None:
    """Refuse at once if a run holds ``OUT.partial/`` (the CLI asks before loading a model)."""
    folder = Path(output).with_name(Path(output).name + ".partial")
    fd = open_directory(folder)
    if fd is None:
        return
    try:
        if not try_lock(fd):
            raise InputError(busy_message(Path(output)))
    finally:
        os.close(fd)


def _same_inode(path: Path, fd: int) -> bool:
    try:
        here, held = os.stat(path), os.fstat(fd)
    except FileNotFoundError:
        return False
    return (here.st_dev, here.st_ino) == (held.st_dev, held.st_ino)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
