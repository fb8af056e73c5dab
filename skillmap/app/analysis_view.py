"""The corpus analysis views: skills, groups, comparison and trend, each with its exports.

The numbers come from :mod:`skillmap.app.analysis` and the figures from
:mod:`skillmap.app.charts`; this module only lays them out. Every view ends with the same
row of downloads (:func:`exports`): its table as CSV, and its chart as PNG and SVG (or as
interactive HTML where no browser is available to render images). Images are rendered only
when their button is clicked, so the page does not wait for them.
"""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from skillmap.app import analysis, charts
from skillmap.app.tables import group_shares

VIEWS = ("Skills", "Groups", "Compare", "Trend over time")
MODES = ("side by side", "difference")
UNITS = {"skill": "skills", "level1": "Level-1 groups"}


def render(long: pd.DataFrame, ads: pd.DataFrame) -> None:
    view = st.radio("View", VIEWS, horizontal=True, key="corpus_view",
                    label_visibility="collapsed")
    if long.empty:
        st.info("No skills were found in these ads.")
        return
    {"Skills": _skills, "Groups": _groups, "Compare": _compare,
     "Trend over time": _trend}[view](long, ads)


def exports(name: str, table: pd.DataFrame, figure=None) -> None:
    """Download buttons for a view: its table (CSV) and its chart (PNG, SVG or HTML)."""
    columns = st.columns(4)
    columns[0].download_button("Table (CSV)", table.to_csv(index=False).encode("utf-8"),
                               file_name=f"skillmap-{name}.csv", mime="text/csv",
                               key=f"export_{name}_csv", on_click="ignore")
    if figure is None:
        return
    if charts.image_export_works():
        for column, fmt, mime in ((columns[1], "png", "image/png"),
                                  (columns[2], "svg", "image/svg+xml")):
            column.download_button(f"Chart ({fmt.upper()})",
                                   lambda fmt=fmt: charts.image(figure, fmt),
                                   file_name=f"skillmap-{name}.{fmt}", mime=mime,
                                   key=f"export_{name}_{fmt}", on_click="ignore")
    else:
        columns[1].download_button("Chart (HTML)", lambda: charts.html(figure),
                                   file_name=f"skillmap-{name}.html", mime="text/html",
                                   key=f"export_{name}_html", on_click="ignore",
                                   help="No Chrome or Chromium on the server to draw PNG/SVG "
                                   "images; the HTML chart has a camera button that saves "
                                   "a PNG.")


def _top_n(key: str, total: int, default: int = 20) -> int:
    if total <= 1:
        return total
    return st.slider("How many to show", 1, total, min(default, total), key=key)


def _skills(long: pd.DataFrame, ads: pd.DataFrame) -> None:
    table = analysis.skill_table(long, ads)
    top = _top_n("skills_top", len(table))
    st.plotly_chart(charts.skill_frequency_bar(table.head(top)), key="chart_frequencies")
    exports("skills", table.head(top), charts.skill_frequency_bar(table.head(top)))
    st.subheader(f"All {len(table):,} skills found")
    query = st.text_input("Search skills and groups", key="skills_query",
                          placeholder="e.g. python, care, communication")
    shown = analysis.search_skills(table, query)
    st.caption("Click a column's header to sort by it.")
    st.dataframe(shown, hide_index=True, width="stretch", key="skills_table",
                 column_config={"share": st.column_config.NumberColumn(format="percent"),
                                "skill_id": None})
    exports("skills-all", shown)


def _groups(long: pd.DataFrame, ads: pd.DataFrame) -> None:
    kind = st.radio("Chart", ["sunburst", "treemap"], horizontal=True, key="group_chart",
                    label_visibility="collapsed")
    shares = group_shares(long)
    figure = charts.group_share_chart(shares, kind)
    st.plotly_chart(figure, key="chart_groups")
    exports("groups", shares, figure)


