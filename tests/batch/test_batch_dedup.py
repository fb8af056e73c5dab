"""Cross-chunk sentence de-duplication and kill-and-resume of real batch processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from skillmap.batch import code_corpus
from skillmap.pipeline import Extractor
from skillmap.pipeline.sentence_cache import Outcome, SentenceCache

from conftest import DEMO_TAXONOMY, REPO
from helpers.spies import record_encodings

SKILLMAP = Path(sys.executable).with_name("skillmap")


def test_cache_evicts_first_in_first_out_and_replays_exactly(tmp_path):
    cache = SentenceCache(max_sentences=2)
    a = Outcome(0.9, ((3, 0.1234567890123),))
    cache.add("a", a)
    cache.add("b", Outcome(None, None))
    assert cache.get("a") == a and cache.hits == 1  # a hit does not refresh "a"
    cache.add("c", Outcome(0.5, ((1, 0.5), (2, 0.25))))
    assert "a" not in cache and "b" in cache and "c" in cache
    cache.dump(tmp_path / "added.jsonl")
    assert cache.pending == []

    rebuilt = SentenceCache(max_sentences=2)
    rebuilt.replay(tmp_path / "added.jsonl")
    assert rebuilt._outcomes == cache._outcomes  # same entries, same order, exact floats


def test_repeated_sentences_are_coded_from_the_cache_not_encoded_again(demo_index, encoder,
                                                                        monkeypatch):
    extractor = Extractor(demo_index, encoder, sentence_filter=None, min_score=-1.0)
    ads = ["We are a family company based in Leeds.\nYou will develop software in Python.",
           "We are a family company based in Leeds.\nYou will drive a forklift truck."]
    assert extractor.reranker is not None  # the default reranks: its encodings count too
    calls = record_encodings(monkeypatch, extractor)
    cache = SentenceCache()
    first = extractor.extract_many(ads[:1], ["1"], cache=cache)
    second = extractor.extract_many(ads[1:], ["2"], cache=cache)
    encoded = [sentence for call in calls for sentence in call]
    assert encoded.count("We are a family company based in Leeds.") == 1
    assert cache.hits == 1
    alone = extractor.extract_many(ads[1:], ["2"])
    assert [s.skill_id for s in second[0].skills] == [s.skill_id for s in alone[0].skills]
    assert first[0].sentences[0].matches[0].skill_id == \
        second[0].sentences[0].matches[0].skill_id


@pytest.mark.slow
def test_batch_report_counts_sentences_reused_across_chunks(demo_index, encoder, tmp_path):
    demo_extractor = Extractor(demo_index, encoder, sentence_filter=None)  # all encoded
    source = tmp_path / "ads.csv"
    lines = ["ad_id,description"] + [
        f'{i},"We are a family company based in Leeds.\nYou will develop software in '
        f'language number {i}."' for i in range(6)]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with_cache = code_corpus(demo_extractor, source, tmp_path / "a.csv", "description",
                             "ad_id", chunk_size=2, show_progress=False)
    without = code_corpus(demo_extractor, source, tmp_path / "b.csv", "description", "ad_id",
                          chunk_size=2, show_progress=False, dedup_cache=0)
    # the blurb is encoded once per run with the cache, once per chunk without it
    assert with_cache.encoded_sentences == 7 and with_cache.cached_sentences == 2
    assert without.encoded_sentences == 6 + 3 and without.cached_sentences == 0


# ---------------------------------------------------------------- real processes, real kills
@pytest.fixture(scope="module")
def corpus_and_index(tmp_path_factory, tiny_model_factory):
    """600 generated ads (realistic reuse) and a demo-taxonomy index on a tiny model."""
    from skillmap.encoder import SkillEncoder
    from skillmap.index import SkillIndex
    from skillmap.taxonomy import load_taxonomy

    folder = tmp_path_factory.mktemp("kill")
    corpus = folder / "ads.csv"
    subprocess.run([sys.executable, str(REPO / "benchmarks" / "make_ads.py"), "--n", "600",
                    "--out", str(corpus)], check=True, capture_output=True)
    index = SkillIndex.build(load_taxonomy(DEMO_TAXONOMY), SkillEncoder(tiny_model_factory()))
    index.save(folder / "index")
    return corpus, folder / "index"


@pytest.fixture(scope="module")
def uninterrupted(corpus_and_index, tmp_path_factory) -> Path:
    """The output of one uninterrupted run: what every killed-and-resumed run must equal."""
    corpus, index = corpus_and_index
    clean = tmp_path_factory.mktemp("clean") / "clean.csv"
    run = _batch(corpus, index, clean)
    assert run.wait() == 0, run.stderr.read()
    return clean


def _batch(corpus: Path, index: Path, out: Path, *extra: str) -> subprocess.Popen:
    # the tiny model lives outside the index folder: named with --model, as a user would
    model = json.loads((index / "metadata.json").read_text())["model_id"]
    return subprocess.Popen(
        [str(SKILLMAP), "batch", str(corpus), "--text-column", "description", "--id-column",
         "ad_id", "--index", str(index), "--model", model, "--no-filter", "--chunk-size", "15",
         "--out", str(out), *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"})


def _kill_after(process: subprocess.Popen, partial: Path, chunks: int,
                extra_seconds: float = 0.0) -> None:
    """SIGKILL the process ``extra_seconds`` after ``chunks`` chunk files exist (no cleanup
    can run)."""
    deadline = time.monotonic() + 240
    while len(list(partial.glob("chunk-*.csv"))) < chunks:
        assert process.poll() is None, f"the run ended before the kill: {process.stderr.read()}"
        assert time.monotonic() < deadline, "no progress within 240 s"
        time.sleep(0.01)
    time.sleep(extra_seconds)
    assert process.poll() is None, "the run ended before the kill"
    process.send_signal(signal.SIGKILL)
    process.wait()


@pytest.mark.slow
def test_killed_twice_and_resumed_run_writes_exactly_the_uninterrupted_rows(corpus_and_index,
                                                                             uninterrupted,
                                                                             tmp_path):
    corpus, index = corpus_and_index
    clean = uninterrupted

    out = tmp_path / "killed.csv"
    partial = tmp_path / "killed.csv.partial"
    _kill_after(_batch(corpus, index, out), partial, chunks=3)
    assert not out.exists() and partial.is_dir()
    done_first = len(list(partial.glob("chunk-*.csv")))
    _kill_after(_batch(corpus, index, out, "--resume"), partial, chunks=done_first + 4)
    assert not out.exists()

    resumed = _batch(corpus, index, out, "--resume")
    assert resumed.wait() == 0, resumed.stderr.read()
    assert not partial.exists()
    assert out.read_bytes() == clean.read_bytes()


@pytest.mark.slow
def test_killed_at_random_moments_then_resumed_run_writes_exactly_the_uninterrupted_rows(
        corpus_and_index, uninterrupted, tmp_path):
    """SIGKILL at seeded random moments — once during start-up, then a random number of
    chunks into each resumed run plus a random fraction of a chunk (mid-encode, mid-write) —
    and resume after each: the output equals an uninterrupted run's, byte for byte."""
    import random

    corpus, index = corpus_and_index
    clean = uninterrupted

    rng = random.Random(20261123)
    out, partial = tmp_path / "killed.csv", tmp_path / "killed.csv.partial"
    process = _batch(corpus, index, out)
    time.sleep(rng.uniform(0.2, 2.0))  # still importing or loading the model
    process.send_signal(signal.SIGKILL)
    process.wait()
    for _ in range(4):
        done = len(list(partial.glob("chunk-*.csv")))
        process = _batch(corpus, index, out, "--resume")
        _kill_after(process, partial, chunks=done + rng.randint(1, 4),
                    extra_seconds=rng.uniform(0.0, 0.3))
        assert not out.exists()
    final = _batch(corpus, index, out, "--resume")
    assert final.wait() == 0, final.stderr.read()
    assert not partial.exists()
    assert out.read_bytes() == clean.read_bytes()


