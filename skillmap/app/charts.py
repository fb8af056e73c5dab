"""Plotly figures for the corpus view: what people would rather look at than read.

Built from the tables of :mod:`skillmap.app.tables` and :mod:`skillmap.app.analysis`;
Streamlit only places them (``st.plotly_chart``). Plotly is used because Streamlit's
built-in charts have no treemap or sunburst, and because its figures export to PNG and SVG
(:func:`image`).

Every tooltip is a sentence in words ("38% of ads (5 of 13)"), written as a
``hovertemplate``: plotly's default tooltip lists raw field names (``labels=… parent=…``),
and its ``share`` of a parent tile was NaN. Fonts are sized for a laptop screen, and long
skill labels are wrapped rather than shrunk.
"""

from __future__ import annotations

import functools
import textwrap

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

FONT = dict(size=14)
LABEL_WIDTH = 34          # characters per line of a wrapped axis label
COLOURS = ("#2563eb", "#f59e0b")   # group A, group B (blue and amber read apart in greyscale)


def _wrap(label: str) -> str:
    return "<br>".join(textwrap.wrap(str(label), LABEL_WIDTH)) or str(label)


def _layout(figure: go.Figure, height: int) -> go.Figure:
    figure.update_layout(height=height, font=FONT, margin=dict(l=10, r=20, t=40, b=10),
                         hoverlabel=dict(font_size=13, align="left"),
                         legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0))
    return figure


def skill_frequency_bar(frequencies: pd.DataFrame) -> go.Figure:
    """Horizontal bars: share of ads asking for each of the most frequent skills."""
    frame = frequencies.iloc[::-1].assign(label=lambda f: f["skill_label"].map(_wrap))
    figure = px.bar(frame, x="share", y="label", color="level1", orientation="h",
                    custom_data=["skill_label", "ads", "level1"],
                    labels={"share": "share of ads", "label": "", "level1": "Level-1 group"})
    figure.update_traces(hovertemplate="<b>%{customdata[0]}</b><br>asked for in %{x:.0%} of "
                         "ads (%{customdata[1]} ads)<br>group: %{customdata[2]}<extra></extra>")
    figure.update_yaxes(categoryorder="array", categoryarray=list(frame["label"]))
    figure.update_xaxes(tickformat=".0%")
    _layout(figure, max(360, 30 * len(frame) + 180))
    # the legend just above the bars (seen with the top rows), under the chart's tool bar
    figure.update_layout(legend=dict(title_text="", y=1.0, yanchor="bottom"),
                         margin=dict(t=110))
    return figure


def group_share_chart(shares: pd.DataFrame, kind: str = "sunburst") -> go.Figure:
    """Skill mentions by Level-1 -> Level-2 group, as a sunburst or a treemap."""
    draw = px.sunburst if kind == "sunburst" else px.treemap
    figure = draw(shares, path=["level1", "level2"], values="mentions")
    # percentRoot is computed by plotly for every tile, parents included (a custom share
    # column is undefined on a parent tile: it showed NaN%)
    figure.update_traces(hovertemplate="<b>%{label}</b><br>%{value} skill mentions<br>"
                         "%{percentRoot:.1%} of all mentions<extra></extra>",
                         textfont=dict(size=15))
    if kind == "sunburst":
        figure.update_traces(insidetextorientation="horizontal")
    else:
        figure.update_traces(texttemplate="%{label}<br>%{percentRoot:.0%}")
    _layout(figure, 620)
    figure.update_layout(uniformtext=dict(minsize=11, mode="hide"))
    return figure


