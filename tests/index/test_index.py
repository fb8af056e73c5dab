"""Index build/save/load, provenance metadata and refusal of mismatched models."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from skillmap.encoder import DEFAULT_MODEL_ID, SkillEncoder
from skillmap.errors import IndexMismatchError, SkillmapError
from skillmap.index import SkillIndex, skill_text


@pytest.fixture(scope="module")
def saved_index(demo_index, tmp_path_factory):
    folder = tmp_path_factory.mktemp("idx") / "demo"
    demo_index.save(folder)
    return folder


def test_each_skill_text_finds_its_own_skill_first(demo_index, encoder):
    skills = demo_index.skills[:40]
    vectors = encoder.encode([skill_text(s, demo_index.metadata.text_template) for s in skills])
    _, hits = demo_index.search(vectors, 1)
    assert [demo_index.skills[h].id for h in hits[:, 0]] == [s.id for s in skills]


def test_saved_folder_is_self_contained_and_round_trips(saved_index, demo_index, encoder):
    assert {p.name for p in saved_index.iterdir()} == {"index.faiss", "metadata.json", "taxonomy"}
    meta = json.loads((saved_index / "metadata.json").read_text())
    assert meta["model_id"] == encoder.model_id == DEFAULT_MODEL_ID
    assert meta["embedding_dim"] == 384 and meta["n_skills"] == len(demo_index)
    assert meta["taxonomy_name"] == "skillmap-demo" and meta["text_template"]
    loaded = SkillIndex.load(saved_index)
    loaded.check_encoder(encoder)
    query = encoder.encode(["Fluent spoken German"])
    a, b = loaded.search(query, 5), demo_index.search(query, 5)
    assert np.array_equal(a[1], b[1]) and np.allclose(a[0], b[0])


def test_model_with_other_dimension_is_refused(saved_index, tiny_model_factory):
    index = SkillIndex.load(saved_index)
    with pytest.raises(IndexMismatchError, match="32-dim vectors but the index was built with"):
        index.check_encoder(SkillEncoder(tiny_model_factory(hidden=32)))


def test_model_with_same_dimension_but_other_weights_is_refused(saved_index, tiny_model_factory):
    index = SkillIndex.load(saved_index)
    impostor = SkillEncoder(tiny_model_factory(hidden=384, seed=1))
    assert impostor.dimension == index.metadata.embedding_dim
    with pytest.raises(IndexMismatchError, match="is not the model the index was built with"):
        index.check_encoder(impostor)


def test_extractor_refuses_mismatched_encoder(saved_index, tiny_model_factory):
    from skillmap.pipeline import Extractor

    with pytest.raises(IndexMismatchError):
        Extractor(index=saved_index, encoder=SkillEncoder(tiny_model_factory(hidden=32)))


def test_tampered_or_broken_index_folders_are_refused(saved_index, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(saved_index, broken)
    with open(broken / "taxonomy" / "skills.csv", "a") as fh:
        fh.write("extra,extra skill,,,,L2-languages\n")
    with pytest.raises(IndexMismatchError, match="taxonomy copy does not match"):
        SkillIndex.load(broken)

    shutil.rmtree(broken)
    shutil.copytree(saved_index, broken)
    (broken / "index.faiss").write_bytes(b"garbage")
    with pytest.raises(SkillmapError, match="corrupt faiss index"):
        SkillIndex.load(broken)

    (broken / "metadata.json").write_text("{not json")
    with pytest.raises(SkillmapError, match="corrupt index metadata"):
        SkillIndex.load(broken)
    with pytest.raises(SkillmapError, match="not a skillmap index"):
        SkillIndex.load(broken / "taxonomy")


def test_unknown_template_field_is_refused(demo_taxonomy, encoder):
    with pytest.raises(SkillmapError, match="unknown field {title}"):
        SkillIndex.build(demo_taxonomy, encoder, text_template="{title}")


def test_default_model_missing_from_disk_gives_clear_error(tmp_path):
    with pytest.raises(SkillmapError, match="could not load encoder"):
        SkillEncoder("no-such-org/no-such-model-here")


@pytest.mark.slow
def test_cli_index_build_on_demo(tmp_path, capsys):
    from skillmap.cli import main

    out = tmp_path / "idx"
    assert main(["index", "build", "--out", str(out)]) == 0
    assert "indexed " in capsys.readouterr().err and (out / "index.faiss").is_file()
    assert SkillIndex.load(out).metadata.n_skills >= 150
