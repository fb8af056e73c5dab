"""The analyst's tables: skill frequencies, comparisons between groups of ads, and monthly
trends, from the long format and the per-ad table.

Pure pandas (no Streamlit), so each number the app charts is tested here. Every share is a
share of *ads*: the ads of a group that ask for a skill, over all the ads of that group,
including the ads in which no skill was found. That denominator comes from the per-ad table
(``ads``: one row per ad with its variables), never from the long format, which has no row
for an ad without skills.
"""

from __future__ import annotations

import pandas as pd

NO_GROUP = "(no group)"
SOURCE = "(file)"      # pseudo-variable: the uploaded file an ad came from (two corpora)
SKILL_KEY = ["skill_id", "skill_label", "level1", "level2", "skill_type"]


def ads_frame(results, sources: dict[str, str] | None = None) -> pd.DataFrame:
    """One row per ad: ``doc_id``, its variables, and ``(file)`` when ads came from several
    files (so two uploaded corpora can be compared like two values of a column)."""
    names = list(dict.fromkeys(n for r in results for n in r.variables))
    frame = pd.DataFrame([{"doc_id": r.doc_id, **{n: r.variables.get(n, "") for n in names}}
                          for r in results], columns=["doc_id", *names])
    if sources and len(set(sources.values())) > 1:
        frame[SOURCE] = frame["doc_id"].map(sources).fillna("")
    return frame


def variables(ads: pd.DataFrame) -> list[str]:
    """The columns an analysis can group by."""
    return [c for c in ads.columns if c != "doc_id"]


def skill_table(long: pd.DataFrame, ads: pd.DataFrame) -> pd.DataFrame:
    """Every skill found: in how many ads (``ads``) and what share of all ads, how often it
    is asked for (``mentions``) and its mean score; most frequent first."""
    columns = [*SKILL_KEY, "ads", "share", "mentions", "mean_score"]
    if long.empty or ads.empty:
        return pd.DataFrame(columns=columns)
    table = (long.groupby(SKILL_KEY, dropna=False)
             .agg(ads=("doc_id", "nunique"), mentions=("mentions", "sum"),
                  mean_score=("score", "mean"))
             .reset_index())
    table["share"] = table["ads"] / len(ads)
    table["mean_score"] = table["mean_score"].round(3)
    table = table.sort_values(["ads", "skill_label"], ascending=[False, True])
    return table[columns].reset_index(drop=True)


def search_skills(table: pd.DataFrame, query: str) -> pd.DataFrame:
    """Rows whose skill label or groups contain ``query`` (any case)."""
    needle = query.strip().lower()
    if not needle:
        return table
    text = (table["skill_label"] + " " + table["level1"] + " " + table["level2"]).str.lower()
    return table[text.str.contains(needle, regex=False)].reset_index(drop=True)


def group_values(ads: pd.DataFrame, variable: str) -> list[str]:
    """A variable's values, most ads first, then alphabetically (empty cells are not a
    value)."""
    counts = ads[variable].astype(str).value_counts()
    return sorted((v for v in counts.index if v.strip()), key=lambda v: (-counts[v], v))


def compare(long: pd.DataFrame, ads: pd.DataFrame, variable: str, a: str, b: str,
            by: str = "skill", top: int = 20) -> pd.DataFrame:
    """Shares of ads asking for each skill (``by="skill"``) or for any skill of each Level-1
    group (``by="level1"``) among the ads whose ``variable`` is ``a`` and among those where it
    is ``b``: ``ads_a, share_a, ads_b, share_b``, ``difference`` (``share_a - share_b``)
    and the group sizes ``n_a``, ``n_b``. The ``top`` rows by the larger share."""
    key = ["skill_label", "level1"] if by == "skill" else ["level1"]
    columns = [*key, "ads_a", "n_a", "share_a", "ads_b", "n_b", "share_b", "difference"]
    ids = {side: set(ads.loc[ads[variable].astype(str) == value, "doc_id"])
           for side, value in (("a", a), ("b", b))}
    if long.empty:
        return pd.DataFrame(columns=columns)
    frame = long.assign(level1=long["level1"].replace("", NO_GROUP))
    merged = None
    for side in ("a", "b"):
        counts = (frame[frame["doc_id"].isin(ids[side])].groupby(key)["doc_id"].nunique()
                  .rename(f"ads_{side}"))
        merged = counts.to_frame() if merged is None else merged.join(counts, how="outer")
    merged = merged.fillna(0).astype(int).reset_index()
    for side in ("a", "b"):
        merged[f"n_{side}"] = len(ids[side])
        merged[f"share_{side}"] = merged[f"ads_{side}"] / max(len(ids[side]), 1)
    merged["difference"] = merged["share_a"] - merged["share_b"]
    merged = merged[(merged["ads_a"] > 0) | (merged["ads_b"] > 0)]
    order = merged[["share_a", "share_b"]].max(axis=1)
    merged = merged.assign(_order=order).sort_values(["_order", key[0]],
                                                     ascending=[False, True])
    return merged[columns].head(top).reset_index(drop=True)


def months(ads: pd.DataFrame, date_column: str) -> pd.Series:
    """Each ad's month (``YYYY-MM``; empty where the date cannot be read)."""
    dates = pd.to_datetime(ads[date_column].astype(str).str.strip(), errors="coerce",
                           format="mixed")
    return dates.dt.strftime("%Y-%m").fillna("")


def monthly_trend(long: pd.DataFrame, ads: pd.DataFrame, date_column: str,
                  skills: list[str]) -> pd.DataFrame:
    """Per month and skill (``skills``: labels): the ads of the month (``ads_in_month``), how
    many ask for the skill (``ads``) and the ``share``. Every month with a readable date is
    listed, also one where the skill is absent (share 0)."""
    columns = ["month", "skill_label", "ads", "ads_in_month", "share"]
    month_of = dict(zip(ads["doc_id"], months(ads, date_column)))
    per_month = pd.Series(list(month_of.values()), dtype=str)
    per_month = per_month[per_month != ""].value_counts().sort_index()
    if per_month.empty or not skills:
        return pd.DataFrame(columns=columns)
    chosen = long[long["skill_label"].isin(skills)].assign(
        month=lambda f: f["doc_id"].map(month_of).fillna(""))
    counts = chosen[chosen["month"] != ""].groupby(["month", "skill_label"])["doc_id"].nunique()
    grid = pd.MultiIndex.from_product([per_month.index, skills], names=["month", "skill_label"])
    table = counts.reindex(grid, fill_value=0).rename("ads").reset_index()
    table["ads_in_month"] = table["month"].map(per_month).astype(int)
    table["share"] = table["ads"] / table["ads_in_month"]
    return table[columns]


def undated(ads: pd.DataFrame, date_column: str) -> int:
    """Ads whose date cannot be read (left out of the trend)."""
    return int((months(ads, date_column) == "").sum())
