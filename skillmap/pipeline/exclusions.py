"""Exclusions: skills and sentences an analyst has decided not to count.

Some matches are right but useless for a study (every ad "communicates"), and some sentences
are boilerplate that the filter keeps (a legal notice naming "data protection"). An exclusion
list removes them from a run; it lives in the
:class:`~skillmap.pipeline.config.ExtractorConfig` (``exclude_skills``,
``exclude_sentences``), so ``batch`` records it in its manifest (a run can be repeated, and
``--resume`` refuses another list), the Ray engine and the app get it with the rest.

An exclusion file (``--exclude FILE``) has one entry per line::

    # comments and blank lines are ignored
    communication                      # a skill, by label (any case) or id
    skill: http://data.europa.eu/esco/skill/15d76317-c71a-4fa2-aadc-2ecc34e627b7
    sentence: equal opportunit(y|ies) employer   # a regular expression, any case

A skill is searched for as usual, then left out of every sentence's and ad's list (the next
best skill takes its place); a sentence matching a pattern is not searched, and shows as
``excluded`` in the per-sentence detail.
"""

from __future__ import annotations

import re
from pathlib import Path

from skillmap.errors import InputError
from skillmap.io import longer_than, read_text_file

MAX_FILE_CHARS = 1_000_000
MAX_ENTRIES = 10_000


def parse_exclusions(text: str, source: str = "exclusions") -> tuple[tuple[str, ...],
                                                                    tuple[str, ...]]:
    """``(skills, sentence patterns)`` of an exclusion list's text (module docstring)."""
    skills, sentences = [], []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split(" #", 1)[0].strip() if not line.lstrip().startswith("#") else ""
        if not line:
            continue
        kind, _, value = line.partition(":")
        if kind.strip().lower() == "sentence" and value.strip():
            pattern = value.strip()
            check_pattern(pattern, f"{source} line {number}")
            sentences.append(pattern)
        elif kind.strip().lower() == "skill" and value.strip():
            skills.append(value.strip())
        else:
            skills.append(line)   # a bare line (an ESCO URI has a ':' but no known prefix)
        if len(skills) + len(sentences) > MAX_ENTRIES:
            raise InputError(f"{source}: more than {MAX_ENTRIES:,} entries")
    return tuple(dict.fromkeys(skills)), tuple(dict.fromkeys(sentences))


def read_exclusions(path: str | Path) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The exclusion file at ``path`` (``--exclude``)."""
    text = read_text_file(path, max_chars=MAX_FILE_CHARS,
                          too_long_message=longer_than("an exclusion file"))
    return parse_exclusions(text, str(path))


def check_pattern(pattern: str, where: str) -> re.Pattern:
    """The compiled pattern (case-insensitive), or a one-line error naming it."""
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise InputError(f"{where}: {pattern!r} is not a valid regular expression "
                         f"({exc})") from None


def resolve_skills(entries: tuple[str, ...], skills) -> set[int]:
    """Positions in ``skills`` (the index's rows) of the excluded ids and labels; a one-line
    error for an entry that is neither in this taxonomy."""
    if not entries:
        return set()
    by_id = {skill.id: i for i, skill in enumerate(skills)}
    by_label: dict[str, list[int]] = {}
    for i, skill in enumerate(skills):
        by_label.setdefault(skill.label.casefold(), []).append(i)
    positions, unknown = set(), []
    for entry in entries:
        found = [by_id[entry]] if entry in by_id else by_label.get(entry.casefold().strip())
        if found:
            positions.update(found)
        else:
            unknown.append(entry)
    if unknown:
        shown = ", ".join(repr(u) for u in unknown[:3]) + (" ..." if len(unknown) > 3 else "")
        raise InputError(f"excluded skill{'s' * (len(unknown) > 1)} {shown} not in this "
                         "taxonomy (give a skill's id or its preferred label)")
    return positions
