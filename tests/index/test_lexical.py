"""Verbatim label matching and the lexical boost it feeds; the label-overlap term."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from skillmap.cli import app
from skillmap.errors import SkillmapError
from skillmap.index.lexical import LabelMatcher, LabelOverlap
from skillmap.pipeline import Extractor, ExtractorConfig
from skillmap.taxonomy import Skill

SKILLS = [Skill("sql", "SQL", ("Structured Query Language",)), Skill("r", "R"),
          Skill("ml", "machine learning", ("ML",)), Skill("py", "Python (computer programming)",
                                                          ("Python",))]


def names(found):
    return sorted(SKILLS[i].id for i in found)


def test_labels_and_alt_labels_match_on_word_boundaries_case_insensitively():
    matcher = LabelMatcher(SKILLS)
    assert names(matcher.find("Strong python and Machine Learning skills")) == ["ml", "py"]
    assert names(matcher.find("structured query language (SQL)")) == ["sql"]
    assert names(matcher.find("Pythonista wanted; sqlite experience")) == []


def test_short_labels_match_case_sensitively():
    matcher = LabelMatcher(SKILLS)
    assert names(matcher.find("Analyses in R and ML pipelines")) == ["ml", "r"]
    assert names(matcher.find("r&d department, html")) == []
    assert names(matcher.find("We use sql daily")) == []


def test_boost_lifts_the_named_skill_and_zero_boost_gives_plain_cosine(demo_index, encoder):
    sentence = "You know SQL and relational databases."
    boosted = Extractor(demo_index, encoder, top_k=5).extract(sentence)
    plain = Extractor(demo_index, encoder, top_k=5, lexical_boost=0.0).extract(sentence)
    assert boosted.skills[0].skill_label == "SQL"
    sql_plain = next(m for m in plain.skills if m.skill_label == "SQL")
    # the score stays the cosine; the boost is reported apart and ranks the named skill first
    assert abs(boosted.skills[0].score - sql_plain.score) < 1e-5
    assert boosted.skills[0].name_bonus == 0.2 and sql_plain.name_bonus == 0.0
    vector = encoder.encode([sentence])[0]
    position = next(i for i, s in enumerate(demo_index.skills) if s.label == "SQL")
    assert abs(sql_plain.score - float(demo_index.vectors[position] @ vector)) < 1e-5


def test_named_skill_outside_dense_top_k_is_still_found(demo_index, encoder):
    # top_k=1 leaves no room in the dense candidates: the named skill must be added
    result = Extractor(demo_index, encoder, top_k=1).extract("Bring knowledge of Kubernetes.")
    assert result.skills[0].skill_label == "Kubernetes"


# --- LabelOverlap: the words a sentence shares with a skill's names -------------------------

OVERLAP_SKILLS = [Skill("ai", "principles of artificial intelligence", ("AI principles",)),
                  Skill("infra", "ICT infrastructure"), Skill("mgmt", "manage staff"),
                  Skill("team", "manage a team", ("lead a team",)),
                  Skill("budget", "manage budgets")]


def test_overlap_scores_shared_rare_words_and_nothing_for_none():
    overlap = LabelOverlap(OVERLAP_SKILLS)
    every = list(range(len(OVERLAP_SKILLS)))
    ai, none = overlap.scores(["Industry: Artificial Intelligence", "Fluent Danish"],
                              [every, every])
    assert ai.argmax() == 0 and ai[0] > 0.3 and (ai[1:] == 0).all()
    assert (none == 0).all()
    # a word every other name has ("manage") counts for less than a rare one ("budgets")
    common, rare = overlap.scores(["manage", "budgets"], [[4], [4]])
    assert 0 < common[0] < rare[0]


def test_overlap_scores_come_in_the_order_of_the_positions_asked():
    overlap = LabelOverlap(OVERLAP_SKILLS)
    forward, backward = overlap.scores(["ICT infrastructure and AI principles"] * 2,
                                       [[0, 1, 2], [2, 1, 0]])
    assert forward.tolist() == backward[::-1].tolist() and forward[2] == 0
    assert overlap.scores([], []) == []
    assert overlap.scores(["anything"], [[]])[0].shape == (0,)


def test_overlap_of_names_with_no_word_of_two_letters_is_zero():
    overlap = LabelOverlap([Skill("r", "R"), Skill("c", "C")])
    assert overlap.scores(["R and C"], [[0, 1]])[0].tolist() == [0.0, 0.0]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=60), min_size=1, max_size=4), st.data())
def test_overlap_is_a_cosine_in_0_1_for_any_text(sentences, data):
    overlap = LabelOverlap(OVERLAP_SKILLS)
    positions = [data.draw(st.lists(st.integers(0, len(OVERLAP_SKILLS) - 1), max_size=6))
                 for _ in sentences]
    for row, scores in zip(positions, overlap.scores(sentences, positions)):
        assert scores.shape == (len(row),)
        assert ((scores >= 0) & (scores <= 1 + 1e-9)).all()


def test_label_overlap_adds_w_times_the_overlap_to_each_candidates_order(demo_index, encoder):
    """The term is W x LabelOverlap's score on top of cosine + bonus + reranker, candidates
    re-sorted by it; the reported cosine and bonus do not change; W 0 is the order without
    it."""
    sentences = ["Experience with statistical programming", "You will keep the records",
                 "Knowledge of infrastructure is a plus"]
    off = Extractor(demo_index, encoder, min_score=-1.0, label_overlap=0.0)
    on = Extractor(demo_index, encoder, min_score=-1.0, label_overlap=0.7)
    changed = 0
    for sentence, plain, lifted in zip(sentences, off._candidates(sentences),
                                       on._candidates(sentences)):
        before = {hit: (cosine, bonus, key) for hit, cosine, bonus, key in plain}
        hits = [hit for hit, *_ in lifted]
        assert sorted(hits) == sorted(before)
        overlap = demo_index.label_overlap.scores([sentence], [hits])[0]
        for (hit, cosine, bonus, key), value in zip(lifted, overlap):
            assert (cosine, bonus) == before[hit][:2]
            assert abs(key - (before[hit][2] + 0.7 * value)) < 1e-6
        assert [key for *_, key in lifted] == sorted((key for *_, key in lifted), reverse=True)
        changed += hits != [hit for hit, *_ in plain]
    assert changed  # the sentences were chosen so that it reorders some


def test_label_overlap_out_of_range_is_one_clear_error():
    with pytest.raises(SkillmapError, match="label overlap must be in"):
        ExtractorConfig(label_overlap=1.5)
    result = CliRunner().invoke(app, ["extract", "--label-overlap", "-0.1", "x.txt"])
    assert result.exit_code != 0 and "--label-overlap" in result.output
