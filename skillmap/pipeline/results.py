"""Result records of extraction, shared by the CLI, batch coding and the app.

``AdResult.rows()`` yields the long format of the design (one row per ad x skill), the one
schema every surface writes: :data:`LONG_COLUMNS`. ``AdResult.summary_row()`` is the per-ad
summary (one row per ad, also one without skills): :data:`SUMMARY_COLUMNS`, written by
``skillmap batch --summary`` and the app's summary download alike.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import IO, Iterable, Sequence

LONG_COLUMNS = ("doc_id", "rank", "skill_id", "skill_label", "score", "name_bonus", "mentions",
                "level1", "level2", "skill_type", "reuse_level", "evidence_sentence",
                "evidence_section")
#: the long format's numeric columns and their Parquet types; every other column is text
NUMERIC_COLUMNS = {"rank": "int32", "score": "float32", "name_bonus": "float32",
                   "mentions": "int32"}

#: the per-ad summary's columns; the kept input columns come after ``doc_id``
SUMMARY_COLUMNS = ("doc_id", "sentences", "filtered_sentences", "skills", "top_skills",
                   "level1_groups")
#: the summary's counts (int64 in Parquet); every other column is text
SUMMARY_COUNTS = ("sentences", "filtered_sentences", "skills")
#: the group of a skill whose taxonomy has none at that level (summary, app)
NO_GROUP = "(no group)"
#: joins an ad's skill labels (all of them, in rank order) in ``top_skills``
SKILL_SEPARATOR = " | "


def long_parquet_schema(kept: dict | None = None):
    """The long format's Parquet schema (:data:`NUMERIC_COLUMNS`, the rest text), then the
    kept input columns with their arrow types (``kept``: name -> type)."""
    import pyarrow as pa

    return pa.schema([(c, pa.type_for_alias(NUMERIC_COLUMNS.get(c, "string")))
                      for c in LONG_COLUMNS] + list((kept or {}).items()))


def summary_names(keep_columns: Sequence[str] = ()) -> list[str]:
    """The summary's columns in order: ``doc_id``, the kept columns, then the rest."""
    return [SUMMARY_COLUMNS[0], *keep_columns, *SUMMARY_COLUMNS[1:]]


def summary_parquet_schema(kept: dict | None = None):
    """The summary's Parquet schema: ``kept`` (name -> arrow type) after ``doc_id``."""
    import pyarrow as pa

    kept = kept or {}
    return pa.schema([(c, kept[c] if c in kept else
                       pa.int64() if c in SUMMARY_COUNTS else pa.string())
                      for c in summary_names(list(kept))])


@dataclass(slots=True)
class SkillMatch:
    """A skill found for a sentence or an ad, with the sentence that supports it.

    ``score`` is the cosine similarity of the skill and its evidence sentence, in [0, 1];
    ``name_bonus`` is what ranking added because the sentence names the skill verbatim
    (the lexical boost), kept apart so that ``score`` means one thing everywhere.
    ``mentions``: how many of the ad's segments (its title included) have the skill among
    their best matches; an ad's skills rank higher the more often it asks for them.
    """

    skill_id: str
    skill_label: str
    score: float
    level1: str = ""
    level2: str = ""
    evidence_sentence: str = ""
    evidence_index: int = -1
    rank: int = 0
    name_bonus: float = 0.0
    mentions: int = 1
    evidence_section: str = ""
    skill_type: str = ""      # from the taxonomy (ESCO: skill/competence or knowledge)
    reuse_level: str = ""     # from the taxonomy (ESCO: transversal ... occupation-specific)


@dataclass(slots=True)
class SentenceResult:
    """One segment of the ad and the skills retrieved for it."""

    index: int
    text: str
    start: int
    end: int
    kind: str                             # title, heading, metadata, placeholder, sentence, bullet
    matches: list[SkillMatch] = field(default_factory=list)
    filtered: bool = False                # the filter judged it states no skill: not searched
    # the filter's P(states a skill); None: no filter run. Below the threshold but not
    # filtered: the sentence names a skill verbatim (Extractor's filter_keeps_named)
    filter_score: float | None = None
    section: str = ""                     # company, responsibilities, requirements, ...
    excluded: bool = False                # an exclusion pattern matched it: not searched

    @property
    def is_content(self) -> bool:
        """A sentence or bullet item: what the filter screens (not the title, a heading, a
        metadata line or a placeholder)."""
        return self.kind in ("sentence", "bullet")

    @property
    def coded(self) -> bool:
        """Searched, and its skills can be the ad's: a content sentence the filter kept
        (titles are searched too, but only count as mentions; headings, metadata and
        placeholders are not searched)."""
        return self.is_content and not self.filtered and not self.excluded


