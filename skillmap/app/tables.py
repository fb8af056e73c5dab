"""The app's tables, built from :class:`~skillmap.pipeline.results.AdResult` with pandas.

Pure functions (no Streamlit), so they are tested directly and the page code only lays
them out. The long format is the one ``skillmap batch`` writes
(:func:`~skillmap.pipeline.results.write_long_csv`); the per-ad summary, one row per ad for
spreadsheets, is the one ``skillmap batch --summary`` writes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import pandas as pd

from skillmap.pipeline.results import (LONG_COLUMNS, NO_GROUP, AdResult, SkillMatch,
                                      summary_names, write_long_csv, write_summary_csv)
from skillmap.taxonomy import Taxonomy


def variable_names(results: list[AdResult]) -> list[str]:
    """The corpus variables of the results (kept input columns), in order of appearance."""
    return list(dict.fromkeys(name for result in results for name in result.variables))


def long_frame(results: list[AdResult]) -> pd.DataFrame:
    """One row per ad and skill (:data:`LONG_COLUMNS`, then the corpus variables)."""
    return pd.DataFrame([row for result in results for row in result.rows()],
                        columns=[*LONG_COLUMNS, *variable_names(results)])


def long_csv(results: list[AdResult]) -> bytes:
    """The long format as UTF-8 CSV bytes, identical to ``skillmap batch``'s output (with the
    same ``--keep-column`` columns)."""
    buffer = io.StringIO(newline="")
    write_long_csv(buffer, results, keep_columns=variable_names(results))
    return buffer.getvalue().encode("utf-8")


def summary_frame(results: list[AdResult]) -> pd.DataFrame:
    """One row per ad (:meth:`~skillmap.pipeline.results.AdResult.summary_row`): its
    variables, sentence counts, number of skills, skill labels in rank order, Level-1 groups.
    Every ad has a row, also one without skills: the denominator of any share of ads."""
    return pd.DataFrame([result.summary_row() for result in results],
                        columns=summary_names(variable_names(results)))


def summary_csv(results: list[AdResult]) -> bytes:
    """The per-ad summary as UTF-8 CSV bytes, identical to ``skillmap batch --summary``'s
    (with the same ``--keep-column`` columns)."""
    buffer = io.StringIO(newline="")
    write_summary_csv(buffer, results, keep_columns=variable_names(results))
    return buffer.getvalue().encode("utf-8")


def skill_frequencies(long: pd.DataFrame, top: int = 20) -> pd.DataFrame:
    """The ``top`` skills by the number of ads that ask for them (``ads``, ``share``)."""
    if long.empty:
        return pd.DataFrame(columns=["skill_label", "level1", "ads", "share"])
    n_ads = long["doc_id"].nunique()
    counts = (long.groupby(["skill_id", "skill_label", "level1"], dropna=False)["doc_id"]
              .nunique().rename("ads").reset_index()
              .sort_values(["ads", "skill_label"], ascending=[False, True]).head(top))
    counts["share"] = counts["ads"] / n_ads
    return counts[["skill_label", "level1", "ads", "share"]].reset_index(drop=True)


def group_shares(long: pd.DataFrame) -> pd.DataFrame:
    """Skill mentions per (Level-1, Level-2) group with their share of all mentions."""
    if long.empty:
        return pd.DataFrame(columns=["level1", "level2", "mentions", "share"])
    frame = long.assign(level1=long["level1"].replace("", NO_GROUP),
                        level2=long["level2"].replace("", NO_GROUP))
    shares = frame.groupby(["level1", "level2"]).size().rename("mentions").reset_index()
    shares["share"] = shares["mentions"] / shares["mentions"].sum()
    return shares.sort_values("mentions", ascending=False).reset_index(drop=True)


@dataclass
class GroupedSkills:
    """An ad's skills under one Level-1 group, split by Level-2 group (best group first)."""

    level1: str
    level2: list[tuple[str, list[SkillMatch]]]

    @property
    def count(self) -> int:
        return sum(len(skills) for _, skills in self.level2)