@pytest.mark.slow
def test_two_resumed_processes_on_the_same_output_lose_no_rows(corpus_and_index, uninterrupted,
                                                               tmp_path):
    """Issue 25, as a user met it: a run is interrupted, then `--resume` is started twice,
    seconds apart. Before, both exited 0 and the output lacked the rows of the chunks the
    second run had deleted. Now the second stops at once with one line and the first writes
    every row."""
    corpus, index = corpus_and_index
    out, partial = tmp_path / "coded.csv", tmp_path / "coded.csv.partial"
    _kill_after(_batch(corpus, index, out), partial, chunks=2)
    first = _batch(corpus, index, out, "--resume")
    done = len(list(partial.glob("chunk-*.csv")))
    deadline = time.monotonic() + 240
    while len(list(partial.glob("chunk-*.csv"))) < done + 2:  # the first is coding
        assert first.poll() is None, first.stderr.read()
        assert time.monotonic() < deadline
        time.sleep(0.01)
    first.send_signal(signal.SIGSTOP)  # frozen mid-run (as a slow run is), lock held
    try:
        second = _batch(corpus, index, out, "--resume")
        assert second.wait(timeout=120) == 2
    finally:
        first.send_signal(signal.SIGCONT)
    lines = second.stderr.read().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("skillmap: error: another skillmap batch")
    assert first.wait() == 0, first.stderr.read()
    assert out.read_bytes() == uninterrupted.read_bytes()
    assert not partial.exists()
