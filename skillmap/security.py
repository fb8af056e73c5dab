"""Untrusted files: what skillmap refuses to load, and the two helpers every loader uses.

Model folders, filter folders, bundles, indexes and prompt folders are files a user may have
downloaded from anywhere, so reading one must never run code or reach outside it:

- **No pickle.** Weights load only from safetensors. Pickle formats (``.bin``, ``.pt``,
  ``.pth``, ``.pkl``, ``.ckpt``, ...) can execute arbitrary code when unpickled, so
  :func:`check_model_files` refuses a folder holding weights only in those formats, and
  :func:`safetensors_kwargs` makes transformers load with ``use_safetensors=True`` (a folder
  with both formats loads the safetensors one). A user who trusts such a model opts in with
  ``allow_pickle=True`` in the Python API or ``SKILLMAP_ALLOW_PICKLE=1`` in the environment
  (every command, the app and Ray workers started from it honour the variable).
- **No path escapes.** A path read from a manifest (``bundle.json``, ``filter.json``,
  ``modules.json``) or built from user input (a prompt language) must stay inside its folder:
  :func:`resolve_inside` refuses absolute paths, ``..`` and symbolic links that lead out.
- **No secrets in text.** :func:`mask_secret` replaces a key wherever a server echoed it, and
  :func:`masked_in_logs` does so in the records of the HTTP client libraries while a backend
  talks to the server (their DEBUG logs show response headers, where a hostile server can
  put the key it received).
"""

from __future__ import annotations

import logging
import os
import threading
from collections import Counter
from contextlib import contextmanager
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Iterator

from safetensors import SafetensorError

from skillmap.errors import SkillmapError

ALLOW_PICKLE_ENV = "SKILLMAP_ALLOW_PICKLE"
# file formats that torch.load / pickle / joblib deserialise (code can run on load)
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".joblib")
SAFE_SUFFIXES = (".safetensors",)
OPT_IN = f"allow_pickle=True in Python or {ALLOW_PICKLE_ENV}=1"
# what loading a damaged or foreign model folder raises (a user's problem, not a bug)
MODEL_LOAD_ERRORS = (OSError, ValueError, SafetensorError)


def pickle_allowed(allow_pickle: bool | None = None) -> bool:
    """The caller's explicit choice, else ``$SKILLMAP_ALLOW_PICKLE`` (1/true/yes), else no."""
    if allow_pickle is not None:
        return bool(allow_pickle)
    return os.environ.get(ALLOW_PICKLE_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def pickle_only_files(folder: str | os.PathLike) -> list[Path]:
    """Pickle-format files in the folders (``folder`` and below) that hold no safetensors file.

    A folder with ``model.safetensors`` next to ``pytorch_model.bin`` or ``training_args.bin``
    is fine (loaders take the safetensors file); a folder, or a module sub-folder such as
    ``2_Dense/``, whose weights exist only as pickle is not.
    """
    folder = Path(folder)
    found, seen = [], set()
    for directory, dirs, files in os.walk(folder, followlinks=True):  # linked module folders
        real = os.path.realpath(directory)
        if real in seen:  # a symlink cycle
            dirs[:] = []
            continue
        seen.add(real)
        names = [name for name in files if not name.startswith(".")]
        pickles = [n for n in names if n.lower().endswith(PICKLE_SUFFIXES)]
        if pickles and not any(n.lower().endswith(SAFE_SUFFIXES) for n in names):
            found.extend(Path(directory) / n for n in sorted(pickles))
    return found


def check_model_files(path: str | os.PathLike, allow_pickle: bool | None = None,
                      what: str = "model") -> None:
    """Refuse a local model folder (or file) whose weights are only in pickle formats.

    A hub id (not a local path) passes: its loader is given ``use_safetensors=True``.
    """
    path = Path(path)
    if pickle_allowed(allow_pickle) or not path.exists():
        return
    if path.is_file():
        offenders = [path] if path.name.lower().endswith(PICKLE_SUFFIXES) else []
        base = path.parent
    else:
        offenders = pickle_only_files(path)
        base = path
    if not offenders:
        return
    names = [str(p.relative_to(base)) for p in offenders[:3]]
    more = f" and {len(offenders) - 3} more" if len(offenders) > 3 else ""
    raise SkillmapError(f"{path}: refusing to load {what} weights stored only as pickle "
                        f"({', '.join(names)}{more}), which can run code when loaded; convert "
                        f"them to safetensors, or opt in for a {what} you trust ({OPT_IN})")


def safetensors_kwargs(allow_pickle: bool | None = None) -> dict:
    """Keyword arguments for transformers' ``from_pretrained``: safetensors only, unless the
    user opted in (then safetensors is still preferred where both formats exist)."""
    return {} if pickle_allowed(allow_pickle) else {"use_safetensors": True}


def resolve_inside(folder: str | os.PathLike, relative, what: str) -> Path:
    """``folder / relative``, refused with one line if ``relative`` could lead outside it.

    ``relative`` comes from a file or a user: it must be a non-empty relative path without
    ``..`` (POSIX or Windows syntax), without NUL, and must not resolve — through symbolic
    links — outside ``folder``.
    """
    folder = Path(folder)
    if not isinstance(relative, (str, os.PathLike)) or not str(relative).strip():
        raise SkillmapError(f"{what}: expected a relative path inside {folder}, got "
                            f"{relative!r}")
    text = os.fspath(relative)
    windows, posix = PureWindowsPath(text), PurePosixPath(text)
    if ("\0" in text or posix.is_absolute() or windows.anchor
            or ".." in posix.parts or ".." in windows.parts):
        raise SkillmapError(f"{what}: {text!r} is not a relative path inside {folder}; "
                            "refusing it")
    target = folder / text
    try:
        inside = target.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError):  # a symlink loop
        inside = False
    if not inside:
        raise SkillmapError(f"{what}: {text!r} leads outside {folder} (a symbolic link?); "
                            "refusing it")
    return target


