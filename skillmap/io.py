"""Small file helpers shared by every stage: atomic writes and safe text reading.

Outputs are written to a temporary file in the destination folder, flushed to disk and moved
into place with ``os.replace`` only once complete, so a crash or Ctrl-C never leaves a
half-written file where the user expects a result, and an existing file is never clobbered by
a failed run. The temporary names are private (0600/0700) while they are written; what is
moved into place gets the permissions the user's umask gives a new file or folder.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import stat
import tempfile
from pathlib import Path
from typing import IO, Any, BinaryIO, Callable, Iterable, Iterator, TypeVar

from skillmap.errors import InputError, SkillmapError

try:
    import fcntl
except ImportError:  # Windows: no flock; runs on one output are not kept apart there
    fcntl = None

UTF8_BOM = b"\xef\xbb\xbf"
_BOMS = (
    (UTF8_BOM, "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w", encoding: str | None = "utf-8",
                 newline: str | None = None) -> Iterator[IO]:
    """Open a temporary sibling of ``path`` for writing; move it into place on success.

    On any exception the temporary file is removed and ``path`` is left untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        binary = "b" in mode
        with os.fdopen(fd, mode, encoding=None if binary else encoding,
                       newline=None if binary else newline) as fh:
            yield fh
            fh.flush()
            os.fchmod(fh.fileno(), 0o666 & ~current_umask())
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike, holds: str) -> Iterator[Path]:
    """Build a directory under a temporary name; swap it into place on success.

    Yields the temporary directory to fill. If ``path`` already exists it is replaced
    only after the new one is complete, and only if it is empty or a folder of the same
    kind, known by the file ``holds`` that every such folder has (``metadata.json`` for an
    index, say): an output path that names a folder of the user's own files is refused
    rather than swapped away.
    """
    path = Path(path)
    check_replaceable_directory(path, holds)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~current_umask())
        if path.exists():
            old = path.with_name(f".{path.name}.old-{os.getpid()}")
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def check_replaceable_directory(path: Path, holds: str) -> None:
    """Refuse ``path`` as a folder to (re)write unless it is absent, empty, or has ``holds``."""
    if not os.path.lexists(path):
        return
    if not path.is_dir():
        raise SkillmapError(f"{path}: exists and is not a folder; choose another output folder")
    if (path / holds).exists() or not any(path.iterdir()):
        return
    raise SkillmapError(f"{path}: a folder of other files (no {holds}), which writing here "
                        "would replace; choose a new or empty folder")


def open_directory(path: str | os.PathLike) -> int | None:
    """A read-only descriptor of the folder ``path`` (to lock it), or None if it is gone."""
    try:
        return os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except (FileNotFoundError, NotADirectoryError):
        return None


def try_lock(fd: int) -> bool:
    """Take the exclusive ``flock`` of ``fd`` without waiting; False if another process has
    it. Released when ``fd`` is closed, by the kernel too when the process dies, so a killed
    run never leaves a stale lock. (Windows has no flock: every lock is granted there.)"""
    if fcntl is None:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        raise


def refuse_overwriting_inputs(out: str | os.PathLike, inputs: Iterable[str | os.PathLike]
                              ) -> None:
    """Refuse, before any work, an output that is one of the command's inputs by any name
    (the same path, a link to it, a hard link): writing it would replace what the user gave."""
    for given in inputs:
        try:
            same = os.path.samefile(out, given)
        except OSError:  # one of them does not exist (yet): compare where the names lead
            same = Path(out).resolve() == Path(given).resolve()
        if same:
            raise InputError(f"{out}: refusing to overwrite the input file")


