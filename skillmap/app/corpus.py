"""The corpus view: upload many ads, code them with a progress bar, chart and export.

Ads are coded in one :meth:`Extractor.extract_many` call (the call ``skillmap batch`` makes),
so boilerplate repeated across ads is encoded once; its progress callback moves the bar every
:attr:`Extractor.PROGRESS_STEP` distinct sentences, so the page stays live; results
live in the session, so changing a chart or downloading does not recode. The long CSV is
byte for byte what ``skillmap batch`` writes for the same ads and ids.
"""

from __future__ import annotations

import time
from dataclasses import replace

import streamlit as st

from skillmap.app import analysis, analysis_view, resources
from skillmap.app.settings import Settings
from skillmap.app.tables import long_csv, long_frame, summary_csv, summary_frame
from skillmap.app.uploads import (ALL_TYPES, MAX_ADS, MAX_FILE_MB, Ad, TableUpload, guess_columns,
                                  guess_keep_columns, read_upload, unique_doc_ids, upload_error)
from skillmap.errors import SkillmapError
from skillmap.pipeline.results import LONG_COLUMNS

ROW_NUMBERS = "(row number)"
PREVIEW_ROWS = 20


@st.cache_data(max_entries=32, show_spinner=False)
def _read(name: str, data: bytes):
    return read_upload(name, data)


def render(settings: Settings) -> None:
    files = st.file_uploader(
        "Upload job ads", type=list(ALL_TYPES), accept_multiple_files=True, key="corpus_files",
        help=f"A .csv or .xlsx table with one ad per row, and/or .txt/.docx/.pdf files with one "
             f"ad each. Up to {MAX_FILE_MB} MB per file and {MAX_ADS:,} ads; larger corpora: "
             "`skillmap batch`.")
    ads = _collect_ads(files or [])
    if ads is None:
        return
    if not ads:
        st.info("Upload a table of ads (one per row) or several ad files to code a corpus.")
        return
    if len(ads) > MAX_ADS:
        st.error(f"{len(ads):,} ads is over the app's {MAX_ADS:,}-ad limit; code large corpora "
                 "with `skillmap batch`.")
        return

    stored = st.session_state.get("corpus")
    signature = (tuple((a.doc_id, hash(a.text), a.variables) for a in ads), settings.key)
    if st.button(f"Code {len(ads):,} ad{'s' * (len(ads) != 1)}", type="primary", key="code_corpus"):
        stored = _code(ads, settings)
        stored["signature"] = signature
        st.session_state["corpus"] = stored
    if not stored:
        return
    if stored["signature"] != signature:
        st.warning("The uploads or settings changed since these results were coded; click "
                   "the button to code again.")
    _show(stored)


def _collect_ads(files) -> list[Ad] | None:
    """Every ad of every upload, ids unique; None when a table's columns are still unset."""
    ads: list[Ad] = []
    several = len(files) > 1
    for upload in files:
        try:
            parsed = _read(upload.name, upload.getvalue())
        except SkillmapError as exc:
            st.error(str(exc))
            continue
        except Exception as exc:  # noqa: BLE001 - one line per file, never a traceback page
            st.error(upload_error(upload.name, exc))
            continue
        if isinstance(parsed, TableUpload):
            text_guess, id_guess = guess_columns(parsed)
            with st.expander(f"Preview of {parsed.name}: {len(parsed.frame):,} rows, "
                             f"{len(parsed.columns)} columns", expanded=False):
                st.dataframe(parsed.frame.head(PREVIEW_ROWS), hide_index=True, width="stretch")
            columns = st.columns([1, 1, 2])
            text_column = columns[0].selectbox(
                f"Text column of {parsed.name}", parsed.columns, key=f"text:{parsed.name}",
                index=parsed.columns.index(text_guess))
            id_options = [ROW_NUMBERS, *parsed.columns]
            id_column = columns[1].selectbox(
                f"Id column of {parsed.name}", id_options, key=f"id:{parsed.name}",
                index=id_options.index(id_guess) if id_guess else 0)
            id_column = None if id_column == ROW_NUMBERS else id_column
            keep_options = [c for c in parsed.columns if c not in LONG_COLUMNS]
            keep = columns[2].multiselect(
                f"Columns to keep with each ad of {parsed.name} (date, region, ...)",
                keep_options, key=f"keep:{parsed.name}",
                default=guess_keep_columns(parsed, text_column, id_column),
                help="Copied into every coded row, as `skillmap batch --keep-column` does; "
                "the analysis below compares and tracks skills by them.")
            try:
                rows = parsed.ads(text_column, id_column, keep)
            except SkillmapError as exc:
                st.error(str(exc))
                continue
            if parsed.empty_ids:
                st.warning(f"{parsed.name}: {parsed.empty_ids:,} rows have an empty id in "
                           f"column {id_column!r}; choose another id column, or row numbers")
            ads += [replace(a, doc_id=f"{parsed.name}:{a.doc_id}") if several else a
                    for a in rows]
        else:
            ads += parsed.ads()
    return unique_doc_ids(ads)  # two files with the same name: keep both, ids distinct


def _code(ads: list[Ad], settings: Settings) -> dict:
    """Code all ads in one de-duplicated batch; the bar follows the sentences encoded."""
    extractor = resources.extractor_for(settings)
    bar = st.progress(0.0, text=f"Coding {len(ads):,} ads…")

    def moved(done: int, total: int) -> None:
        bar.progress(done / max(total, 1),
                     text=f"Encoded {done:,} of {total:,} distinct sentences")

    started = time.perf_counter()
    results = extractor.extract_many([a.text for a in ads], [a.doc_id for a in ads],
                                     on_progress=moved)
    seconds = time.perf_counter() - started
    bar.empty()
    for result, ad in zip(results, ads):
        result.variables = dict(ad.variables)
    return {"results": results, "seconds": seconds,
            "sources": {ad.doc_id: ad.source for ad in ads}}


def _show(stored: dict) -> None:
    results = stored["results"]
    long = long_frame(results)
    summary = summary_frame(results)
    counts = st.columns(4)
    counts[0].metric("Ads coded", f"{len(results):,}")
    counts[1].metric("Ads with skills", f"{int((summary['skills'] > 0).sum()):,}")
    counts[2].metric("Distinct skills", f"{long['skill_id'].nunique():,}")
    counts[3].metric("Seconds", f"{stored['seconds']:.1f}")

    downloads = st.columns(2)
    downloads[0].download_button("Download coded CSV (long format)", long_csv(results),
                                 file_name="skillmap-coded.csv", mime="text/csv",
                                 key="download_long", type="primary", on_click="ignore",
                                 help="One row per ad and skill: the schema of `skillmap "
                                 "batch` (with --keep-column for the columns kept).")
    downloads[1].download_button("Download per-ad summary (CSV)",
                                 summary_csv(results),
                                 file_name="skillmap-summary.csv", mime="text/csv",
                                 key="download_summary", on_click="ignore")

    analysis_view.render(long, analysis.ads_frame(results, stored.get("sources")))

    with st.expander("Coded ads and per-ad summary (tables)"):
        st.dataframe(long, hide_index=True, width="stretch", height=420)
        st.dataframe(summary, hide_index=True, width="stretch", height=420)
    st.caption("Ids: the table's id column, or row numbers as in `skillmap batch`; with several "
               "files, prefixed by the file name; a .txt/.docx/.pdf ad is named after its file.")
