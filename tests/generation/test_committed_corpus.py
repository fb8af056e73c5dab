"""The LLM-written corpus committed in data/corpora/ loads, and its statistics are the ones
recorded beside it (a corpus edited by hand, cut short or re-generated without re-recording
its statistics fails here)."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from skillmap.corpus.records import read_corpus
from skillmap.corpus.text import words
from skillmap.evaluation.corpus_stats import distinct_n

CORPORA = Path(__file__).resolve().parents[2] / "data" / "corpora"
COMMITTED = sorted(CORPORA.glob("*.jsonl.gz"))


def test_every_committed_corpus_has_its_statistics_and_fits_the_size_budget():
    assert COMMITTED, "data/corpora holds no corpus"
    for corpus in COMMITTED:
        assert corpus.with_name(corpus.name.replace(".jsonl.gz", ".stats.json")).is_file()
    assert sum(path.stat().st_size for path in CORPORA.iterdir()) <= 15 * 1024 * 1024


@pytest.mark.parametrize("corpus", COMMITTED, ids=lambda path: path.name)
def test_a_committed_corpus_loads_and_matches_its_recorded_statistics(corpus):
    recorded = json.loads(corpus.with_name(corpus.name.replace(".jsonl.gz", ".stats.json"))
                          .read_text(encoding="utf-8"))
    by_mode = defaultdict(list)
    for record in read_corpus(corpus):
        assert record.backend == "openai" and record.text.strip() and record.skill_ids
        by_mode[record.mode].append(record)
    assert sum(len(records) for records in by_mode.values()) == recorded["lines"]
    for stats in recorded["modes"]:
        records = by_mode[stats["mode"]]
        tokens = [words(r.text) for r in records]
        assert len(records) == stats["sentences"]
        assert len({s for r in records for s in r.skill_ids}) == stats["distinct_skills"]
        assert round(sum(map(len, tokens)) / len(tokens), 2) == stats["words_per_sentence"]
        assert round(distinct_n(tokens, 2), 4) == stats["distinct_2"]
