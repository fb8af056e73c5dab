"""Gold-data readers, baselines and `skillmap eval` (metrics themselves: test_metrics.py)."""

from __future__ import annotations

import json

import pytest

from skillmap.cli import main
from skillmap.errors import InputError
from skillmap.evaluation import (PipelineRanker, evaluate, read_benchmark, read_gold_file,
                                 read_skill_extraction_csv)
from skillmap.evaluation.baselines import BM25Ranker, TfidfRanker
from skillmap.pipeline import Extractor

from conftest import SHARED, needs_esco

SPAN_CSV = """sentence,span,sub_span,label
You write Python every day.,Python,,Python (computer programming)
You write Python every day.,every day,,LABEL NOT PRESENT
Fluent German and English.,German,,SPEAK GERMAN
Fluent German and English.,English,,English language
We offer a bonus.,bonus,,UNDERSPECIFIED
Cook pasta dishes.,pasta,,cook pasta like a pro
"""


@pytest.fixture
def span_csv(tmp_path):
    path = tmp_path / "bench.csv"
    path.write_text(SPAN_CSV, encoding="utf-8")
    return path


def test_span_csv_groups_drops_and_resolves_in_three_steps(span_csv, demo_taxonomy):
    bench = read_skill_extraction_csv(span_csv, demo_taxonomy)
    by_text = {item.text: set(item.gold) for item in bench.items}
    ids = {s.label: s.id for s in demo_taxonomy.skills}
    assert by_text["You write Python every day."] == {ids["Python (computer programming)"]}
    # normalised preferred label, then a unique alternative label ("English language")
    assert by_text["Fluent German and English."] == {ids["speak German"], ids["speak English"]}
    assert bench.items_without_gold == 1 and "We offer a bonus." not in by_text
    assert bench.unresolved_labels == ["cook pasta like a pro"]
    assert by_text["Cook pasta dishes."] == {"unresolved:cook pasta like a pro"}  # a miss


def test_generic_jsonl_and_csv_gold(tmp_path, demo_taxonomy):
    ids = {s.label: s.id for s in demo_taxonomy.skills}
    jsonl = tmp_path / "gold.jsonl"
    jsonl.write_text(json.dumps({"text": "Python and SQL.", "skills": [ids["SQL"], "Python (computer "
                                 "programming)"]}) + "\n" + json.dumps({"text": "x", "skills": []}))
    bench = read_gold_file(jsonl, demo_taxonomy, level="document")
    assert bench.level == "document" and bench.items_without_gold == 1
    assert set(bench.items[0].gold) == {ids["SQL"], ids["Python (computer programming)"]}
    csv_gold = tmp_path / "gold.csv"
    csv_gold.write_text(f"id,text,skills\nad-1,Forklift driver,{ids['operate forklift']}|nope\n")
    bench = read_benchmark(csv_gold, demo_taxonomy)
    assert bench.items[0].item_id == "ad-1" and bench.unresolved_labels == ["nope"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"words": 1}\n')
    with pytest.raises(InputError, match="line 1"):
        read_gold_file(bad, demo_taxonomy)


def test_harness_scores_a_ranker_by_its_output(span_csv, demo_taxonomy):
    bench = read_skill_extraction_csv(span_csv, demo_taxonomy)
    # a perfect ranker can still only return skills of the taxonomy
    gold_of = {item.text: sorted(g for g in item.gold if g in demo_taxonomy) for item in bench.items}

    class Oracle:
        name = "oracle"

        def rank(self, texts, k):
            return [[(skill, 1.0) for skill in gold_of[t]][:k] for t in texts]

    report = evaluate(Oracle(), bench)
    # the unresolved label can never be found: that item scores 0, the other two 1
    assert report.n == 3 and report.unresolved == 1
    assert report.metrics["RP@5"] == pytest.approx(2 / 3)
    assert report.metrics["MRR"] == pytest.approx(2 / 3)
    # per-item scores in benchmark order (what a paired comparison needs), and an interval
    # around each average: one item of three missed, so the bootstrap spans 1/3 .. 1
    assert sorted(report.item_scores["RP@5"]) == [0.0, 1.0, 1.0]
    low, high = report.intervals["RP@5"]
    assert low < report.metrics["RP@5"] < high and 0.0 <= low and high <= 1.0