def mask_secret(text: str, secret: str | None, fragment: int = 8) -> str:
    """``text`` with ``secret`` replaced by ``***``, and any run of ``fragment`` or more of
    its consecutive characters too (a server that echoes part of a key leaks that part).

    A "secret" shorter than ``fragment`` is left alone: local servers take any key, so users
    pass placeholders like ``x`` or ``EMPTY``, and masking those would turn every "x" of a
    generated sentence into "***" ("e***perience"). No real API key is that short.
    """
    if not secret or not text or len(secret) < fragment:
        return text
    text = text.replace(secret, "***")
    out, position = [], 0
    while position < len(text):
        length = 0
        while (position + length < len(text)
               and text[position:position + length + 1] in secret):
            length += 1
        if length >= fragment:
            out.append("***")
            position += length
        else:
            out.append(text[position])
            position += 1
    return "".join(out)


_LOG_SECRETS: Counter[str] = Counter()  # secret -> how many masked_in_logs blocks hold it
_log_lock = threading.Lock()
_previous_record_factory = None


def _masking_record_factory(*args, **kwargs) -> logging.LogRecord:
    record = _previous_record_factory(*args, **kwargs)
    if _LOG_SECRETS:
        try:
            message = masked = record.getMessage()
        except Exception:  # a record whose arguments do not format: logging reports it
            return record
        for secret in list(_LOG_SECRETS):
            masked = mask_secret(masked, secret)
        if masked != message:
            record.msg, record.args = masked, None
    return record


@contextmanager
def masked_in_logs(secret: str | None) -> Iterator[None]:
    """Mask ``secret`` in every log record this process creates inside the block.

    skillmap never turns on the HTTP client libraries' DEBUG logs, but a user may, and those
    show response headers, where a hostile server can put back the key it received. Only a
    LogRecord factory sees the records of every library's loggers, and it is process-wide,
    so it is installed for the block alone (around a backend's requests) and the previous
    one is restored when the last block ends. Records are created only for enabled levels,
    so this costs nothing while DEBUG logging is off.
    """
    global _previous_record_factory
    if not secret:
        yield
        return
    with _log_lock:
        _LOG_SECRETS[secret] += 1
        if _previous_record_factory is None:
            _previous_record_factory = logging.getLogRecordFactory()
            logging.setLogRecordFactory(_masking_record_factory)
    try:
        yield
    finally:
        with _log_lock:
            _LOG_SECRETS[secret] -= 1
            if _LOG_SECRETS[secret] <= 0:
                del _LOG_SECRETS[secret]
            # restored only if nobody installed another factory on top of ours since
            if not _LOG_SECRETS and logging.getLogRecordFactory() is _masking_record_factory:
                logging.setLogRecordFactory(_previous_record_factory)
                _previous_record_factory = None