def lock_folder(folder: Path, busy: str) -> int:
    """Make ``folder`` and hold its lock: a descriptor, whose closing releases it (as does
    the process's death), so that two runs never write into one folder (checkpoints); a
    held lock is refused at once, with the message ``busy``."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise SkillmapError(f"{folder}: in the way of the checkpoint folder (not a folder); "
                            "move it or choose another --out") from None
    fd = open_directory(folder)
    if fd is None:
        raise SkillmapError(f"{folder}: removed while this run started; run it again")
    if not try_lock(fd):
        os.close(fd)
        raise SkillmapError(f"{folder}: {busy}")
    return fd


MIN_FREE_BYTES = 1024 * 1024  # below this, a run would fail on its first write


def check_writable_file(path: str | os.PathLike, what: str = "the output") -> None:
    """Refuse, before any work, an output that cannot be written: a path that is a folder,
    a parent that is a file, a folder that is read-only or (nearly) full. Creates missing
    parent folders, as writing would."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path}: is a folder; {what} must name a file")
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        # an unnamed file (O_TMPFILE on Linux): a kill here leaves nothing behind
        with tempfile.TemporaryFile(dir=parent):
            pass
        free = shutil.disk_usage(parent).free
    except FileExistsError:
        raise InputError(f"{parent}: not a folder, so {what} cannot be written there"
                         ) from None
    except OSError as exc:
        raise InputError(f"{parent}: cannot write {what} there "
                         f"({exc.strerror or type(exc).__name__})") from None
    if free < MIN_FREE_BYTES:
        raise InputError(f"{parent}: no space left on the device ({free:,} bytes free) for "
                         f"{what}")


def file_sha256(path: str | os.PathLike) -> str:
    """The SHA-256 of a file's bytes, read in 1 MiB blocks (any size, little memory)."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def current_umask() -> int:
    """The process's umask, read without changing it (Linux), else set and restored."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def fsync_directory(path: str | os.PathLike) -> None:
    """Flush a folder's entries (a rename inside it) to disk, where the platform allows."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


BINARY_SAMPLE_BYTES = 8192
# control bytes that text does not carry; the whitespace ones are text (Word writes a line
# break inside a cell as a vertical tab)
_TEXT_CONTROLS = b"\t\n\x0b\x0c\r\x1b"
_CONTROL_BYTES = bytes(b for b in range(32) if b not in _TEXT_CONTROLS) + b"\x7f"


def looks_binary(sample: bytes) -> bool:
    """Whether bytes that should be 8-bit text look like a binary file.

    Binary formats are full of NUL and other control bytes; scraped ad text sometimes carries
    a stray one, which :func:`~skillmap.segmentation.text.clean_text` removes. So the
    first 8 KiB count as binary only with more than one NUL per 100 bytes, or more than one
    control byte (other than tab, line breaks, vertical tab, form feed and escape) per 10
    bytes.
    """
    sample = sample[:BINARY_SAMPLE_BYTES]
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    return (sample.count(b"\x00") > max(1, len(sample) // 100)
            or controls > max(1, len(sample) // 10))


def _looks_utf16(data: bytes) -> bool:
    """ASCII-range text in UTF-16: every other byte of the sample is NUL."""
    sample = data[:BINARY_SAMPLE_BYTES]
    half = len(sample) // 2
    return half > 0 and max(sample[0::2].count(0), sample[1::2].count(0)) > 0.9 * half


def decode_text(data: bytes, source: str, encoding: str | None = None) -> str:
    """Decode ``data`` as text, or raise an :class:`InputError` that says why not.

    With no explicit ``encoding``, a UTF-8 or UTF-16 byte-order mark is honoured and plain
    UTF-8 is expected otherwise. Binary content (:func:`looks_binary`) is refused rather
    than coded as gibberish.
    """
    if encoding is None:
        for bom, codec in _BOMS:
            if data.startswith(bom):
                encoding = codec
                break
    if not (encoding or "").startswith("utf-16") and looks_binary(data):
        hint = (" (UTF-16 without a byte-order mark? pass --encoding utf-16)"
                if _looks_utf16(data) else "")
        raise InputError(f"{source}: looks like a binary file, not text{hint}")
    try:
        text = data.decode(encoding or "utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{source}: not valid {encoding or 'UTF-8'} text (byte 0x{data[exc.start]:02x} at "
            f"offset {exc.start}); re-save it as UTF-8 or pass --encoding (e.g. latin-1)"
        ) from None
    except LookupError:
        raise InputError(f"unknown text encoding {encoding!r}") from None
    return text


def too_long(source: str, size: int, max_chars: int, unit: str = "characters") -> str:
    """The message for one ad longer than the limit (a corpus pasted as one ad, usually)."""
    return (f"{source}: {size:,} {unit} is more than one job ad (at most {max_chars:,} "
            "characters, --max-ad-chars); code a corpus with `skillmap batch`")


def longer_than(what: str) -> Callable[..., str]:
    """A ``too_long`` message for :func:`read_text_file` when the file is ``what`` (an
    exclusion file, a benchmark), not a job ad."""
    def message(source: str, size: int, max_chars: int, unit: str = "characters") -> str:
        return (f"{source}: {size:,} {unit}, more than {what} may hold (at most "
                f"{max_chars:,} characters)")
    return message


def read_text_file(path: str | os.PathLike, encoding: str | None = None,
                   max_chars: int | None = None,
                   too_long_message: Callable[..., str] = too_long) -> str:
    """Read a whole text file with :func:`decode_text`'s checks and clear errors.

    With ``max_chars``, a file that cannot fit in that many characters (more than four bytes
    each) is refused before it is read, and so is decoded text longer than that, with the
    message ``too_long_message(source, size, max_chars, unit)`` (by default: the file is taken
    for one job ad).
    """
    path = Path(path)
    try:
        if max_chars is not None and path.stat().st_size > 4 * max_chars:
            raise InputError(too_long_message(str(path), path.stat().st_size, max_chars,
                                              unit="bytes"))
        with open(path, "rb") as handle:  # read no further than the cap: /dev/zero, a pipe
            data = handle.read(-1 if max_chars is None else 4 * max_chars + 1)
        if max_chars is not None and len(data) > 4 * max_chars:
            raise InputError(too_long_message(str(path), len(data), max_chars,
                                              unit="bytes or more"))
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, expected a file") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied") from None
    text = decode_text(data, str(path), encoding)
    if max_chars is not None and len(text) > max_chars:
        raise InputError(too_long_message(str(path), len(text), max_chars))
    return text


def bounded_lines(handle, limit: int, refuse: Callable[[int], Exception]
                  ) -> Iterator[tuple[int, str | bytes]]:
    """The numbered lines of ``handle`` (text or bytes), each read no further than ``limit``
    characters: a longer one raises ``refuse(number)`` before it is held whole, so a file of
    zeros or a binary file cannot fill memory through one "line"."""
    number = 0
    while True:
        line = handle.readline(limit + 1)
        if not line:
            return
        number += 1
        if len(line) > limit:
            raise refuse(number)
        yield number, line


def open_regular_file(path: str | os.PathLike, what: str = "input") -> BinaryIO:
    """Open a user's input file for reading (bytes), refusing anything but a regular file:
    a FIFO would wait forever, a device never ends, a folder is not one. The check is made
    on the opened descriptor (opened without waiting), so a file swapped after the check
    cannot slip through. A link to a regular file is followed: the user named it."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as exc:
        raise InputError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        kind = ("a folder" if stat.S_ISDIR(mode) else "a pipe" if stat.S_ISFIFO(mode)
                else "a socket" if stat.S_ISSOCK(mode) else "a device")
        raise InputError(f"{path}: {kind}, not a regular file; the {what} must be a file")
    return os.fdopen(fd, "rb")


