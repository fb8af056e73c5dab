"""The openai backend, through the real ``openai`` client, against a stub server on 127.0.0.1.

No network: the stub (tests/helpers/stub_openai.py) answers like an OpenAI-compatible server
and can be scripted to rate-limit, fail, time out, or answer with broken JSON.
"""

from __future__ import annotations

import json

import pytest

from helpers.stub_openai import StubOpenAI
from skillmap.errors import SkillmapError
from skillmap.generation import ResponseCache, generate_corpus, make_backend, read_corpus


def _backend(stub, **options):
    settings = dict(model="stub-model", base_url=stub.base_url, api_key="sk-test-secret",
                    timeout=2.0, max_retries=2, concurrency=1)
    settings.update(options)
    return make_backend("openai", **settings)


def _run(tmp_path, taxonomy, backend, name="corpus.jsonl", **options):
    settings = dict(modes=["single"], per_skill=2, limit=1,
                    cache=ResponseCache(tmp_path / f"{name}.sqlite"))
    settings.update(options)
    return generate_corpus(taxonomy, backend, tmp_path / name, **settings)


def test_sentences_come_from_the_endpoint_with_provenance_and_usage(tmp_path, demo_taxonomy):
    with StubOpenAI() as stub:
        report = _run(tmp_path, demo_taxonomy, _backend(stub), limit=3)
    records = list(read_corpus(tmp_path / "corpus.jsonl"))
    assert stub.calls == 3 and report.model_calls == 3
    assert len(records) == 6  # 3 skills x 2 sentences
    first = records[0]
    assert first.backend == "openai" and first.model == "stub-model"
    assert first.template_id == "single" and first.template_version >= 1
    assert first.skill_ids == [demo_taxonomy.skills[0].id] and first.text.startswith("Stub")
    assert report.prompt_tokens == 300 and report.completion_tokens == 3 * 40
    # the prompt carried the skill's label and asked for JSON
    body = stub.bodies[0]
    assert demo_taxonomy.skills[0].label in body["messages"][-1]["content"]
    assert body["response_format"] == {"type": "json_object"}
    saved = json.loads((tmp_path / "corpus.jsonl.report.json").read_text())
    assert saved["completion_tokens"] == 120


@pytest.mark.parametrize("status", ["429", "500"])
def test_a_rate_limit_or_server_error_is_retried_then_succeeds(tmp_path, demo_taxonomy, status):
    with StubOpenAI([status]) as stub:
        report = _run(tmp_path, demo_taxonomy, _backend(stub))
    assert stub.calls == 2
    assert report.failed == [] and report.written == 2


def test_a_timeout_is_retried_then_succeeds(tmp_path, demo_taxonomy):
    with StubOpenAI(["sleep:1.5"]) as stub:
        report = _run(tmp_path, demo_taxonomy, _backend(stub, timeout=0.5))
    assert stub.calls == 2
    assert report.failed == [] and report.written == 2


def test_malformed_json_is_asked_again(tmp_path, demo_taxonomy):
    with StubOpenAI(["malformed"]) as stub:
        report = _run(tmp_path, demo_taxonomy, _backend(stub))
    assert stub.calls == 2
    assert report.failed == [] and report.written == 2


@pytest.mark.parametrize("answer, reason", [("malformed", "JSON"), ("truncated", "cut off"),
                                            ("refusal", "refused"), ("500", "InternalServer"),
                                            ("sleep:3", "Timeout")])
@pytest.mark.slow
def test_persistent_failures_are_recorded_and_only_they_are_retried(tmp_path, demo_taxonomy,
                                                                    answer, reason):
    with StubOpenAI([answer] * 2) as stub:  # both attempts of the first request fail
        report = _run(tmp_path, demo_taxonomy, _backend(stub, parse_retries=1, max_retries=1),
                      limit=2)
    assert len(report.failed) == 1 and reason in report.failed[0]["error"]
    assert report.failed[0]["request_id"] == "single-000000"
    assert report.written == 2  # the second request still went through
    with StubOpenAI() as stub:  # a healthy server: the re-run asks for the failed one only
        again = _run(tmp_path, demo_taxonomy, _backend(stub), limit=2)
    assert stub.calls == 1 and again.answered_from_cache == 1
    assert again.failed == [] and again.written == 2 and again.lines_before == 2


def test_bad_credentials_stop_the_run_without_leaking_the_key(tmp_path, demo_taxonomy):
    with StubOpenAI(["401"] * 5, secret_echo="sk-test-secret") as stub:
        with pytest.raises(SkillmapError) as info:
            _run(tmp_path, demo_taxonomy, _backend(stub), limit=3)
    assert "sk-test-secret" not in str(info.value)
    assert "refused" in str(info.value)
    assert not (tmp_path / "corpus.jsonl").exists() or \
        (tmp_path / "corpus.jsonl").read_text() == ""


def test_concurrent_requests_write_the_same_corpus_in_plan_order(tmp_path, demo_taxonomy):
    with StubOpenAI() as stub:
        _run(tmp_path, demo_taxonomy, _backend(stub), name="serial.jsonl", limit=12)
        _run(tmp_path, demo_taxonomy, _backend(stub, concurrency=6), name="parallel.jsonl",
             limit=12)
    serial = (tmp_path / "serial.jsonl").read_text()
    assert serial == (tmp_path / "parallel.jsonl").read_text()
    assert serial.count("\n") == 24


def test_the_openai_backend_needs_a_model_and_a_key(monkeypatch):
    for name in ("OPENAI_MODEL", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(SkillmapError, match="needs a model"):
        make_backend("openai")
    with pytest.raises(SkillmapError, match="OPENAI_API_KEY"):
        make_backend("openai", model="gpt-4o-mini")
    monkeypatch.setenv("OPENAI_MODEL", "from-env")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    assert make_backend("openai").model == "from-env"
