"""User-facing errors.

Every problem a user can cause (a missing file, a bad column, a taxonomy with a dangling
parent) is raised as a :class:`SkillmapError` whose message is one line that names the
problem. The CLI prints that line and exits non-zero instead of showing a traceback;
anything else that escapes is a bug.
"""

from __future__ import annotations

import errno


class SkillmapError(Exception):
    """A problem with the user's input or setup, explained in one line."""


class TaxonomyError(SkillmapError):
    """A taxonomy folder that cannot be read or fails validation."""


class IndexMismatchError(SkillmapError):
    """An index used with a model or taxonomy it was not built for."""


class InputError(SkillmapError):
    """An input file (job ads, CSV) that cannot be read as asked."""


def exception_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type name when it has none): how a
    library's error is quoted inside one of our one-line messages."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


_OS_HINTS = {
    errno.ENOSPC: "free some space, then run the command again (`batch` continues with "
                  "--resume)",
    errno.EDQUOT: "free some space, then run the command again (`batch` continues with "
                  "--resume)",
    errno.EFBIG: "the file size limit (ulimit -f) was reached; raise it or write elsewhere",
    errno.EROFS: "the file system is read-only; write somewhere else",
    errno.EACCES: "choose a file or folder you may write to",
    errno.EPERM: "choose a file or folder you may write to",
    errno.EISDIR: "name a file, not a folder",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EMFILE: "too many open files; raise the limit (ulimit -n)",
}


def os_error_line(exc: OSError) -> str:
    """One line for an operating-system error (disk full, permission, read-only, file size
    limit): what failed, on which file, and what to do."""
    where = f"{exc.filename}: " if exc.filename else ""
    reason = exc.strerror or exception_line(exc)
    hint = _OS_HINTS.get(exc.errno)
    return f"{where}{reason}" + (f"; {hint}" if hint else "")
