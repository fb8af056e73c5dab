"""Plotly figures for the corpus view: what people would rather look at than read.

Built from the tables of :mod:`skillmap.app.tables`; Streamlit only places them
(``st.plotly_chart``). Plotly is used because Streamlit's built-in charts have no treemap or
sunburst.
"""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go


def skill_frequency_bar(frequencies: pd.DataFrame) -> go.Figure:
    """Horizontal bars: share of ads asking for each of the most frequent skills."""
    frame = frequencies.iloc[::-1]   # plotly draws the first row at the bottom
    figure = px.bar(frame, x="share", y="skill_label", color="level1", orientation="h",
                    hover_data={"ads": True, "share": ":.0%"},
                    labels={"share": "share of ads", "skill_label": "", "level1": "Level-1 group"})
    figure.update_yaxes(categoryorder="array", categoryarray=list(frame["skill_label"]))
    figure.update_layout(xaxis_tickformat=".0%", height=max(320, 24 * len(frame) + 120),
                         margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h", y=-0.15))
    return figure


def group_share_chart(shares: pd.DataFrame, kind: str = "sunburst") -> go.Figure:
    """Skill mentions by Level-1 -> Level-2 group, as a sunburst or a treemap."""
    draw = px.sunburst if kind == "sunburst" else px.treemap
    figure = draw(shares, path=["level1", "level2"], values="mentions",
                  hover_data={"share": ":.1%"})
    figure.update_layout(height=520, margin=dict(l=10, r=10, t=30, b=10))
    return figure
