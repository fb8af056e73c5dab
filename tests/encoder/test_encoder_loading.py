"""Model folders load through public sentence-transformers API and one list of module classes
(skillmap.encoder.loading): the shipped encoders give the vectors they gave before, and a
folder naming any other class is refused in one line, before anything is imported."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from skillmap.encoder import SkillEncoder
from skillmap.encoder.loading import load_model, module_class
from skillmap.errors import SkillmapError

# Vectors of the shipped default encoder and of all-MiniLM-L6-v2, computed with the loader
# that used sentence-transformers' private _load_with_module_classes (main before issue 23).
BEFORE = json.loads((Path(__file__).parents[1] / "data" / "encoder_vectors_main.json")
                    .read_text(encoding="utf-8"))


def one_line(exc_info) -> str:
    assert "\n" not in str(exc_info.value)
    return str(exc_info.value)


@pytest.mark.parametrize("name", ["default", "all-MiniLM-L6-v2"])
def test_the_shipped_encoders_give_the_vectors_they_gave_before(name):
    before = BEFORE["encoders"][name]
    encoder = SkillEncoder.cached(name)
    assert encoder.model_id == before["model_id"]
    vectors = encoder.encode(BEFORE["sentences"])
    np.testing.assert_allclose(vectors, np.asarray(before["vectors"], dtype=np.float32),
                               atol=2e-5)


def test_a_saved_skillmap_model_loads_as_the_classes_it_was_saved_with(tmp_path):
    from skillmap.encoder.architecture import EncoderConfig, build_encoder
    from skillmap.encoder.modules import AttentionPooling, BiLSTM

    model = build_encoder(EncoderConfig(pooling="bilstm-attention"), device="cpu")
    model.save(str(tmp_path / "model"))
    loaded = load_model(tmp_path / "model", device="cpu")
    assert [type(m) for m in loaded] == [type(m) for m in model]
    assert isinstance(loaded[1], BiLSTM) and isinstance(loaded[2], AttentionPooling)
    texts = ["Python and SQL", "We need a nurse who speaks German."]
    np.testing.assert_allclose(loaded.encode(texts), model.encode(texts), atol=1e-6)


@pytest.mark.parametrize("type_ref", [
    "sentence_transformers.SentenceTransformer",         # a whole model, not a module
    "sentence_transformers.models.Router",               # would load classes of its own
    "sentence_transformers.models.CLIPModel",
    "skillmap.encoder.modules._SavedModule",
    "skillmap.encoder.modules.nn",
    "skillmap.encoder.BiLSTM",                           # not the exact import path
    "sentence_transformersX.models.Pooling",
    "os.system",
])
def test_classes_outside_the_list_are_refused_in_one_line(tmp_path, type_ref):
    assert module_class(type_ref) is None
    (tmp_path / "modules.json").write_text(json.dumps(
        [{"idx": 0, "name": "0", "path": "", "type": type_ref}]))
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(SkillmapError, match="refusing to import module classes") as info:
        SkillEncoder(tmp_path)
    assert type_ref in one_line(info)


@pytest.mark.parametrize("type_ref, name", [
    ("sentence_transformers.models.Normalize", "Normalize"),                  # 5.x spelling
    ("sentence_transformers.base.modules.normalize.Normalize", "Normalize"),  # 6.x spelling
    ("sentence_transformers.sentence_transformer.modules.pooling.Pooling", "Pooling"),
    ("skillmap.encoder.modules.AttentionPooling", "AttentionPooling"),
])
def test_each_sentence_transformers_spelling_of_an_allowed_class_is_accepted(type_ref, name):
    assert module_class(type_ref).__name__ == name


@pytest.mark.parametrize("entries", [[], {"0": "x"}, [{"path": ""}], [5]])
def test_a_malformed_modules_json_is_refused_in_one_line(tmp_path, entries):
    (tmp_path / "modules.json").write_text(json.dumps(entries))
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(SkillmapError, match="modules.json") as info:
        SkillEncoder(tmp_path)
    one_line(info)


def test_a_bundle_naming_a_class_outside_the_list_is_refused(tmp_path):
    """A bundle names its modules in bundle.json; the same list of classes applies."""
    from skillmap.encoder.skill_encoder import TRAINED_DEFAULT_DIR

    bundle = tmp_path / "bundle"
    shutil.copytree(TRAINED_DEFAULT_DIR, bundle)
    manifest = json.loads((bundle / "bundle.json").read_text())
    manifest["modules"][1]["type"] = "sentence_transformers.SentenceTransformer"
    (bundle / "bundle.json").write_text(json.dumps(manifest))
    with pytest.raises(SkillmapError, match="refusing to import module classes") as info:
        SkillEncoder(bundle)
    assert "sentence_transformers.SentenceTransformer" in one_line(info)
