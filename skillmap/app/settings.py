"""The sidebar: which index and filter to code with, top-k, minimum score, the label overlap,
the ad's context, exclusions and (when one is installed) a second opinion.

The model and taxonomy in use are printed under the controls, so every screenshot and every
export can be traced to what produced it.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from skillmap.app import resources
from skillmap.app.catalog import (NO_FILTER, NO_SECOND_OPINION, default_index_key,
                                  discover_filters, discover_indexes,
                                  discover_second_opinions)
from skillmap.pipeline.config import DEFAULT_MIN_SCORE, ExtractorConfig
from skillmap.pipeline.exclusions import parse_exclusions, resolve_skills
from skillmap.pipeline.presets import ACCURATE
from skillmap.app.render import md
from skillmap.errors import SkillmapError


@dataclass(frozen=True)
class Settings:
    index_key: str
    filter_key: str
    top_k: int
    min_score: float
    exclude_skills: tuple[str, ...] = ()
    exclude_sentences: tuple[str, ...] = ()
    second_opinion: str = NO_SECOND_OPINION
    second_opinion_weight: float = ExtractorConfig.second_opinion_weight
    rerank_weight: float = ExtractorConfig.rerank_weight
    context_weight: float = ExtractorConfig.context_weight
    label_overlap: float = ExtractorConfig.label_overlap

    @property
    def key(self) -> tuple:
        """The arguments of :func:`resources.get_extractor`, in order."""
        return (self.index_key, self.filter_key, self.top_k, self.min_score,
                self.exclude_skills, self.exclude_sentences, self.second_opinion,
                self.second_opinion_weight, self.rerank_weight, self.context_weight,
                self.label_overlap)


def _weight_slider(label: str, key: str, value: float, help: str) -> float:
    """A share of the candidates' order, 0 (off) to 1, in steps of 0.05."""
    return st.slider(label, 0.0, 1.0, value, 0.05, key=key, help=help)


def sidebar() -> Settings:
    found = discover_indexes()
    indexes = {choice.key: choice for choice in found}
    filters = discover_filters()
    opinions = discover_second_opinions()
    with st.sidebar:
        st.header("skillmap")
        index_key = st.selectbox("Taxonomy (skill index)", list(indexes), key="index",
                                 format_func=lambda k: indexes[k].label,
                                 index=list(indexes).index(default_index_key(found)),
                                 help="Indexes come from `skillmap index build`; start the app "
                                 "with `skillmap app --index FOLDER` to list yours.")
        filter_key = st.selectbox("Sentence filter", list(filters), key="filter",
                                  format_func=filters.__getitem__,
                                  index=0 if "default" in filters else
                                  list(filters).index(NO_FILTER),
                                  help="Drops sentences that state no skill (company, benefits, "
                                  "how to apply) before retrieval; 'Off' also stops reading "
                                  "the ad's title, headings and metadata.")
        top_k = st.slider("Top-k skills (per ad and per sentence)", 1, 50, 10, key="top_k")
        min_score = st.slider("Minimum score", 0.0, 1.0, DEFAULT_MIN_SCORE, 0.05, key="min_score",
                              help="Cosine similarity of a skill and its sentence; a skill the "
                              "sentence names verbatim is kept whatever its score. The "
                              "default is calibrated for the default encoder.")
        label_overlap = _weight_slider(
            "Label overlap", "label_overlap", ExtractorConfig.label_overlap,
            "How much the words a sentence shares with a skill's label and alternative "
            "labels reorder its candidate skills, rare words counting most ('Artificial "
            "Intelligence' moves 'principles of artificial intelligence' up). 0: the "
            "encoder's order alone (`--label-overlap` on the command line).")
        context_weight = _weight_slider(
            "Ad context", "context_weight", ExtractorConfig.context_weight,
            "How much the rest of the ad reorders each sentence's candidate skills, for "
            "words the ad decides ('pipelines' in a data engineer's ad are not the "
            "plumber's); transversal skills are left as they are. 0: each sentence alone "
            "(`--context-weight` on the command line).")
        exclusions = st.text_area(
            "Exclusions", key="exclusions", height=100,
            placeholder="communication\nsentence: equal opportunit(y|ies)",
            help="Skills to leave out (a label or id per line) and sentences not to search "
            "('sentence: ' and a regular expression). The same list as "
            "`skillmap batch --exclude FILE`.")
        second_opinion, weight = NO_SECOND_OPINION, ExtractorConfig.second_opinion_weight
        rerank_weight = ExtractorConfig.rerank_weight
        if len(opinions) > 1:  # only when a second model is on this machine
            second_opinion = st.selectbox(
                "Second opinion", list(opinions), key="second_opinion",
                format_func=opinions.__getitem__,
                help="A second, larger model also scores each sentence's candidate skills "
                "(a share of their order, below): more accurate on the ESCO benchmarks, many "
                "times slower (`--second-opinion` on the command line).")
            if second_opinion != NO_SECOND_OPINION:
                # the accurate preset's pair: the two shares were tuned together
                rerank_weight = ACCURATE.settings["rerank_weight"]
                weight = _weight_slider("Second-opinion weight", "second_opinion_weight",
                                        ACCURATE.settings["second_opinion_weight"],
                                        "Its share of the candidates' order: 0 ignores it, "
                                        "1 lets it alone order them. The default is the "
                                        "accurate preset's (`--preset accurate`), tuned with "
                                        "EmbeddingGemma on the ESCO validation sentences.")
        else:  # say how to get the accurate setting, which needs a model fetched once
            st.caption("More accurate, several times slower: a second opinion from "
                       "EmbeddingGemma, after `skillmap encoder fetch embeddinggemma` "
                       "(then reload this page).")
        index = resources.load_index(index_key)
        meta = index.metadata
        st.divider()
        folder = indexes[index_key].path
        st.caption(f"**Index:** {md(folder.name) if folder else 'embedded demo'}  \n"
                   f"**Taxonomy:** {md(meta.taxonomy_name)} {md(meta.taxonomy_version)} · "
                   f"{meta.n_skills:,} skills  \n**Model:** {md(meta.model_id)}  \n"
                   f"**Filter:** {md(filters[filter_key])}"
                   + ("" if second_opinion == NO_SECOND_OPINION else
                      f"  \n**Second opinion:** {md(opinions[second_opinion])}")
                   + (f"  \n**Label overlap:** {label_overlap:g}"
                      if label_overlap != ExtractorConfig.label_overlap else "")
                   + (f"  \n**Ad context:** {context_weight:g}" if context_weight else ""))
    try:
        skills, sentences = parse_exclusions(exclusions, "Exclusions")
        resolve_skills(skills, index.skills)   # an unknown skill is one line, before coding
    except SkillmapError as exc:
        st.sidebar.error(f"{exc}; the exclusions are not applied until this is fixed")
        skills, sentences = (), ()
    return Settings(index_key, filter_key, int(top_k), float(min_score), skills, sentences,
                    second_opinion, float(weight), float(rerank_weight), float(context_weight),
                    float(label_overlap))