def test_pipeline_and_baselines_rank_the_obvious_skill_first(demo_index, encoder, demo_taxonomy):
    texts = ["Experience operating a forklift", "Prepare cocktails behind the bar"]
    expected = ["operate forklift", "prepare cocktails"]
    label = {s.id: s.label for s in demo_taxonomy.skills}
    for ranker in (PipelineRanker(Extractor(demo_index, encoder)), TfidfRanker(demo_taxonomy),
                   BM25Ranker(demo_taxonomy)):
        rankings = ranker.rank(texts, 5)
        assert [label[r[0][0]] for r in rankings] == expected, ranker.name
        assert all(len(r) == 5 and r[0][1] >= r[-1][1] for r in rankings)


def test_tfidf_scores_are_what_it_ranks_by(demo_taxonomy):
    ranker, texts = TfidfRanker(demo_taxonomy), ["Experience operating a forklift", "bar"]
    scores = ranker.scores(texts)
    assert scores.shape == (2, len(demo_taxonomy.skills))
    for row, ranking in zip(scores, ranker.rank(texts, 3)):
        assert [score for _, score in ranking] == pytest.approx(sorted(row, reverse=True)[:3])
        assert ranking[0][0] == ranker.ids[int(row.argmax())]


def test_document_level_runs_the_full_pipeline(demo_index, encoder):
    ranker = PipelineRanker(Extractor(demo_index, encoder), level="document")
    ad = "About us: we are nice.\n- Operate a forklift safely\n- Speak fluent German"
    top = [skill for skill, _ in ranker.rank([ad], 10)[0]]
    assert "operate-forklift" in top[:3] and "speak-german" in top[:3]


def test_cli_eval_json(span_csv, capsys):
    assert main(["eval", "--benchmark", str(span_csv), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["n"] == 3 and report["unresolved"] == 1
    assert set(report["metrics"]) >= {"RP@5", "RP@10", "MRR", "P@5", "R@5", "F1@5"}
    assert 0 < report["metrics"]["RP@5"] <= 1
    low, high = report["intervals"]["RP@5"]
    assert low <= report["metrics"]["RP@5"] <= high
    assert len(report["item_scores"]["RP@5"]) == report["n"]
    assert main(["eval", "--benchmark", str(span_csv)]) == 0
    assert "95% bootstrap interval over the 3 items" in capsys.readouterr().out
    assert main(["eval", "--benchmark", str(span_csv), "--system", "tfidf"]) == 0
    assert "TF-IDF" in capsys.readouterr().out


@needs_esco
def test_esco_benchmark_resolution_counts():
    from skillmap.taxonomy import import_esco

    from conftest import ESCO_DIR

    taxonomy, _ = import_esco(ESCO_DIR)
    tech = read_skill_extraction_csv(
        SHARED / "benchmarks/skill-extraction/tech_validation_annotations.csv", taxonomy)
    assert len(tech.items) == 75 and tech.unresolved == 5
    # every unresolved label of both splits is one of another ESCO release (docs §13.2)
    near = {split: read_skill_extraction_csv(
        SHARED / f"benchmarks/skill-extraction/{split}_validation_annotations.csv", taxonomy,
        near=True) for split in ("tech", "house")}
    assert near["tech"].unresolved == near["house"].unresolved == 0
    assert near["tech"].near_resolved == {
        "think innovately": "think innovatively",
        "SaaS (service-oriented modelling)": "service-oriented modelling"}
    assert near["house"].near_resolved == {
        "think innovately": "think innovatively", "manage personnel": "manage staff",
        "develop technological improvement strategies": "define technology strategy"}