def comparison_chart(table: pd.DataFrame, variable: str, a: str, b: str,
                     mode: str = "side by side") -> go.Figure:
    """Shares of ads in group A and group B (:func:`skillmap.app.analysis.compare`): two
    bars per row, or one bar of the difference in percentage points."""
    label_column = "skill_label" if "skill_label" in table.columns else "level1"
    frame = table.iloc[::-1].assign(label=lambda f: f[label_column].map(_wrap))
    names = {"a": f"{variable} = {a}", "b": f"{variable} = {b}"}
    figure = go.Figure()
    if mode == "difference":
        colours = [COLOURS[0] if d >= 0 else COLOURS[1] for d in frame["difference"]]
        figure.add_bar(
            x=frame["difference"] * 100, y=frame["label"], orientation="h",
            marker_color=colours, name="difference",
            customdata=frame[[label_column, "share_a", "ads_a", "n_a", "share_b", "ads_b",
                              "n_b"]].values,
            hovertemplate=("<b>%{customdata[0]}</b><br>" + names["a"] + ": %{customdata[1]:.0%}"
                           " (%{customdata[2]} of %{customdata[3]} ads)<br>" + names["b"]
                           + ": %{customdata[4]:.0%} (%{customdata[5]} of %{customdata[6]} "
                           "ads)<br>difference: %{x:+.0f} percentage points<extra></extra>"))
        figure.update_xaxes(title=f"percentage points ({names['a']} minus {names['b']})",
                            zeroline=True, zerolinewidth=2, zerolinecolor="#6b7280")
        figure.update_layout(showlegend=False)
    else:
        # B first: plotly draws a group's first trace at the bottom, so A is read first
        for side, colour in (("b", COLOURS[1]), ("a", COLOURS[0])):
            figure.add_bar(
                x=frame[f"share_{side}"], y=frame["label"], orientation="h", marker_color=colour,
                name=f"{names[side]} ({int(frame[f'n_{side}'].iloc[0]) if len(frame) else 0} "
                     "ads)",
                customdata=frame[[label_column, f"ads_{side}", f"n_{side}"]].values,
                hovertemplate=("<b>%{customdata[0]}</b><br>" + names[side] + ": %{x:.0%} of "
                               "ads (%{customdata[1]} of %{customdata[2]})<extra></extra>"))
        figure.update_layout(barmode="group", legend_traceorder="reversed")
        figure.update_xaxes(tickformat=".0%", title="share of ads")
    figure.update_yaxes(categoryorder="array", categoryarray=list(frame["label"]))
    return _layout(figure, max(380, (36 if mode != "difference" else 28) * len(frame) + 150))


def trend_chart(trend: pd.DataFrame) -> go.Figure:
    """Monthly share of ads asking for each chosen skill, one line per skill; the month's
    number of ads is under its label on the axis and in every tooltip."""
    frame = trend.copy()
    counts = frame.drop_duplicates("month").set_index("month")["ads_in_month"]
    frame["name"] = frame["month"].map(lambda m: pd.Period(m, "M").strftime("%b %Y"))
    frame["tick"] = frame["name"] + "<br>" + frame["month"].map(counts).astype(str) + " ads"
    figure = go.Figure()
    for label, rows in frame.groupby("skill_label", sort=False):
        figure.add_scatter(
            x=rows["tick"], y=rows["share"], mode="lines+markers", name=_wrap(label),
            customdata=rows[["skill_label", "name", "ads", "ads_in_month"]].values,
            hovertemplate=("<b>%{customdata[0]}</b><br>%{customdata[1]}: asked for in "
                           "%{y:.0%} of ads (%{customdata[2]} of %{customdata[3]})"
                           "<extra></extra>"))
    figure.update_xaxes(categoryorder="array", categoryarray=list(dict.fromkeys(frame["tick"])),
                        title="month (number of ads)")
    figure.update_yaxes(tickformat=".0%", title="share of the month's ads", rangemode="tozero")
    _layout(figure, 520)
    figure.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.25, x=0))
    return figure


def image(figure: go.Figure, fmt: str, width: int = 1200) -> bytes:
    """The figure as PNG or SVG bytes (kaleido, which drives a local Chrome/Chromium)."""
    return figure.to_image(format=fmt, width=width, height=figure.layout.height or 500,
                           scale=2 if fmt == "png" else 1)


@functools.lru_cache(maxsize=1)
def image_export_works() -> bool:
    """Whether :func:`image` can render here: kaleido needs a Chrome or Chromium on the
    machine, which a server may not have (then charts export as HTML)."""
    try:
        image(go.Figure(go.Bar(x=[1], y=[1])), "svg", width=100)
        return True
    except Exception:  # noqa: BLE001 - no browser, or kaleido missing: any failure means no
        return False


def html(figure: go.Figure) -> bytes:
    """The interactive figure as one self-contained HTML file (works offline)."""
    return figure.to_html(include_plotlyjs=True, full_html=True).encode("utf-8")
