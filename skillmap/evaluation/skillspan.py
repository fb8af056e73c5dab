"""Reader for SkillSpan (Zhang et al., NAACL 2022): whole English postings, sentence by sentence.

Each JSON line is one sentence of a posting: ``idx`` (the posting), ``tokens``, BIO tags in
``tags_skill`` and ``tags_knowledge``, ``source``. A sentence with any B/I tag states a skill
or knowledge item; one with only ``O`` states none (titles, addresses, company text,
benefits) — real negatives for the skill-sentence filter. :meth:`SkillSpan.postings` rebuilds
each posting as one text with a line per sentence, keeping the line offsets, so the
pipeline's evidence sentences can be traced back to the gold sentence they came from.
"""

from __future__ import annotations

import bisect
import os
from dataclasses import dataclass, field
from pathlib import Path

from skillmap.errors import InputError
from skillmap.io import open_regular_file, read_jsonl


@dataclass
class SpanSentence:
    posting: str
    text: str
    has_skill: bool
    source: str = ""


@dataclass
class Posting:
    """A rebuilt posting: ``text`` has one line per gold sentence, starting at ``starts``."""

    id: str
    text: str
    starts: list[int]
    sentences: list[SpanSentence] = field(default_factory=list)

    @property
    def source(self) -> str:
        """``tech`` or ``house``: the SkillSpan partition the posting comes from."""
        return self.sentences[0].source if self.sentences else ""

    def sentence_at(self, offset: int) -> SpanSentence:
        """The gold sentence whose line holds character ``offset``."""
        return self.sentences[max(bisect.bisect_right(self.starts, offset) - 1, 0)]


@dataclass
class SkillSpan:
    sentences: list[SpanSentence]

    def postings(self) -> list[Posting]:
        grouped: dict[str, list[SpanSentence]] = {}
        for sentence in self.sentences:
            grouped.setdefault(sentence.posting, []).append(sentence)
        postings = []
        for posting_id, sentences in grouped.items():
            starts, offset = [], 0
            for sentence in sentences:
                starts.append(offset)
                offset += len(sentence.text) + 1
            postings.append(Posting(posting_id, "\n".join(s.text for s in sentences), starts,
                                    sentences))
        return postings


def read_skillspan(path: str | Path) -> SkillSpan:
    """Read a SkillSpan JSON-lines file; one-line errors name the line that is wrong."""
    sentences = [s for s in read_jsonl(path, "SkillSpan record", _span_sentence) if s.text]
    if not sentences:
        raise InputError(f"{path}: no sentences")
    return SkillSpan(sentences)


def _span_sentence(row: dict) -> SpanSentence:
    tags = list(row.get("tags_skill", [])) + list(row.get("tags_knowledge", []))
    return SpanSentence(str(row["idx"]), " ".join(row["tokens"]).strip(),
                        any(t != "O" for t in tags), str(row.get("source", "")))


def is_skillspan(path: str | Path) -> bool:
    """Whether ``path`` looks like SkillSpan JSON lines (a first record with ``idx`` and
    ``tokens``). Anything there but a regular file is refused (an :class:`InputError`): the
    other benchmark readers would wait on a pipe or read a device without end."""
    if os.path.lexists(path):
        open_regular_file(path, "benchmark").close()
    try:
        for row in read_jsonl(path, "record", lambda row: row):
            return "idx" in row and "tokens" in row
    except InputError:
        return False
    return False
