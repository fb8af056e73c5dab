"""User-facing errors.

Every problem a user can cause (a missing file, a bad column, a taxonomy with a dangling
parent) is raised as a :class:`SkillmapError` whose message is one line that names the
problem. The CLI prints that line and exits non-zero instead of showing a traceback;
anything else that escapes is a bug.
"""

from __future__ import annotations


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
