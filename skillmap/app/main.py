"""The skillmap web app (Streamlit): ``skillmap app`` runs this script.

Three tabs over one sidebar of settings: a single ad (:mod:`skillmap.app.single_ad`), a
corpus (:mod:`skillmap.app.corpus`) and the taxonomy (:mod:`skillmap.app.taxonomy_view`).
Everything is coded by :class:`skillmap.Extractor`, the implementation behind the CLI;
this package only reads uploads, lays out results and caches models
(:mod:`skillmap.app.resources`).
"""

from __future__ import annotations

import streamlit as st

from skillmap.errors import SkillmapError


def main() -> None:
    st.set_page_config(page_title="skillmap: skills in job ads", page_icon="🧭", layout="wide")
    from skillmap.app import corpus, single_ad, taxonomy_view
    from skillmap.app.settings import sidebar

    try:
        settings = sidebar()
    except SkillmapError as exc:
        st.error(f"Cannot load this index: {exc}")
        st.stop()
    single, many, browse = st.tabs(["Single ad", "Corpus", "Taxonomy"])
    for tab, view in ((single, single_ad), (many, corpus), (browse, taxonomy_view)):
        with tab:
            try:
                view.render(settings)
            except SkillmapError as exc:
                st.error(str(exc))


if __name__ == "__main__":
    main()
