"""One name-to-factory registry per kind of choice (issue 23, fault 4): the CLI offers
exactly the registry's names, and building by name goes through the registry."""

from __future__ import annotations

import pytest

from skillmap.encoder.backends import ENCODER_BACKENDS
from skillmap.errors import SkillmapError
from skillmap.generation.backends import LLM_BACKENDS


def _offered(capsys, *command: str) -> dict[str, list[str]]:
    """Option -> the choices ``skillmap COMMAND --help`` shows for it (``<a|b|c>``)."""
    import re

    from skillmap.cli import main

    assert main([*command, "--help"]) == 0
    text = capsys.readouterr().out
    return {option: choices.split("|")
            for option, choices in re.findall(r"(--[a-z-]+) <([a-z0-9|-]+)>", text)}


def test_cli_choices_are_the_registries_names(capsys):
    from skillmap.commands.options import Backend
    from skillmap.pipeline.aggregation import AGGREGATIONS

    for command in (["extract"], ["batch"], ["eval", "pipeline"], ["index", "build"]):
        assert _offered(capsys, *command)["--backend"] == list(ENCODER_BACKENDS), command
    for command in (["extract"], ["batch"]):
        assert _offered(capsys, *command)["--aggregation"] == list(AGGREGATIONS), command
    assert _offered(capsys, "generate", "corpus")["--llm"] == list(LLM_BACKENDS)
    from skillmap.pipeline.presets import PRESETS

    for command in (["extract"], ["batch"], ["eval", "pipeline"]):
        assert _offered(capsys, *command)["--preset"] == list(PRESETS), command
    from skillmap.encoder.architecture import BACKBONE_MODES, LOSS_NAMES
    from skillmap.filter.base import BACKBONE_MODES as FILTER_BACKBONE_MODES
    from skillmap.filter.base import TRAINABLE_KINDS
    from skillmap.index.ann import FAISS_TYPES

    assert _offered(capsys, "index", "build")["--faiss-type"] == list(FAISS_TYPES)
    encoder_options = _offered(capsys, "train", "encoder")
    assert encoder_options["--loss"] == list(LOSS_NAMES)
    assert encoder_options["--backbone-mode"] == list(BACKBONE_MODES)
    filter_options = _offered(capsys, "train", "filter")
    assert filter_options["--kind"] == list(TRAINABLE_KINDS)
    assert filter_options["--backbone-mode"] == list(FILTER_BACKBONE_MODES)
    assert Backend("onnx-int8") is Backend.onnx_int8  # a typer choice by its value


def test_the_loss_names_the_cli_offers_are_the_losses_torch_builds():
    """The CLI names the losses without importing torch; the loss registry maps exactly
    those names to classes."""
    from skillmap.encoder.architecture import LOSS_NAMES
    from skillmap.encoder.losses import LOSSES

    assert tuple(LOSSES) == LOSS_NAMES


def test_the_filter_names_are_one_list():
    """``resolve_filter``, the extractor's settings and the ``--filter`` help read one
    registry: every name it holds resolves, and the help names every one a user picks."""
    from skillmap.commands.options import FilterOption
    from skillmap.filter import FILTERS, SentenceFilter, resolve_filter
    from skillmap.pipeline.config import ExtractorConfig

    help_text = FilterOption.__metadata__[0].help
    for name in FILTERS:
        if name in ("none", "shipped"):  # --no-filter; "shipped" is "default"'s other name
            continue
        assert f"'{name}'" in help_text
    assert resolve_filter("none") is None
    assert isinstance(resolve_filter("keyword-length"), SentenceFilter)
    assert ExtractorConfig(sentence_filter="keyword-length").sentence_filter == "keyword-length"


def test_aggregations_rank_through_the_registry(demo_extractor, monkeypatch):
    """The extractor ranks through the registry: a name added to it is accepted and ranks as
    its entry says; an unknown name is refused with the registry's names."""
    from skillmap.pipeline.aggregation import AGGREGATIONS, Aggregation

    by_match = AGGREGATIONS["max"].order
    monkeypatch.setitem(AGGREGATIONS, "reverse", Aggregation(
        lambda best, ranks, mentions: list(reversed(by_match(best, ranks, mentions)))))
    ad = "We need Python and SQL and a driving licence for the forklift."
    ranked = {name: [s.skill_id for s in _with(demo_extractor, aggregation=name, top_k=50,
                                                min_score=-1.0).extract(ad).skills]
              for name in ("max", "reverse")}
    assert len(ranked["max"]) > 1 and ranked["reverse"] == ranked["max"][::-1]
    monkeypatch.undo()
    with pytest.raises(SkillmapError, match="must be one of evidence, interleave, max, got 'mean'"):
        _with(demo_extractor, aggregation="mean")


def _with(extractor, **changes):
    from skillmap.pipeline import Extractor

    return Extractor.from_config(extractor.config.replace(**changes), encoder=extractor.encoder,
                                 index=extractor.index)


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
