"""Models, indexes and filters, loaded once per server process and shared by every session.

Streamlit re-runs the page script on every click; ``st.cache_resource`` keeps the loaded
objects across those re-runs and across browser sessions, so only the first visitor waits
for the encoder and the index. The encoder itself is shared through
:meth:`SkillEncoder.cached`, so two indexes built with the same model hold one copy of it.
An :class:`Extractor` is cheap once these are loaded, and it is immutable in use, so one per
setting combination is cached too.
"""

from __future__ import annotations

import streamlit as st

from skillmap.app.catalog import DEMO, NO_FILTER, NO_SECOND_OPINION
from skillmap.encoder import SkillEncoder
from skillmap.filter import SentenceFilter, resolve_filter
from skillmap.index import SkillIndex, default_index
from skillmap.pipeline.config import ExtractorConfig
from skillmap.pipeline.extractor import Extractor
from skillmap.pipeline.results import AdResult


@st.cache_resource(show_spinner="Loading the skill index and its encoder (first visit only)…")
def load_index(index_key: str) -> SkillIndex:
    if index_key == DEMO:
        return default_index(SkillEncoder.cached())  # the encoder get_extractor shares
    return SkillIndex.load(index_key)


@st.cache_resource(show_spinner="Loading the sentence filter…")
def load_filter(filter_key: str) -> SentenceFilter | None:
    return resolve_filter(filter_key)


@st.cache_resource(max_entries=16, show_spinner=False)
def get_extractor(index_key: str, filter_key: str, top_k: int, min_score: float,
                  exclude_skills: tuple[str, ...] = (),
                  exclude_sentences: tuple[str, ...] = (),
                  second_opinion: str = NO_SECOND_OPINION,
                  second_opinion_weight: float = ExtractorConfig.second_opinion_weight,
                  rerank_weight: float = ExtractorConfig.rerank_weight,
                  context_weight: float = ExtractorConfig.context_weight,
                  label_overlap: float = ExtractorConfig.label_overlap,
                  ) -> Extractor:
    index = load_index(index_key)
    encoder = SkillEncoder.cached(index.recorded_model())
    # "off" is the CLI's --no-filter: no filter and no ad structure, every sentence alone
    return Extractor(index=index, encoder=encoder, top_k=top_k, min_score=min_score,
                     sentence_filter=load_filter(filter_key), structure=filter_key != NO_FILTER,
                     exclude_skills=exclude_skills, exclude_sentences=exclude_sentences,
                     second_opinion=None if second_opinion == NO_SECOND_OPINION
                     else second_opinion, second_opinion_weight=second_opinion_weight,
                     rerank_weight=rerank_weight, context_weight=context_weight,
                     label_overlap=label_overlap)


def extractor_for(settings) -> Extractor:
    """The extractor the sidebar's settings describe."""
    return get_extractor(*settings.key)


@st.cache_data(max_entries=64, show_spinner="Finding skills…")
def code_ad(text: str, key: tuple) -> AdResult:
    """One ad's result, memoised on the settings' key: changing a control and back does not
    recode."""
    return get_extractor(*key).extract(text, doc_id="ad")
