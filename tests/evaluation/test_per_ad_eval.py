"""The per-ad benchmark: evidence precision, noise, coverage and filter P/R, checked by hand on
two tiny postings, and the SkillSpan halves used to choose and to report."""

from __future__ import annotations

import json

import pytest
from conftest import SHARED

from skillmap.evaluation.per_ad import evaluate_postings, split_postings
from skillmap.evaluation.skillspan import read_skillspan
from skillmap.pipeline.results import AdResult, SentenceResult, SkillMatch


def _write_postings(path):
    rows = [(1, ["Data Engineer", "We offer free lunch .", "Experience with SQL ."], [0, 0, 1]),
            (2, ["Python and Docker .", "Apply now ."], [1, 0])]
    with path.open("w") as handle:
        for idx, lines, gold in rows:
            for line, g in zip(lines, gold):
                tokens = line.split()
                tags = ["B"] + ["I"] * (len(tokens) - 1) if g else ["O"] * len(tokens)
                handle.write(json.dumps({"idx": idx, "tokens": tokens, "tags_skill": tags,
                                         "tags_knowledge": ["O"] * len(tokens),
                                         "source": "tech"}) + "\n")


class FakeExtractor:
    """Returns fixed results whose sentences sit on the postings' lines."""

    def extract_many(self, texts, ids):
        first, second = texts
        lines = first.split("\n")
        starts = [0, len(lines[0]) + 1, len(lines[0]) + len(lines[1]) + 2]
        a = AdResult(ids[0], skills=[
            SkillMatch("sql", "SQL", 0.8, evidence_index=2, rank=1),
            SkillMatch("lunch", "cook lunch", 0.6, evidence_index=1, rank=2)], sentences=[
            SentenceResult(0, lines[0], 0, len(lines[0]), "title"),
            SentenceResult(1, lines[1], starts[1], starts[1] + len(lines[1]), "sentence"),
            SentenceResult(2, lines[2], starts[2], starts[2] + len(lines[2]), "sentence")])
        lines = second.split("\n")
        b = AdResult(ids[1], skills=[], sentences=[
            SentenceResult(0, lines[0], 0, len(lines[0]), "sentence"),
            SentenceResult(1, lines[1], len(lines[0]) + 1, len(second), "sentence",
                           filtered=True)])
        return [a, b]


def test_per_ad_numbers_match_a_hand_count(tmp_path):
    path = tmp_path / "tiny.json"
    _write_postings(path)
    report = evaluate_postings(FakeExtractor(), read_skillspan(path).postings(), "fake")
    # ad 1 lists SQL (evidence: a span line) and "cook lunch" (evidence: the benefits line);
    # ad 2 lists nothing, so it counts for coverage and noise but not for precision
    assert report.evidence_precision == {"@5": 0.5, "@10": 0.5}
    assert report.noise_skills_per_ad == 0.5           # (1 + 0) / 2
    assert report.coverage == 0.5                      # ad 1: 1 of 1, ad 2: 0 of 1
    assert report.list_length == 1.0 and report.ads_without_skills == 1
    # kept = content sentences not filtered: lunch, SQL, Python (the title is not content)
    assert report.filter_precision == pytest.approx(2 / 3)
    assert report.filter_recall == 1.0
    assert report.sentences == 5 and report.sentences_kept == 3


SKILLSPAN_DEV = SHARED / "benchmarks" / "skillspan" / "dev.json"


@pytest.mark.skipif(not SKILLSPAN_DEV.is_file(), reason="../shared/benchmarks is not present")
def test_the_halves_are_disjoint_stable_and_mixed():
    postings = read_skillspan(SKILLSPAN_DEV).postings()
    calibration = split_postings(postings, "calibration")
    report = split_postings(postings, "report")
    assert {p.id for p in calibration}.isdisjoint({p.id for p in report})
    assert len(calibration) + len(report) == len(postings)
    assert {p.source for p in calibration} == {p.source for p in report} == {"tech", "house"}
    assert [p.id for p in split_postings(postings, "report")] == [p.id for p in report]
