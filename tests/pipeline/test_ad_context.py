"""The ad around a sentence as a prior on its candidates (``ExtractorConfig.context_weight``,
:mod:`skillmap.rerank.ad_context`): the same ambiguous sentence reads differently in two ads,
weight 0 is the sentence alone, broad skills are left alone, and a batch run's cache
replays the vectors the context needs exactly."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from typer.testing import CliRunner

from skillmap.cli import app
from skillmap.errors import SkillmapError
from skillmap.pipeline import Extractor, ExtractorConfig
from skillmap.pipeline.sentence_cache import Outcome, SentenceCache
from skillmap.rerank.ad_context import context_terms, leave_one_out_contexts

AMBIGUOUS = "You will look after our pipelines every day."
DATA_AD = ("Data Engineer\n\nYou write Python and SQL.\nYou design data models for our "
           f"warehouse.\n{AMBIGUOUS}")
PLUMBING_AD = ("Plumber\n\nYou install bathrooms and radiators.\nYou fit copper pipes and "
               f"valves in homes.\n{AMBIGUOUS}")
floats = st.floats(-1, 1, allow_nan=False, width=32)


def _labels(extractor, ad):
    result = extractor.extract(ad)
    return [m.skill_label for m in next(s for s in result.sentences
                                         if s.text == AMBIGUOUS).matches]


def _extractor(demo_index, encoder, weight):
    return Extractor(demo_index, encoder, sentence_filter=None, min_score=-1.0,
                     context_weight=weight)


def test_the_same_sentence_takes_the_sense_of_its_ad(demo_index, encoder):
    alone = _extractor(demo_index, encoder, 0.0)
    assert _labels(alone, DATA_AD) == _labels(alone, PLUMBING_AD)  # ranked alone: one order
    in_context = _extractor(demo_index, encoder, 1.0)
    data, plumbing = _labels(in_context, DATA_AD), _labels(in_context, PLUMBING_AD)
    assert data.index("build data pipelines") < data.index("install plumbing systems")
    assert plumbing.index("install plumbing systems") < plumbing.index("build data pipelines")


def test_context_reorders_but_keeps_the_cosine_and_the_top_k(demo_index, encoder):
    extractor = _extractor(demo_index, encoder, 1.0)
    result = extractor.extract(PLUMBING_AD)
    vector = encoder.encode([AMBIGUOUS])[0]
    sentence = next(s for s in result.sentences if s.text == AMBIGUOUS)
    assert len(sentence.matches) == extractor.top_k
    for match in sentence.matches:  # the score reported is still the sentence's own cosine
        position = next(i for i, s in enumerate(demo_index.skills) if s.id == match.skill_id)
        assert match.score == pytest.approx(max(float(demo_index.vector(position) @ vector), 0),
                                            abs=1e-4)


def test_an_ad_of_one_sentence_has_no_context(demo_index, encoder):
    alone = _extractor(demo_index, encoder, 0.0).extract(AMBIGUOUS)
    weighted = _extractor(demo_index, encoder, 1.0).extract(AMBIGUOUS)
    assert [m.skill_id for m in weighted.skills] == [m.skill_id for m in alone.skills]


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 8).flatmap(lambda n: arrays(np.float32, (n, 5), elements=floats)))
def test_each_segments_context_is_the_rest_of_its_ad(vectors):
    contexts = leave_one_out_contexts(vectors)
    for i, context in enumerate(contexts):
        rest = np.delete(vectors, i, axis=0).sum(axis=0)
        norm = np.linalg.norm(rest)
        if norm > 1e-3:
            np.testing.assert_allclose(context, rest / norm, atol=1e-4)
        assert np.linalg.norm(context) == pytest.approx(1.0, abs=1e-4) or not context.any()


def test_one_segment_or_cancelling_segments_give_no_context():
    assert not leave_one_out_contexts(np.ones((1, 4), np.float32)).any()
    assert not leave_one_out_contexts(np.zeros((3, 4), np.float32)).any()


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 12).flatmap(lambda n: st.tuples(
    arrays(np.float32, (n, 4), elements=floats), arrays(np.float32, 4, elements=floats),
    arrays(bool, n), st.floats(0, 1))))
def test_terms_promote_only_candidates_that_fit_the_ad_better_than_most(case):
    candidates, context, exempt, weight = case
    terms = context_terms(candidates, context, weight, exempt)
    assert terms.shape == (len(candidates),) and (terms >= 0).all()
    assert not terms[exempt].any()                     # broad skills: no term
    assert (terms > 0).sum() <= len(candidates) // 2   # above the median only
    fit = candidates @ context
    free = np.flatnonzero(~exempt)
    for a in free:                                     # a better fit never gets less
        for b in free:
            if fit[a] > fit[b] + 1e-5:
                assert terms[a] >= terms[b] - 1e-6
    assert not context_terms(candidates, context, 0.0, exempt).any()
    assert not context_terms(candidates, np.zeros(4, np.float32), weight, exempt).any()


def test_broad_skills_stay_where_the_sentence_alone_puts_them(demo_index, encoder):
    extractor = _extractor(demo_index, encoder, 1.0)
    assert not extractor._broad.any()  # the demo taxonomy records no reuse levels
    extractor._broad[:] = True         # as if every skill were transversal or cross-sector
    assert _labels(extractor, PLUMBING_AD) == _labels(_extractor(demo_index, encoder, 0.0),
                                                      PLUMBING_AD)


def test_outcomes_with_vectors_replay_exactly(tmp_path):
    vector = np.array([0.1234567, -1e-8, 3.4028235e38], np.float32).tobytes()
    cache = SentenceCache()
    cache.add("a", Outcome(0.75, ((3, 0.5, 0.2, 0.83), (1, 0.25, 0.0, 0.3)), vector))
    cache.add("b", Outcome(0.1, None))
    cache.dump(tmp_path / "added.jsonl")
    rebuilt = SentenceCache()
    rebuilt.replay(tmp_path / "added.jsonl")
    assert rebuilt._outcomes == cache._outcomes
    assert rebuilt.get("a").array.dtype == np.float32


def test_context_weight_out_of_range_is_one_clear_error():
    with pytest.raises(SkillmapError, match="context weight must be in"):
        ExtractorConfig(context_weight=1.5)
    result = CliRunner().invoke(app, ["extract", "--context-weight", "-0.1", "x.txt"])
    assert result.exit_code != 0 and "--context-weight" in result.output


def test_batch_codes_each_ad_in_its_own_context_and_resumes_exactly(demo_index, encoder,
                                                                      tmp_path, monkeypatch):
    """The ambiguous line recurs across chunks, so later chunks take it from the batch's
    sentence cache; each ad must still get the list it gets coded alone, and a run
    interrupted after two chunks and resumed (the cache rebuilt from disk) the same bytes."""
    import csv

    import pandas as pd

    from skillmap.batch import code_csv
    from helpers.faults import Interrupt, failing_on_call

    ads = [DATA_AD, PLUMBING_AD] * 3
    source = tmp_path / "ads.csv"
    with open(source, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["ad_id", "text"])
        writer.writerows([(f"ad-{i}", ad) for i, ad in enumerate(ads)])
    extractor = _extractor(demo_index, encoder, 1.0)
    clean = tmp_path / "clean.csv"
    code_csv(extractor, source, clean, "text", "ad_id", chunk_size=2, show_progress=False)
    rows = pd.read_csv(clean)
    for i, ad in enumerate(ads):
        alone = [m.skill_id for m in extractor.extract(ad).skills]
        assert rows[rows.doc_id == f"ad-{i}"].sort_values("rank").skill_id.tolist() == alone
    assert rows[rows.doc_id == "ad-0"].skill_id.tolist() != \
        rows[rows.doc_id == "ad-1"].skill_id.tolist()

    out = tmp_path / "resumed.csv"
    monkeypatch.setattr(Extractor, "extract_many", failing_on_call(Extractor.extract_many, 3))
    with pytest.raises(Interrupt):
        code_csv(extractor, source, out, "text", "ad_id", chunk_size=2, show_progress=False)
    monkeypatch.undo()
    code_csv(extractor, source, out, "text", "ad_id", chunk_size=2, resume=True,
             show_progress=False)
    assert out.read_bytes() == clean.read_bytes()


LINES = ["Requirements:", "You write Python and SQL.", "You fit copper pipes and valves.",
         AMBIGUOUS, "We offer 30 days of holiday.", "Fluent German is a plus.", "",
         "You care for elderly residents.", "• Drive a forklift truck safely", "Über uns",
         "Team player with good communication skills.", "<ORGANIZATION> is hiring!"]


@pytest.fixture(scope="module")
def context_extractors(demo_index, encoder):
    extractors = {w: _extractor(demo_index, encoder, w) for w in (0.0, 0.4, 1.0)}
    # twice the candidates: a sentence encoded in another batch moves in the last float
    # bits, which may swap the 20th and 21st candidates, never the 20th and the 41st
    extractors["wide"] = Extractor(demo_index, encoder, sentence_filter=None, min_score=-1.0,
                                   rerank_candidates=40)
    return extractors


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from(LINES), max_size=10), st.sampled_from([0.4, 1.0]))
def test_any_ad_in_context_only_reorders_each_sentences_own_candidates(
        context_extractors, lines, weight):
    ad = "\n".join(lines)
    alone, in_context = context_extractors[0.0], context_extractors[weight]
    position = {skill.id: i for i, skill in enumerate(alone.index.skills)}
    plain, result = alone.extract(ad), in_context.extract(ad)
    assert [s.text for s in result.sentences] == [s.text for s in plain.sentences]
    for sentence in result.sentences:
        assert len(sentence.matches) <= in_context.top_k
        if not sentence.matches:
            continue
        own = {hit: cosine for hit, cosine, _, _ in
               context_extractors["wide"]._candidates([sentence.text])[0]}
        for match in sentence.matches:  # one of its own candidates, with its own cosine
            assert position[match.skill_id] in own
            assert match.score == pytest.approx(min(max(own[position[match.skill_id]], 0.0),
                                                    1.0), abs=1e-4)
    listed = {m.skill_id for s in result.sentences for m in s.matches}
    assert {m.skill_id for m in result.skills} <= listed
    assert len(result.skills) <= in_context.top_k


def test_eval_reports_name_the_context_only_where_there_is_an_ad(context_extractors):
    from skillmap.evaluation import PipelineRanker

    assert "ad context" not in PipelineRanker(context_extractors[0.0]).name
    assert ", ad context 0.4," in PipelineRanker(context_extractors[0.4], level="document").name
    assert "ad context none (lone sentences)" in PipelineRanker(context_extractors[0.4]).name


def test_cli_extract_and_batch_code_with_the_context_weight(demo_index, encoder, tmp_path,
                                                            capsys):
    import json

    import pandas as pd

    from helpers.cli import run

    ad = tmp_path / "data_ad.txt"
    ad.write_text(DATA_AD, encoding="utf-8")
    expected = {w: [m.skill_label for m in Extractor(demo_index, encoder, context_weight=w)
                    .extract(DATA_AD).skills] for w in (0.0, 1.0)}
    assert "build data pipelines" in expected[1.0]
    assert "build data pipelines" not in expected[0.0]
    for w in (0.0, 1.0):
        code, out, err = run(capsys, "extract", ad, "--format", "json", "--context-weight", w)
        assert code == 0, err
        assert [m["skill_label"] for m in json.loads(out)["skills"]] == expected[w]
    table = tmp_path / "ads.csv"
    pd.DataFrame({"id": ["a"], "text": [DATA_AD]}).to_csv(table, index=False)
    code, _, err = run(capsys, "batch", table, "-c", "text", "--id-column", "id",
                       "-o", tmp_path / "coded.csv", "--context-weight", 1.0)
    assert code == 0, err
    coded = pd.read_csv(tmp_path / "coded.csv").sort_values("rank")
    assert coded.skill_label.tolist() == expected[1.0]
