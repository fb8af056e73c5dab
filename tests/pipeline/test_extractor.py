"""The extraction pipeline on the demo taxonomy with the real default encoder."""

from __future__ import annotations

import pytest

from skillmap.errors import SkillmapError
from skillmap.pipeline import Extractor

from conftest import DATA
from helpers.spies import record_encodings


def labels(result):
    return [m.skill_label for m in result.skills]


CLEAR = ("We need a bartender who can prepare cocktails.\n"
         "You drive a forklift safely in our warehouse.\n"
         "You must speak fluent German.")


def test_clear_requirements_find_their_skills(demo_index, encoder):
    # retrieval alone: every sentence searched, each one's best skill first
    result = Extractor(demo_index, encoder, sentence_filter=None,
                       aggregation="interleave").extract(CLEAR)
    found = labels(result)
    for skill in ("prepare cocktails", "operate forklift", "speak German"):
        assert skill in found[:6], (skill, found)


def test_the_default_filter_misses_a_terse_duty_its_classifier_never_saw(demo_extractor):
    """A known miss, kept visible (docs/benchmarks.md §11): the shipped text classifier learned
    from template sentences and scores "You drive a forklift ..." as no skill; the ad's
    other requirements still come first."""
    result = demo_extractor.extract(CLEAR)
    forklift = result.sentences[1]
    assert forklift.filtered and forklift.filter_score < demo_extractor.sentence_filter.threshold
    assert {"prepare cocktails", "speak German"} <= set(labels(result)[:3])


def test_each_skill_carries_score_groups_and_evidence(demo_extractor):
    result = demo_extractor.extract("Strong Python programming skills are essential.\n"
                                    "Our office has a nice view.", doc_id="ad-7")
    assert result.doc_id == "ad-7"
    top = result.skills[0]
    assert top.skill_label == "Python (computer programming)" and top.rank == 1
    assert top.level1 == "digital skills" and top.level2 == "software development"
    assert top.evidence_sentence == "Strong Python programming skills are essential."
    assert result.sentences[top.evidence_index].text == top.evidence_sentence
    # cosine similarity, plus the lexical boost where the sentence names the skill
    assert all(0 < m.score <= 1 for m in result.skills)
    assert {m.name_bonus for m in result.skills} <= {0.0, demo_extractor.lexical_boost}


def test_interleave_puts_every_sentences_first_choice_before_second_choices(demo_index, encoder):
    ad = ("Hands-on experience with cloud computing on AWS, Azure or Google Cloud.\n"
          "Good written English.\nYou enjoy teamwork.")
    interleaved = Extractor(demo_index, encoder, top_k=10, aggregation="interleave").extract(ad)
    firsts = {s.matches[0].skill_id for s in interleaved.sentences}
    assert {m.skill_id for m in interleaved.skills[:len(firsts)]} == firsts
    by_score = Extractor(demo_index, encoder, top_k=10, aggregation="max").extract(ad)
    scores = [m.score + m.name_bonus for m in by_score.skills]
    assert scores == sorted(scores, reverse=True)
    # a skill's score and evidence do not depend on the ranking rule
    interleaved_by_id = {m.skill_id: m for m in interleaved.skills}
    common = [m for m in by_score.skills if m.skill_id in interleaved_by_id]
    assert len(common) >= 3
    for m in common:
        other = interleaved_by_id[m.skill_id]
        assert (m.score, m.evidence_sentence) == (other.score, other.evidence_sentence)


@pytest.mark.slow
def test_top_k_and_min_score_bound_the_output(demo_index, encoder):
    text = (DATA / "sample_ad.txt").read_text()
    three = Extractor(demo_index, encoder, top_k=3).extract(text)
    assert len(three.skills) == 3 and all(len(s.matches) <= 3 for s in three.sentences)
    strict = Extractor(demo_index, encoder, top_k=50, min_score=0.5).extract(text)
    # the floor is on the similarity; a skill the sentence names verbatim stays
    assert strict.skills and all(m.score >= 0.5 or m.name_bonus > 0 for m in strict.skills)
    assert all(m.score >= 0.5 or m.name_bonus > 0 for s in strict.sentences for m in s.matches)
    assert len(strict.skills) < len(Extractor(demo_index, encoder, top_k=50).extract(text).skills)


