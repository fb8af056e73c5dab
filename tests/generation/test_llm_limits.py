"""What an LLM endpoint sends back is bounded and never ends a run: answers that are HTML,
bytes or JSON of another shape, answers too large, too slow or compressed into bombs are
each recorded as a failed prompt (and never cached), through the real ``openai`` client
against the stub server (tests/helpers/stub_openai.py)."""

from __future__ import annotations

import json
import os
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers.stub_openai import StubOpenAI
from skillmap.generation import ResponseCache, generate_corpus, make_backend
from skillmap.generation.backends.base import Completion
from skillmap.generation.prompts import load_prompt
from skillmap.generation.sampling import GenerationRequest


def _backend(stub, **options):
    settings = dict(model="stub-model", base_url=stub.base_url, api_key="sk-test-secret",
                    timeout=2.0, max_retries=0, parse_retries=0, concurrency=1)
    settings.update(options)
    return make_backend("openai", **settings)


def _ask(backend, taxonomy) -> Completion:
    request = GenerationRequest("single", 0, (taxonomy.skills[0],), n=2, seed=1)
    [(_, completion)] = list(backend.generate([(request, load_prompt("single"))]))
    return completion


@pytest.mark.parametrize("answer, reason", [
    ("html", "not a chat completion"), ("binary", "not a chat completion"),
    ('shape:{"choices": "x"}', "not a chat completion"), ("shape:[1, 2]", "not a chat completion"),
    ('shape:{"choices": [{"message": {"content": 5}}]}', "not a chat completion"),
    ('shape:{"choices": []}', "without choices"),
])
def test_a_200_answer_that_is_not_a_chat_completion_is_a_failed_prompt(tmp_path, demo_taxonomy,
                                                                       answer, reason):
    """Issue 25: `generate` stopped with a traceback on a 200 answer that was HTML, bytes or
    JSON of the wrong shape."""
    cache = ResponseCache(tmp_path / "cache.sqlite")
    with StubOpenAI([answer]) as stub:
        report = generate_corpus(demo_taxonomy, _backend(stub), tmp_path / "c.jsonl",
                                 modes=["single"], per_skill=2, limit=2, cache=cache)
    assert len(report.failed) == 1 and reason in report.failed[0]["error"]
    assert "\n" not in report.failed[0]["error"]
    assert report.written == 2 and len(cache) == 1  # the other prompt; not the failed one


LLM_ANSWER = st.one_of(
    st.binary(max_size=300),
    st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=10),
                 lambda inner: st.lists(inner, max_size=3)
                 | st.dictionaries(st.sampled_from(["choices", "message", "content", "usage",
                                                    "sentences", "refusal", "x"]), inner,
                                   max_size=4), max_leaves=12).map(
        lambda value: json.dumps(value).encode()),
)


@pytest.fixture(scope="module")
def stub_and_backend():
    with StubOpenAI() as stub:
        yield stub, _backend(stub)


@settings(max_examples=150, deadline=None, derandomize=bool(os.environ.get("CI")),
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(answer=LLM_ANSWER)
def test_any_200_answer_gives_sentences_or_a_one_line_failure(demo_taxonomy, stub_and_backend,
                                                               answer):
    """Generated answers (random bytes, and JSON built from the keys a chat completion has):
    the backend returns sentences or a one-line reason, never raises."""
    stub, backend = stub_and_backend
    stub.script = [f"bytes:{answer.hex()}"]
    completion = _ask(backend, demo_taxonomy)
    assert completion.ok or (completion.error and "\n" not in completion.error)
    assert all(isinstance(s, str) for s in completion.sentences)


@pytest.mark.slow  # waits out a real timeout
def test_a_slow_drip_answer_ends_at_the_timeout(demo_taxonomy):
    """Issue 25: a server sending one byte at a time defeated --timeout 3 (81 s for one
    request); the timeout is now the total time of each try."""
    with StubOpenAI(["drip:0.05"] * 3) as stub:
        started = time.monotonic()
        completion = _ask(_backend(stub, timeout=1.0, max_retries=1), demo_taxonomy)
        seconds = time.monotonic() - started
        stub.release()
    assert not completion.ok and "timed out" in completion.error.lower()
    assert seconds < 2 * 1.0 + 2.5  # two tries of 1 s, plus the client's backoff


@pytest.mark.slow  # waits out real timeouts
@pytest.mark.parametrize("variable", ["HTTP_PROXY", "http_proxy", "ALL_PROXY"])
def test_the_deadline_holds_through_a_proxy_named_in_the_environment(demo_taxonomy,
                                                                     monkeypatch, variable):
    """Issue 25: httpx mounted its own transport for a proxy from the environment, so
    requests through ``HTTPS_PROXY`` had no total-time deadline. The stub plays the proxy
    here: it receives the absolute URL of the endpoint and drips its answer."""
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY",
                 "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    with StubOpenAI(["drip:0.05"] * 3) as proxy:
        monkeypatch.setenv(variable, proxy.base_url.removesuffix("/v1"))
        backend = make_backend("openai", model="stub-model", base_url="http://llm.invalid/v1",
                               api_key="sk-test", timeout=1.0, max_retries=1,
                               parse_retries=0, concurrency=1)
        started = time.monotonic()
        completion = _ask(backend, demo_taxonomy)
        seconds = time.monotonic() - started
        proxy.release()
    assert proxy.paths and all(p.startswith("http://llm.invalid/v1/") for p in proxy.paths)
    assert not completion.ok and "timed out" in completion.error.lower()
    assert seconds < 2 * 1.0 + 2.5


def test_no_proxy_sends_the_request_directly(demo_taxonomy, monkeypatch):
    with StubOpenAI(["ok"]) as server:
        monkeypatch.setenv("HTTP_PROXY", "http://proxy.invalid:3128")
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        completion = _ask(_backend(server), demo_taxonomy)
    assert completion.ok and server.paths == ["/v1/chat/completions"]


@pytest.mark.parametrize("answer, reason", [("huge:6000000", "larger than 4,194,304 bytes"),
                                            ("gzip-bomb", "gzip-compressed")])
def test_an_answer_too_large_is_refused_unread_and_not_cached(tmp_path, demo_taxonomy, answer,
                                                               reason):
    """Issue 25: a 300 MB answer took 4.9 GB of memory and went into the cache."""
    import resource

    from helpers.stub_openai import _gzip_bomb

    _gzip_bomb()  # built by the stub in this process: before the measurement
    cache = ResponseCache(tmp_path / "cache.sqlite")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with StubOpenAI([answer] * 3) as stub:
        report = generate_corpus(demo_taxonomy, _backend(stub, max_retries=2), tmp_path / "c.jsonl",
                                 modes=["single"], per_skill=2, limit=1, cache=cache)
        calls = stub.calls
    assert len(report.failed) == 1 and reason in report.failed[0]["error"]
    assert calls == 1  # refused for good, not asked again
    assert len(cache) == 0
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 100
