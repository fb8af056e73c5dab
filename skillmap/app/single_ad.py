"""The single-ad view: paste or upload one ad, read its sentences and skills.

Left: the ad with skill sentences highlighted and filtered sentences greyed. Right: the ad's
skills grouped by Level-1 and Level-2 group, each with its score, description and evidence
sentence. Below: downloads (skills as CSV/JSON, the highlighted ad as HTML) and every
sentence with its own top skills.
"""

from __future__ import annotations

import json
from pathlib import Path

import streamlit as st

from skillmap.app import resources
from skillmap.app.render import LEGEND, ad_page, highlighted_ad, md
from skillmap.app.settings import Settings
from skillmap.app.tables import group_skills, long_csv, sentence_counts, sentence_frame
from skillmap.app.uploads import TEXT_TYPES, read_upload
from skillmap.defaults import shipped_path
from skillmap.errors import SkillmapError

SAMPLE_AD = shipped_path("data/sample_ad.txt")
DESCRIPTION_CHARS = 220


def _load_sample() -> None:
    st.session_state["ad_text"] = Path(SAMPLE_AD).read_text(encoding="utf-8")


def render(settings: Settings) -> None:
    source = st.columns([3, 1])
    with source[1]:
        if SAMPLE_AD.is_file():
            st.button("Try the sample ad", on_click=_load_sample)
        upload = st.file_uploader("…or upload one ad", type=list(TEXT_TYPES), key="ad_file",
                                  help="A .txt, .docx or .pdf file holding one job ad.")
    with source[0]:
        typed = st.text_area("Paste a job ad", key="ad_text", height=220,
                             placeholder="Paste the full text of a job advertisement here, "
                             "then press Ctrl+Enter or click 'Find skills'.")
        st.button("Find skills", type="primary")

    text = typed
    if upload is not None:
        try:
            text = read_upload(upload.name, upload.getvalue()).ads()[0].text
            st.caption(f"Coding the uploaded file {md(upload.name)} (clear it to code the "
                       "pasted text).")
        except SkillmapError as exc:
            st.error(str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - one line, never a traceback page
            from skillmap.app.uploads import upload_error

            st.error(upload_error(upload.name, exc))
            return
    if not text.strip():
        st.info("Paste an ad or upload a file to see the skills it asks for.")
        return

    result = resources.code_ad(text, settings.key)
    numbers = sentence_counts(result)
    counts = st.columns([0.8, 1.5, 1.3, 0.8, 0.9])   # room for the longer labels
    counts[0].metric("Segments", numbers["segments"],
                     help="Sentences, bullet items and lines of the ad.")
    counts[1].metric("Title, headings, metadata", numbers["structure"],
                     help="Read as the ad's structure, not searched for skills.")
    counts[2].metric("Dropped by the filter", numbers["dropped"],
                     help="Sentences the filter judged to state no skill (0 with no filter).")
    counts[3].metric("Searched", numbers["searched"])
    counts[4].metric("Skills found", numbers["skills"])

    left, right = st.columns([1, 1], gap="large")
    with left:
        st.subheader("The ad")
        st.html(f'<div style="font-size:0.8rem;margin-bottom:6px">{LEGEND}</div>'
                + highlighted_ad(text, result))
    with right:
        st.subheader("Skills by group")
        _grouped_skills(result, settings)

    _downloads(text, result, upload.name if upload is not None else "ad")

    st.subheader("Sentences and their top skills")
    # a static table: every row at its full height, long sentences wrapped, nothing clipped
    st.table(sentence_frame(result).set_index("#"))


def _downloads(text: str, result, name: str) -> None:
    """The ad's skills as CSV (the long format of `skillmap batch`) and JSON (with every
    sentence, as `extract --format json`), and the highlighted ad as an HTML page."""
    stem = Path(name).stem or "ad"
    columns = st.columns(3)
    columns[0].download_button("Download skills (CSV)", long_csv([result]),
                               file_name=f"{stem}-skills.csv", mime="text/csv",
                               key="download_ad_csv")
    columns[1].download_button("Download skills and sentences (JSON)",
                               json.dumps(result.to_dict(), ensure_ascii=False, indent=2),
                               file_name=f"{stem}-skills.json", mime="application/json",
                               key="download_ad_json")
    columns[2].download_button("Download highlighted ad (HTML)",
                               ad_page(text, result, f"Skills in {name}"),
                               file_name=f"{stem}-highlighted.html", mime="text/html",
                               key="download_ad_html")


def _grouped_skills(result, settings: Settings) -> None:
    if not result.skills:
        st.warning("No skill scored above the minimum score; lower it in the sidebar.")
        return
    taxonomy = resources.load_index(settings.index_key).taxonomy
    for group in group_skills(result):
        with st.expander(f"{group.level1} · {group.count} skill{'s' * (group.count != 1)}",
                         expanded=True):
            for level2, skills in group.level2:
                lines = [f"**{md(level2)}**"]
                for match in skills:
                    description = taxonomy.skill(match.skill_id).description \
                        if match.skill_id in taxonomy else ""
                    if len(description) > DESCRIPTION_CHARS:
                        description = description[:DESCRIPTION_CHARS].rsplit(" ", 1)[0] + "…"
                    lines.append(f"- **{md(match.skill_label)}** `{match.score:.2f}`"
                                 + (f" — {md(description)}" if description else "")
                                 + f"  \n  *evidence:* {md(match.evidence_sentence)}")
                st.markdown("\n".join(lines))