def test_per_sentence_detail_covers_every_segment_and_marks_headings(demo_extractor):
    result = demo_extractor.extract("What we're looking for:\n- Python\n- SQL")
    detail = result.to_dict()["sentences"]
    assert [(s["text"], s["kind"]) for s in detail] == [
        ("What we're looking for:", "heading"), ("Python", "bullet"), ("SQL", "bullet")]
    assert detail[0]["skills"] == [] and detail[1]["skills"][0]["skill_label"].startswith("Python")


def test_extract_many_encodes_each_distinct_sentence_once(demo_index, encoder, monkeypatch):
    boiler = "We are an equal opportunity employer."
    ads = [f"You know Python.\n{boiler}", f"You know SQL.\n{boiler}", f"You know Python.\n{boiler}"]
    extractor = Extractor(demo_index, encoder, sentence_filter=None)  # every sentence encoded
    seen = record_encodings(monkeypatch, extractor)
    many = extractor.extract_many(ads, ["a", "b", "c"])
    assert len(seen) == 1 and sorted(seen[0]) == sorted({"You know Python.", "You know SQL.", boiler})
    # de-duplication does not change results: same as coding each ad alone
    monkeypatch.undo()
    for ad, result in zip(ads, many):
        alone = extractor.extract(ad, result.doc_id)
        assert result.rows() == alone.rows()


def test_empty_ads_give_empty_results(demo_extractor):
    results = demo_extractor.extract_many(["", "   ", "----"], ["x", "y", "z"])
    assert [(r.doc_id, r.skills, r.sentences) for r in results] == [
        ("x", [], []), ("y", [], []), ("z", [], [])]


@pytest.mark.parametrize("kwargs, message", [({"top_k": 0}, "top-k"), ({"min_score": 2.0}, "min-score"),
                                             ({"aggregation": "mean"}, "aggregation")])
def test_bad_parameters_are_refused(demo_index, encoder, kwargs, message):
    with pytest.raises(SkillmapError, match=message):
        Extractor(demo_index, encoder, **kwargs)


def test_public_api_works_from_the_package_root():
    import skillmap

    result = skillmap.Extractor(top_k=5).extract("Experience administering medication to patients.")
    assert result.skills[0].skill_label == "administer medication"


def test_progress_callback_follows_the_encoding_and_changes_nothing(demo_index, encoder,
                                                                   monkeypatch):
    demo_extractor = Extractor(demo_index, encoder, sentence_filter=None)  # all encoded
    monkeypatch.setattr(demo_extractor, "PROGRESS_STEP", 4)
    texts = [f"You will lead team {i} and write Python and SQL daily. Drive a forklift."
             for i in range(6)] + ["We offer a pension."]
    calls: list[tuple[int, int]] = []
    with_progress = demo_extractor.extract_many(texts, on_progress=lambda d, t: calls.append((d, t)))
    total = calls[0][1]
    assert total == len({s for t in texts for s in segment_texts(t)})
    assert [d for d, _ in calls] == list(range(4, total, 4)) + [total]
    plain = demo_extractor.extract_many(texts)
    assert [r.to_dict() for r in with_progress] == [r.to_dict() for r in plain]


def segment_texts(text: str) -> list[str]:
    from skillmap.segmentation.text import segment

    return [s.text for s in segment(text) if s.kind != "heading"]


def test_the_default_pipeline_drops_heading_metadata_and_benefits_and_keeps_requirements(
        demo_index, encoder):
    extractor = Extractor(demo_index, encoder)  # every default: structure and filter on
    result = extractor.extract((DATA / "sample_ad.txt").read_text(encoding="utf-8"))
    by_text = {s.text: s for s in result.sentences}
    heading = by_text["What we're looking for"]
    metadata = by_text["Job type: Full-time, permanent"]
    benefit = by_text["Company pension with 6% employer contribution."]
    assert (heading.kind, metadata.kind) == ("heading", "metadata")
    assert not heading.coded and not metadata.coded and not heading.matches
    assert benefit.section == "benefits" and benefit.filtered and not benefit.matches
    requirements = [s for s in result.sentences if s.section == "requirements"
                    and s.is_content]
    assert len(requirements) == 6 and all(s.coded for s in requirements)
    evidence = {m.evidence_sentence for m in result.skills}
    assert evidence <= {s.text for s in result.sentences if s.coded}
    assert not evidence & {s.text for s in result.sentences if s.section == "benefits"}
