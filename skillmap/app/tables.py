"""The app's tables, built from :class:`~skillmap.pipeline.results.AdResult` with pandas.

Pure functions (no Streamlit), so they are tested directly and the page code only lays
them out. The long format is the one ``skillmap batch`` writes
(:func:`~skillmap.pipeline.results.write_long_csv`); the per-ad summary is one row per ad for
spreadsheets.
"""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass

import pandas as pd

from skillmap.pipeline.results import LONG_COLUMNS, AdResult, SkillMatch, write_long_csv
from skillmap.taxonomy import Taxonomy

NO_GROUP = "(no group)"
SUMMARY_COLUMNS = ("doc_id", "sentences", "filtered_sentences", "skills", "top_skills",
                   "level1_groups")


def long_frame(results: list[AdResult]) -> pd.DataFrame:
    """One row per ad and skill (:data:`LONG_COLUMNS`)."""
    return pd.DataFrame([row for result in results for row in result.rows()],
                        columns=list(LONG_COLUMNS))


def long_csv(results: list[AdResult]) -> bytes:
    """The long format as UTF-8 CSV bytes, identical to ``skillmap batch``'s output."""
    buffer = io.StringIO(newline="")
    write_long_csv(buffer, results)
    return buffer.getvalue().encode("utf-8")


def summary_frame(results: list[AdResult], top: int = 5) -> pd.DataFrame:
    """One row per ad: sentence counts, number of skills, best skills, Level-1 groups."""
    rows = []
    for result in results:
        codable = [s for s in result.sentences if s.is_content]
        groups = Counter(m.level1 or NO_GROUP for m in result.skills)
        rows.append({
            "doc_id": result.doc_id,
            "sentences": len(codable),
            "filtered_sentences": sum(s.filtered for s in codable),
            "skills": len(result.skills),
            "top_skills": "; ".join(m.skill_label for m in result.skills[:top]),
            "level1_groups": "; ".join(g for g, _ in groups.most_common()),
        })
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))


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


def sentence_frame(result: AdResult, per_sentence: int = 3) -> pd.DataFrame:
    """Per sentence: its status and its best skills with scores, for the detail table."""
    rows = []
    for sentence in result.sentences:
        if sentence.kind == "heading":
            status = "heading (not coded)"
        elif sentence.filtered:
            status = f"filtered ({sentence.filter_score:.2f})"
        elif sentence.matches:
            status = "skill"
        else:
            status = "no match above min score"
        rows.append({"#": sentence.index + 1, "sentence": sentence.text, "status": status,
                     "top skills": "; ".join(f"{m.skill_label} ({m.score:.2f})"
                                             for m in sentence.matches[:per_sentence])})
    return pd.DataFrame(rows, columns=["#", "sentence", "status", "top skills"])


def taxonomy_frame(taxonomy: Taxonomy, query: str = "", level1: str | None = None,
                   level2: str | None = None, limit: int = 500) -> pd.DataFrame:
    """Skills of the taxonomy matching a search (label, alternative labels, description).

    ``level1``/``level2`` are group labels restricting the browse; the result is capped at
    ``limit`` rows so a 14,000-skill taxonomy stays responsive.
    """
    needle = query.strip().lower()
    rows = []
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
        rows.append({"skill_label": skill.label, "level1": label1, "level2": label2,
                     "alternative labels": "; ".join(skill.alt_labels[:5]),
                     "description": skill.description, "skill_id": skill.id})
        if len(rows) >= limit:
            break
    return pd.DataFrame(rows, columns=["skill_label", "level1", "level2", "alternative labels",
                                       "description", "skill_id"])


def hierarchy_labels(taxonomy: Taxonomy) -> dict[str, list[str]]:
    """Level-1 group label -> its Level-2 group labels, for the browse selectors."""
    tree: dict[str, set[str]] = {}
    for skill in taxonomy.skills:
        group1, group2 = taxonomy.level1(skill.id), taxonomy.level2(skill.id)
        tree.setdefault(group1.label if group1 else NO_GROUP, set()).add(
            group2.label if group2 else NO_GROUP)
    return {k: sorted(v) for k, v in sorted(tree.items())}
