"""A generation run killed mid-way resumes to the corpus of an uninterrupted run.

The CLI runs in a subprocess against the stub server; the stub holds one request open, the
test kills the process with SIGKILL while that request is in flight, and the same command is
run again. The stub counts every call, so a repeated (paid-twice) request would show.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pytest

from helpers.stub_openai import StubOpenAI

PROMPTS = 10  # single-mode prompts in the run (demo taxonomy, --limit)
KILL_AFTER = 4  # answered prompts before the run is killed


def _command(stub, out, prompts=PROMPTS):
    return [sys.executable, "-m", "skillmap.cli", "generate", "--llm", "openai",
            "--base-url", stub.base_url, "--model", "stub-model", "--concurrency", "1",
            "--mode", "single", "--per-skill", "2", "--limit", str(prompts), "--out", str(out)]


def _env():
    return {**os.environ, "OPENAI_API_KEY": "sk-test", "HF_HUB_OFFLINE": "1"}


@pytest.mark.slow
def test_killed_run_resumes_without_duplicates_or_repeated_calls(tmp_path):
    # the uninterrupted reference run
    with StubOpenAI() as stub:
        subprocess.run(_command(stub, tmp_path / "reference.jsonl"), env=_env(), check=True,
                       capture_output=True, timeout=120)
        assert stub.calls == PROMPTS
    reference = (tmp_path / "reference.jsonl").read_text(encoding="utf-8")

    out = tmp_path / "corpus.jsonl"
    with StubOpenAI(["ok"] * KILL_AFTER + ["block"]) as stub:
        process = subprocess.Popen(_command(stub, out), env=_env(), stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        try:
            assert stub.blocked.wait(timeout=120), "the run never reached the blocked call"
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
        killed_calls = stub.calls
        answered_before_kill = list(stub.answered)
    assert killed_calls == KILL_AFTER + 1 and len(answered_before_kill) == KILL_AFTER

    # simulate the worst moment of a kill: a torn last line
    with out.open("a", encoding="utf-8") as handle:
        handle.write('{"text": "half a li')

    with StubOpenAI() as stub:
        done = subprocess.run(_command(stub, out), env=_env(), capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr
        # only the prompts never answered are sent again (the in-flight one included)
        assert stub.calls == PROMPTS - KILL_AFTER
        assert not set(stub.answered) & set(answered_before_kill)
    assert out.read_text(encoding="utf-8") == reference
    lines = reference.splitlines()
    assert len(lines) == len(set(lines)) == 2 * PROMPTS
    assert "answered from the cache" in done.stderr


@pytest.mark.slow
def test_rerunning_a_finished_run_changes_nothing_and_calls_nothing(tmp_path):
    out = tmp_path / "corpus.jsonl"
    with StubOpenAI() as stub:
        subprocess.run(_command(stub, out), env=_env(), check=True, capture_output=True,
                       timeout=120)
        first = out.read_text(encoding="utf-8")
        calls = stub.calls
        subprocess.run(_command(stub, out), env=_env(), check=True, capture_output=True,
                       timeout=120)
        assert stub.calls == calls
    assert out.read_text(encoding="utf-8") == first


@pytest.mark.slow
def test_killed_at_random_moments_resumes_to_the_uninterrupted_corpus(tmp_path):
    """Four SIGKILLs, each a seeded random number of answers into a run plus a random part of
    the next answer's latency (in flight, caching, writing a line): the corpus equals an
    uninterrupted run's, and no prompt is paid for twice except one in flight at a kill."""
    prompts, kills = 20, 4
    with StubOpenAI() as stub:
        subprocess.run(_command(stub, tmp_path / "reference.jsonl", prompts), env=_env(),
                       check=True, capture_output=True, timeout=120)
    reference = (tmp_path / "reference.jsonl").read_text(encoding="utf-8")

    rng = random.Random(20261123)
    out = tmp_path / "corpus.jsonl"
    with StubOpenAI(["sleep:0.2"] * 1000) as stub:  # every answer takes a moment
        for _ in range(kills):
            target = stub.calls + rng.randint(1, 3)
            process = subprocess.Popen(_command(stub, out, prompts), env=_env(),
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 120
            while stub.calls < target:
                assert process.poll() is None, "the run ended before the kill"
                assert time.monotonic() < deadline, "no call within 120 s"
                time.sleep(0.005)
            time.sleep(rng.uniform(0.0, 0.25))
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
        done = subprocess.run(_command(stub, out, prompts), env=_env(), capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert stub.calls <= prompts + kills
    assert out.read_text(encoding="utf-8") == reference


@pytest.mark.slow
def test_a_run_with_failed_prompts_exits_1_and_says_how_many(tmp_path):
    """Scripts must see failures: exit status 1 and the count on stderr (0 once re-run)."""
    out = tmp_path / "corpus.jsonl"
    with StubOpenAI(["500"] * 2) as stub:  # the first prompt fails on both attempts
        failed = subprocess.run(_command(stub, out, 3) + ["--max-retries", "1"], env=_env(),
                                capture_output=True, text=True, timeout=120)
    assert failed.returncode == 1, failed.stderr
    assert "1 failed" in failed.stderr
    with StubOpenAI() as stub:
        again = subprocess.run(_command(stub, out, 3), env=_env(), capture_output=True,
                               text=True, timeout=120)
        assert stub.calls == 1  # only the failed prompt is sent again
    assert again.returncode == 0, again.stderr


def test_each_answer_is_cached_before_the_next_request_is_sent(tmp_path, monkeypatch,
                                                                demo_taxonomy):
    """The threaded openai backend works ahead of the runner: the moment a worker has an
    answer it may send the next request. The answer must be in the cache by then, or a kill
    at that moment loses it and the rerun pays for it again."""
    from skillmap.generation import ResponseCache, generate_corpus, make_backend

    calls_at_put: list[int] = []
    original = ResponseCache.put
    with StubOpenAI() as stub:
        def put(self, key, completion):
            time.sleep(0.05)  # a slow disk: the next request must still wait for this
            calls_at_put.append(stub.calls)
            original(self, key, completion)

        monkeypatch.setattr(ResponseCache, "put", put)
        backend = make_backend("openai", model="stub-model", base_url=stub.base_url,
                               api_key="sk-test", timeout=5.0, max_retries=0, concurrency=1)
        generate_corpus(demo_taxonomy, backend, tmp_path / "corpus.jsonl", modes=["single"],
                        per_skill=1, limit=6, cache=ResponseCache(tmp_path / "answers.sqlite"))
    assert calls_at_put == list(range(1, 7))  # answer k cached while k requests were sent
