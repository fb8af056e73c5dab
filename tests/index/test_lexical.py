"""Verbatim label matching and the lexical boost it feeds."""

from __future__ import annotations

from skillmap.index.lexical import LabelMatcher
from skillmap.pipeline import Extractor
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