def _compare(long: pd.DataFrame, ads: pd.DataFrame) -> None:
    # a column with one value, or a different value for every ad (a title), has no groups
    names = [v for v in analysis.variables(ads)
             if 2 <= len(analysis.group_values(ads, v)) < len(ads)]
    if not names:
        st.info("To compare groups of ads, upload a table and keep a column such as region "
                "or occupation (the picker above), or upload two files: each file is a "
                "corpus.")
        return
    columns = st.columns([2, 2, 2, 2])
    variable = columns[0].selectbox("Compare by", names, key="compare_by",
                                    index=names.index(_guess_group(ads, names)))
    values = analysis.group_values(ads, variable)
    a = columns[1].selectbox("Group A", values, key=f"compare_a:{variable}", index=0)
    b = columns[2].selectbox("Group B", [v for v in values if v != a],
                             key=f"compare_b:{variable}", index=0)
    unit = columns[3].radio("Of", list(UNITS), format_func=UNITS.__getitem__,
                            key="compare_unit", horizontal=True)
    mode = st.radio("Show", MODES, horizontal=True, key="compare_mode")
    full = analysis.compare(long, ads, variable, a, b, by=unit, top=10_000)
    top = _top_n("compare_top", len(full), 10)
    table = full.head(top)
    st.caption(f"Share of ads asking for each {'skill' if unit == 'skill' else 'group'}: "
               f"{variable} = {a} ({table['n_a'].iloc[0] if len(table) else 0} ads) and "
               f"{variable} = {b} ({table['n_b'].iloc[0] if len(table) else 0} ads).")
    figure = charts.comparison_chart(table, variable, a, b, mode)
    st.plotly_chart(figure, key="chart_compare")
    st.dataframe(table, hide_index=True, width="stretch", key="compare_table",
                 column_config={c: st.column_config.NumberColumn(format="percent")
                                for c in ("share_a", "share_b", "difference")})
    exports("compare", table, figure)


def _trend(long: pd.DataFrame, ads: pd.DataFrame) -> None:
    dated = [v for v in analysis.variables(ads) if _looks_like_dates(ads[v])]
    if not dated:
        st.info("To see skills over time, upload a table and keep its date column (the picker "
                "above): one date per ad, such as 2024-03-15.")
        return
    date_column = st.selectbox("Date column", dated, key="trend_date")
    table = analysis.skill_table(long, ads)
    chosen = st.multiselect("Skills", table["skill_label"].tolist(), key="trend_skills",
                                    default=table["skill_label"].head(5).tolist(),
                                    help="The five most frequent skills to start with; add or "
                                    "remove any.")
    trend = analysis.monthly_trend(long, ads, date_column, chosen)
    missing = analysis.undated(ads, date_column)
    if missing:
        st.caption(f"{missing:,} ad{'s' * (missing != 1)} without a readable date "
                   f"{'are' if missing != 1 else 'is'} left out.")
    if trend.empty:
        st.info("Pick at least one skill.")
        return
    figure = charts.trend_chart(trend)
    st.plotly_chart(figure, key="chart_trend")
    st.dataframe(trend, hide_index=True, width="stretch", key="trend_table",
                 column_config={"share": st.column_config.NumberColumn(format="percent")})
    exports("trend", trend, figure)


_DATE = re.compile(r"\d{4}-\d{1,2}(-\d{1,2})?([T ].*)?|\d{1,2}[./]\d{1,2}[./]\d{4}")


def _looks_like_dates(values: pd.Series) -> bool:
    """Most non-empty cells look like dates (ISO or day/month/year)."""
    cells = values.astype(str).str.strip()
    cells = cells[cells != ""]
    return len(cells) > 0 and cells.str.fullmatch(_DATE).mean() >= 0.8


def _guess_group(ads: pd.DataFrame, names: list[str]) -> str:
    """The first variable that is not a date, else the first."""
    return next((n for n in names if not _looks_like_dates(ads[n])), names[0])