MAX_RECORD_BYTES = 1 << 20  # one JSON Lines record here is a sentence, a posting or a label
Record = TypeVar("Record")


def read_jsonl(path: str | os.PathLike, what: str, parse: Callable[[dict[str, Any]], Record],
               limit: int = MAX_RECORD_BYTES) -> Iterator[Record]:
    """``parse(row)`` for each JSON object of a JSON Lines file, blank lines skipped.

    Every way a line can be wrong (not UTF-8, not JSON, nested too deeply, not an object,
    ``parse`` failing with ``ValueError``, ``KeyError`` or ``TypeError``, longer than
    ``limit`` bytes) is one :class:`InputError` naming the file, the line and ``what`` a line
    should be; the file is read line by line and only through :func:`open_regular_file`.
    """
    path = Path(path)
    with open_regular_file(path) as handle:
        lines = bounded_lines(handle, limit, lambda n: InputError(
            f"{path}, line {n}: longer than {limit:,} bytes, not a {what}"))
        for number, raw in lines:
            if number == 1 and raw.startswith(UTF8_BOM):
                raw = raw[len(UTF8_BOM):]
            if not raw.strip():
                continue
            try:
                row = json.loads(raw.decode("utf-8"))
                if not isinstance(row, dict):
                    raise TypeError(f"a JSON {type(row).__name__}, not an object")
                record = parse(row)
            except RecursionError:
                raise InputError(f"{path}, line {number}: nested too deeply, not a {what}"
                                 ) from None
            except (ValueError, KeyError, TypeError) as exc:
                reason = (exc.reason if isinstance(exc, UnicodeDecodeError)
                          else f"no {exc}" if isinstance(exc, KeyError) else exc)
                raise InputError(f"{path}, line {number}: not a {what} ({reason})") from None
            yield record
