"""The taxonomy view: counts, the index's provenance, and a browsable, searchable hierarchy."""

from __future__ import annotations

import streamlit as st

from skillmap.app import resources
from skillmap.app.settings import Settings
from skillmap.app.tables import hierarchy_labels, taxonomy_frame

ALL = "(all)"
MAX_ROWS = 500


def render(settings: Settings) -> None:
    index = resources.load_index(settings.index_key)
    taxonomy, meta = index.taxonomy, index.metadata
    summary = taxonomy.summary()
    counts = st.columns(2 + len(summary["groups_per_level"]))
    counts[0].metric("Skills", f"{summary['skills']:,}")
    counts[1].metric("Skills without a Level-2 group", f"{summary['skills_without_level2_group']:,}")
    for column, (level, n) in zip(counts[2:], summary["groups_per_level"].items()):
        column.metric(f"Level-{level} groups", f"{n:,}")
    st.caption(f"Index built {meta.created_at or 'at an unknown time'} with model "
               f"`{meta.model_id}` ({meta.embedding_dim} dimensions, faiss {meta.faiss_type}); "
               f"skill text template `{meta.text_template}`.")

    tree = _hierarchy(settings.index_key)
    columns = st.columns([2, 2, 3])
    level1 = columns[0].selectbox("Level-1 group", [ALL, *tree], key="browse_level1")
    level2 = columns[1].selectbox("Level-2 group", [ALL, *tree.get(level1, [])],
                                  key="browse_level2", disabled=level1 == ALL)
    query = columns[2].text_input("Search labels, alternative labels and descriptions",
                                  key="browse_query", placeholder="e.g. python, welding, empathy")
    frame = taxonomy_frame(taxonomy, query, None if level1 == ALL else level1,
                           None if level2 == ALL else level2, limit=MAX_ROWS)
    matches = frame.attrs["matches"]
    st.caption(f"{matches:,} skill{'s' * (matches != 1)} match"
               + ("" if matches != 1 else "es")
               + (f"; the first {len(frame):,} are shown (search or pick a group to narrow "
                  "them)" if matches > len(frame) else ""))
    st.dataframe(frame, hide_index=True, width="stretch",
                 column_config={"description": st.column_config.TextColumn(width="large")})


@st.cache_data(max_entries=8, show_spinner=False)
def _hierarchy(index_key: str) -> dict[str, list[str]]:
    return hierarchy_labels(resources.load_index(index_key).taxonomy)