@dataclass(slots=True)
class AdResult:
    """Everything extraction found for one ad."""

    doc_id: str
    skills: list[SkillMatch]
    sentences: list[SentenceResult]
    #: characters past the extractor's ``max_ad_chars`` that were not coded (0: none)
    truncated_chars: int = 0
    #: corpus variables of the ad (input columns kept: date, region, ...), copied into its rows
    variables: dict[str, str] = field(default_factory=dict)

    def rows(self) -> list[dict]:
        """Long-format rows (:data:`LONG_COLUMNS`, then :attr:`variables`), best skill first.
        A variable named like a fixed column does not replace it."""
        rows = []
        for m in self.skills:
            row = {"doc_id": self.doc_id, "rank": m.rank, "skill_id": m.skill_id,
                   "skill_label": m.skill_label, "score": round(m.score, 4),
                   "name_bonus": round(m.name_bonus, 4), "mentions": m.mentions,
                   "level1": m.level1, "level2": m.level2, "skill_type": m.skill_type,
                   "reuse_level": m.reuse_level, "evidence_sentence": m.evidence_sentence,
                   "evidence_section": m.evidence_section}
            for name, value in self.variables.items():
                row.setdefault(name, value)
            rows.append(row)
        return rows

    def summary_row(self) -> dict:
        """The ad's row of the per-ad summary (:data:`SUMMARY_COLUMNS`, the variables after
        ``doc_id``): its content sentences (no titles, headings, metadata), how many of them
        the filter dropped, its skills, their labels in rank order and its Level-1 groups
        (most skills first, "(no group)" for skills without one)."""
        groups = Counter(m.level1 or NO_GROUP for m in self.skills)
        content = [s for s in self.sentences if s.is_content]
        row = {"doc_id": self.doc_id}
        for name, value in self.variables.items():
            row.setdefault(name, value)
        row.update({"sentences": len(content),
                    "filtered_sentences": sum(s.filtered for s in content),
                    "skills": len(self.skills),
                    "top_skills": SKILL_SEPARATOR.join(m.skill_label for m in self.skills),
                    "level1_groups": "; ".join(g for g, _ in groups.most_common())})
        return row

    def to_dict(self, sentences: bool = True) -> dict:
        """JSON-ready dict; per-sentence detail included unless ``sentences=False``."""
        data = {"doc_id": self.doc_id,
                "skills": [_match_dict(m) for m in self.skills]}
        if self.truncated_chars:
            data["truncated_chars"] = self.truncated_chars
        if self.variables:
            data["variables"] = dict(self.variables)
        if sentences:
            data["sentences"] = [
                {"index": s.index, "text": s.text, "start": s.start, "end": s.end,
                 "kind": s.kind, "section": s.section, "filtered": s.filtered,
                 "excluded": s.excluded,
                 "filter_score": None if s.filter_score is None else round(s.filter_score, 4),
                 "skills": [_match_dict(m, evidence=False) for m in s.matches]}
                for s in self.sentences]
        return data


def write_long_csv(fh: IO[str], results: Iterable[AdResult], header: bool = True,
                   keep_columns: Sequence[str] = ()) -> int:
    """Write results in the long format to an open text file (``newline=""``); return rows.

    The one CSV writer of every surface, so a corpus coded in the app downloads byte for byte
    what ``skillmap batch`` writes for the same ads (and the same ``keep_columns``).
    """
    writer = csv.DictWriter(fh, fieldnames=[*LONG_COLUMNS, *keep_columns],
                            extrasaction="ignore")
    if header:
        writer.writeheader()
    rows = 0
    for result in results:
        for row in result.rows():
            writer.writerow(row)
            rows += 1
    return rows


def write_summary_csv(fh: IO[str], results: Iterable[AdResult], header: bool = True,
                      keep_columns: Sequence[str] = ()) -> int:
    """Write the per-ad summary (one row per ad) to an open text file; return rows. The one
    writer of ``batch --summary`` and the app's summary download."""
    writer = csv.DictWriter(fh, fieldnames=summary_names(keep_columns), extrasaction="ignore")
    if header:
        writer.writeheader()
    rows = 0
    for result in results:
        writer.writerow(result.summary_row())
        rows += 1
    return rows


def _match_dict(match: SkillMatch, evidence: bool = True) -> dict:
    data = asdict(match)
    data["score"] = round(match.score, 4)
    data["name_bonus"] = round(match.name_bonus, 4)
    if not evidence:
        for key in ("evidence_sentence", "evidence_index", "mentions", "evidence_section"):
            data.pop(key)
    return data
