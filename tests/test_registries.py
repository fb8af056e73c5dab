"""One name-to-factory registry per kind of choice (issue 23, fault 4): the CLI offers
exactly the registry's names, and building by name goes through the registry."""

from __future__ import annotations

import pytest

from skillmap.encoder.backends import ENCODER_BACKENDS
from skillmap.errors import SkillmapError
from skillmap.generation.backends import LLM_BACKENDS


def test_cli_choices_are_the_registries_names():
    from skillmap.cli import Backend
    from skillmap.generation.cli import LLM

    assert [choice.value for choice in Backend] == list(ENCODER_BACKENDS)
    assert [choice.value for choice in LLM] == list(LLM_BACKENDS)
    assert Backend("onnx-int8") is Backend.onnx_int8  # a typer choice by its value


def test_unknown_names_are_refused_with_the_registries_names():
    from skillmap.encoder import SkillEncoder
    from skillmap.generation import make_backend

    with pytest.raises(SkillmapError, match="backend must be one of torch, onnx, onnx-int8"):
        SkillEncoder("all-MiniLM-L6-v2", backend="tensorrt")
    with pytest.raises(SkillmapError, match="choose from template, openai, local"):
        make_backend("anthropic")


def test_a_backend_takes_the_settings_its_constructor_has_and_ignores_the_rest():
    from skillmap.generation import make_backend

    backend = make_backend("openai", model="m", base_url="http://127.0.0.1:9/v1", api_key="k",
                           concurrency=3, batch_size=99, prompts_dir="/nowhere", device="cpu",
                           max_tokens=12, temperature=None)
    assert (backend.concurrency, backend.max_tokens, backend.temperature) == (3, 12, 0.9)
    backend.close()
    template = make_backend("template", model="ignored", concurrency=3, max_tokens=5)
    assert template.model.startswith("template-phrasings@")