def group_skills(result: AdResult) -> list[GroupedSkills]:
    """The ad's skills grouped Level-1 -> Level-2, groups ordered by their best skill's rank."""
    tree: dict[str, dict[str, list[SkillMatch]]] = {}
    for match in result.skills:   # already in rank order
        tree.setdefault(match.level1 or NO_GROUP, {}).setdefault(
            match.level2 or NO_GROUP, []).append(match)
    return [GroupedSkills(level1, list(level2.items())) for level1, level2 in tree.items()]


def sentence_status(sentence) -> str:
    """What the pipeline did with one segment, in words."""
    if sentence.kind == "title":
        return "title (skills count as mentions)"
    if not sentence.is_content:
        return f"{sentence.kind} (not searched)"
    if sentence.excluded:
        return "excluded by your exclusion list (not searched)"
    if sentence.filtered:
        score = "" if sentence.filter_score is None else f", P(skill) {sentence.filter_score:.2f}"
        return f"dropped by the filter{score}"
    if sentence.matches:
        return "searched"
    return "searched, no match above the minimum score"


def sentence_counts(result: AdResult) -> dict[str, int]:
    """What happened to the ad's segments: the counters of the single-ad view."""
    content = [s for s in result.sentences if s.is_content]
    return {"segments": len(result.sentences),
            "structure": len(result.sentences) - len(content),
            "dropped": sum(s.filtered for s in content),
            "searched": sum(s.coded for s in content),
            "skills": len(result.skills)}


def sentence_frame(result: AdResult, per_sentence: int = 3) -> pd.DataFrame:
    """Per segment: its kind, section, what was done with it and its best skills."""
    rows = []
    for sentence in result.sentences:
        rows.append({"#": sentence.index + 1, "sentence": sentence.text, "kind": sentence.kind,
                     "section": sentence.section, "status": sentence_status(sentence),
                     "top skills": "; ".join(f"{m.skill_label} ({m.score:.2f})"
                                             for m in sentence.matches[:per_sentence])})
    return pd.DataFrame(rows, columns=["#", "sentence", "kind", "section", "status",
                                       "top skills"])


def taxonomy_frame(taxonomy: Taxonomy, query: str = "", level1: str | None = None,
                   level2: str | None = None, limit: int = 500) -> pd.DataFrame:
    """Skills of the taxonomy matching a search (label, alternative labels, description).

    ``level1``/``level2`` are group labels restricting the browse; the result is capped at
    ``limit`` rows so a 14,000-skill taxonomy stays responsive. ``frame.attrs["matches"]``
    is the number of skills that match, shown or not.
    """
    needle = query.strip().lower()
    rows = []
    matches = 0
    for skill in taxonomy.skills:
        group1, group2 = taxonomy.level1(skill.id), taxonomy.level2(skill.id)
        label1 = group1.label if group1 else NO_GROUP
        label2 = group2.label if group2 else NO_GROUP
        if level1 and label1 != level1 or level2 and label2 != level2:
            continue
        if needle and not (needle in skill.label.lower()
                           or any(needle in alt.lower() for alt in skill.alt_labels)
                           or needle in skill.description.lower()):
            continue
        matches += 1
        if len(rows) < limit:
            rows.append({"skill_label": skill.label, "level1": label1, "level2": label2,
                         "skill_type": skill.skill_type, "reuse_level": skill.reuse_level,
                         "alternative labels": "; ".join(skill.alt_labels[:5]),
                         "description": skill.description, "skill_id": skill.id})
    frame = pd.DataFrame(rows, columns=["skill_label", "level1", "level2", "skill_type",
                                        "reuse_level", "alternative labels", "description",
                                        "skill_id"])
    frame.attrs["matches"] = matches
    return frame


def hierarchy_labels(taxonomy: Taxonomy) -> dict[str, list[str]]:
    """Level-1 group label -> its Level-2 group labels, for the browse selectors."""
    tree: dict[str, set[str]] = {}
    for skill in taxonomy.skills:
        group1, group2 = taxonomy.level1(skill.id), taxonomy.level2(skill.id)
        tree.setdefault(group1.label if group1 else NO_GROUP, set()).add(
            group2.label if group2 else NO_GROUP)
    return {k: sorted(v) for k, v in sorted(tree.items())}
