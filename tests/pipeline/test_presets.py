"""Presets (``--preset fast|accurate``): a preset fills in exactly the settings the user left
unset, the accurate one asks for EmbeddingGemma with the weights tuned for it, a preset
naming an unknown setting or an unknown preset is a one-line error, and the command line
codes with the preset's weights."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skillmap.commands.options import extractor_config
from skillmap.errors import SkillmapError
from skillmap.pipeline import ExtractorConfig
from skillmap.pipeline.presets import (ACCURATE, FAST, PRESET_FIELDS, PRESETS, Preset,
                                       get_preset)

OTHER_OPTIONS = st.dictionaries(st.sampled_from(["top_k", "lexical_boost", "model",
                                                 "filter_threshold"]),
                                st.one_of(st.none(), st.integers(1, 50)), max_size=4)
PRESET_OPTIONS = st.dictionaries(st.sampled_from(sorted(PRESET_FIELDS)),
                                 st.one_of(st.none(), st.floats(0, 1), st.text(max_size=5)),
                                 max_size=len(PRESET_FIELDS))


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(PRESETS)), PRESET_OPTIONS, OTHER_OPTIONS)
def test_a_preset_fills_only_what_was_left_unset(name, preset_options, other_options):
    preset = PRESETS[name]
    filled = preset.fill({**preset_options, **other_options})
    assert {k: v for k, v in filled.items() if k in other_options} == other_options
    for field in PRESET_FIELDS:
        given_value = preset_options.get(field)
        if given_value is not None:  # the user's value wins
            assert filled[field] == given_value
        elif field in preset.settings:
            assert filled[field] == preset.settings[field]
        else:  # unset and not the preset's: the config's own default applies
            assert field not in filled


def test_the_presets_as_configs():
    fast = extractor_config(preset="fast", rerank_weight=None, second_opinion=None,
                            second_opinion_weight=None)
    assert (fast.second_opinion, fast.rerank_weight, fast.second_opinion_weight) == (
        None, ExtractorConfig.rerank_weight, ExtractorConfig.second_opinion_weight)
    assert FAST.settings == {}
    accurate = extractor_config(preset="accurate", rerank_weight=None, second_opinion=None)
    assert accurate.second_opinion == "embeddinggemma"
    assert accurate.second_opinion_weight == ACCURATE.settings["second_opinion_weight"]
    assert accurate.rerank_weight == ACCURATE.settings["rerank_weight"]
    assert accurate.rerank_weight != ExtractorConfig.rerank_weight  # it changes something
    mine = extractor_config(preset="accurate", rerank_weight=0.1)
    assert mine.rerank_weight == 0.1 and mine.second_opinion == "embeddinggemma"
    # the Python side: the same configs
    assert ExtractorConfig.from_preset("accurate", top_k=7) == accurate.replace(top_k=7)
    assert ExtractorConfig.from_preset() == ExtractorConfig()
    assert ExtractorConfig.from_preset("accurate", rerank_weight=0.1) == mine


def test_unknown_presets_and_settings_are_one_line_errors():
    with pytest.raises(SkillmapError) as error:
        get_preset("turbo")
    assert "fast" in str(error.value) and "\n" not in str(error.value)
    with pytest.raises(SkillmapError) as error:
        Preset("broken", "a typo", {"rerank_wieght": 0.4})
    assert "rerank_wieght" in str(error.value)
    with pytest.raises(TypeError):  # a registered preset cannot be changed afterwards
        ACCURATE.settings["rerank_weight"] = 9.0


def test_accurate_before_embeddinggemma_is_fetched_is_one_line_naming_the_fetch(
        capsys, tmp_path, monkeypatch):
    from conftest import REPO
    from helpers.cli import run

    monkeypatch.setenv("SKILLMAP_CACHE", str(tmp_path / "cache"))  # nothing fetched there
    code, out, err = run(capsys, "extract", REPO / "data" / "sample_ad.txt", "--preset",
                         "accurate")
    assert code != 0 and out == ""
    assert "skillmap encoder fetch embeddinggemma" in err and len(err.strip().splitlines()) == 1


@pytest.mark.slow
def test_the_command_line_codes_with_the_presets_weights(capsys, demo_index, encoder,
                                                         tiny_model_factory):
    """--preset accurate --second-opinion FOLDER: the preset's two weights, the user's model."""
    import io

    import pandas as pd

    from conftest import REPO
    from helpers.cli import run
    from skillmap.pipeline import Extractor

    second = tiny_model_factory(hidden=32, seed=5)
    ad = REPO / "data" / "sample_ad.txt"
    options = ("--aggregation", "interleave", "--no-filter", "--format", "csv")
    code, out, err = run(capsys, "extract", ad, *options, "--preset", "accurate",
                         "--second-opinion", str(second))
    assert code == 0, err
    table = pd.read_csv(io.StringIO(out))
    expected = Extractor(index=demo_index, encoder=encoder, sentence_filter=None,
                         structure=False, aggregation="interleave",
                         second_opinion=str(second),
                         second_opinion_weight=ACCURATE.settings["second_opinion_weight"],
                         rerank_weight=ACCURATE.settings["rerank_weight"]).extract(
        ad.read_text(encoding="utf-8"), doc_id="ad")
    assert table["skill_label"].tolist() == [m.skill_label for m in expected.skills]
    code, out, err = run(capsys, "extract", ad, *options, "--second-opinion", str(second))
    assert code == 0, err
    fast = pd.read_csv(io.StringIO(out))
    assert not fast["skill_label"].equals(table["skill_label"])  # the preset changed the order
