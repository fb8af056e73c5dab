"""A second encoder's opinion on the candidates (``ExtractorConfig.second_opinion``): at
weight 1 it alone orders the first encoder's candidates, at weight 0 nothing changes, the
reported score stays the first encoder's cosine, its label vectors are encoded once and
cached per model and label list, and bad settings are one-line errors."""

from __future__ import annotations

import numpy as np
import pytest

from skillmap.errors import SkillmapError
from skillmap.pipeline import Extractor, ExtractorConfig

SENTENCES = ["You write Python and SQL to build data pipelines.",
             "Experience with Docker and Kubernetes in production is required.",
             "You care for elderly residents and keep their records."]


@pytest.fixture(scope="module")
def second_model(tiny_model_factory):
    return tiny_model_factory(hidden=32, seed=3)


def _extractor(demo_index, encoder, **options):
    config = ExtractorConfig(sentence_filter=None, min_score=-1.0, top_k=5, rerank=None,
                             lexical_boost=0.0, label_overlap=0.0, **options)
    return Extractor.from_config(config, encoder=encoder, index=demo_index)


def _order(rows):
    return [[hit for hit, _, _ in row] for row in rows]


def test_at_weight_one_the_second_model_orders_the_candidates(demo_index, encoder,
                                                               second_model):
    from sentence_transformers import SentenceTransformer

    extractor = _extractor(demo_index, encoder, second_opinion=str(second_model),
                           second_opinion_weight=1.0)
    ranked = extractor.rank_sentences(SENTENCES)
    vectors = encoder.encode(SENTENCES)
    candidates = demo_index.search(vectors, 20)[1]  # the reranking depth
    tiny = SentenceTransformer(str(second_model), device="cpu")
    labels = tiny.encode([s.label for s in demo_index.skills], normalize_embeddings=True)
    second = tiny.encode(SENTENCES, normalize_embeddings=True)
    for row, pool, sentence_vector, first_vector in zip(ranked, candidates, second, vectors):
        expected = sorted(pool.tolist(), key=lambda h: -float(labels[h] @ sentence_vector))[:5]
        assert [hit for hit, _, _ in row] == expected
        for hit, cosine, _ in row:  # the reported score is still the index encoder's cosine
            assert cosine == pytest.approx(float(demo_index.vector(hit) @ first_vector),
                                           abs=1e-4)
    assert _order(ranked) != _order(_extractor(demo_index, encoder).rank_sentences(SENTENCES))


def test_weight_zero_changes_nothing(demo_index, encoder, second_model):
    plain = _extractor(demo_index, encoder, rerank_candidates=20)
    zero = _extractor(demo_index, encoder, second_opinion=str(second_model),
                      second_opinion_weight=0.0)
    assert zero.rank_sentences(SENTENCES) == plain.rank_sentences(SENTENCES)


def test_label_vectors_are_encoded_once_and_cached_per_model_and_labels(tmp_path,
                                                                          second_model,
                                                                          monkeypatch):
    from skillmap.rerank.second_opinion import SecondOpinion

    labels = ["python", "sql", "nursing"]
    first = SecondOpinion(str(second_model), labels, cache_dir=tmp_path)
    vectors = first.label_vectors()
    assert vectors.shape[0] == 3 and len(list(tmp_path.glob("labels-*.npz"))) == 1

    again = SecondOpinion(str(second_model), labels, cache_dir=tmp_path)

    def refuse(*args, **kwargs):
        raise AssertionError("encoded the labels again instead of reading the cache")

    monkeypatch.setattr(again.model, "encode", refuse)  # the loaded model is shared
    assert np.array_equal(again.label_vectors(), vectors)
    monkeypatch.undo()  # encoding allowed again
    SecondOpinion(str(second_model), labels + ["welding"], cache_dir=tmp_path).label_vectors()
    assert len(list(tmp_path.glob("labels-*.npz"))) == 2  # another label list, another file


def test_labels_are_encoded_as_they_turn_up_and_the_cache_grows(tmp_path, second_model,
                                                                 monkeypatch):
    from skillmap.rerank.second_opinion import SecondOpinion

    labels = ["python", "sql", "nursing", "welding", "accounting"]
    opinion = SecondOpinion(str(second_model), labels, cache_dir=tmp_path)
    asked: list[list[str]] = []
    encode = opinion.model.encode

    def spy(texts, *args, **kwargs):
        asked.append(list(texts))
        return encode(texts, *args, **kwargs)

    monkeypatch.setattr(opinion.model, "encode", spy)
    sentence = ["You write Python."]
    opinion.terms(sentence, [{0: (0.5, 0.0), 2: (0.1, 0.0)}])
    assert asked == [["python", "nursing"], sentence]  # the candidates' labels only
    later = SecondOpinion(str(second_model), labels, cache_dir=tmp_path)
    monkeypatch.setattr(later.model, "encode", spy)
    asked.clear()
    terms = later.terms(sentence, [{0: (0.5, 0.0), 1: (0.2, 0.0)}])
    assert asked == [["sql"], sentence]  # python came from the cache file
    full = SecondOpinion(str(second_model), labels).label_vectors()  # no cache: all at once
    second = np.asarray(encode(sentence, normalize_embeddings=True))[0]
    assert terms[0][0] == pytest.approx(0.3 * (float(full[0] @ second) - 0.5), abs=1e-5)
    assert terms[0][1] == pytest.approx(0.3 * (float(full[1] @ second) - 0.2), abs=1e-5)


def test_a_torn_cache_file_is_encoded_again(tmp_path, second_model):
    from skillmap.rerank.second_opinion import SecondOpinion

    opinion = SecondOpinion(str(second_model), ["python", "sql"], cache_dir=tmp_path)
    good = opinion.label_vectors()
    cached = next(tmp_path.glob("labels-*.npz"))
    cached.write_bytes(cached.read_bytes()[:40])
    fresh = SecondOpinion(str(second_model), ["python", "sql"], cache_dir=tmp_path)
    assert np.allclose(fresh.label_vectors(), good, atol=1e-6)
    with np.load(cached) as stored:  # and the file is whole again
        assert np.allclose(stored["vectors"], good, atol=1e-6) and stored["known"].all()


def test_weights_stored_only_as_pickle_are_refused(tmp_path, second_model):
    import shutil

    import torch
    from safetensors.torch import load_file

    from skillmap.rerank.second_opinion import SecondOpinion

    folder = tmp_path / "pickled"
    shutil.copytree(second_model, folder)
    weights = next(folder.rglob("model.safetensors"))
    torch.save(load_file(str(weights)), weights.with_name("pytorch_model.bin"))
    weights.unlink()
    with pytest.raises(SkillmapError) as error:
        SecondOpinion(str(folder), ["python"], allow_pickle=False)
    assert "pickle" in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize("changes, words", [
    ({"second_opinion_weight": 1.5}, "second-opinion weight"),
    ({"second_opinion_weight": -0.1}, "second-opinion weight")])
def test_bad_weights_are_one_line_errors(changes, words):
    with pytest.raises(SkillmapError) as error:
        ExtractorConfig(**changes)
    assert words in str(error.value) and "\n" not in str(error.value)


def test_a_folder_that_is_no_model_is_a_one_line_error(tmp_path, demo_index, encoder):
    (tmp_path / "notes.txt").write_text("not a model")
    with pytest.raises(SkillmapError) as error:
        _extractor(demo_index, encoder, second_opinion=str(tmp_path))
    assert "second-opinion encoder" in str(error.value) and "\n" not in str(error.value)


def test_extract_takes_a_second_opinion_from_the_command_line(capsys, second_model):
    import io

    import pandas as pd

    from conftest import REPO
    from helpers.cli import run

    options = ("--aggregation", "interleave", "--no-filter", "--format", "csv",
               "--rerank", "none")
    tables = []
    for extra in ((), ("--second-opinion", str(second_model), "--second-opinion-weight", "1")):
        code, out, err = run(capsys, "extract", REPO / "data" / "sample_ad.txt", *options,
                             *extra)
        assert code == 0, err
        tables.append(pd.read_csv(io.StringIO(out)))
    assert len(tables[1]) == 10 and tables[1]["score"].between(0, 1).all()
    assert not tables[0].equals(tables[1])


def test_a_model_shipped_in_pieces_is_named_not_pathed(tmp_path, monkeypatch, second_model):
    from skillmap.encoder import packaged
    from skillmap.rerank.second_opinion import SecondOpinion

    spec = packaged.SplitZipModel(name="fake", model_id="test/fake", aliases=("fake",),
                                  parts=(), folder="x", downloaded=True)
    monkeypatch.setitem(packaged.PACKAGED_MODELS, "fake", spec)
    asked = []
    monkeypatch.setattr(packaged, "materialize",
                        lambda model: asked.append(model) or second_model)
    opinion = SecondOpinion("fake", ["python"], cache_dir=tmp_path)
    assert asked == [spec] and opinion.name == str(second_model)
    assert opinion.label_vectors().shape == (1, 32)


def test_the_second_model_is_loaded_once_per_process(tmp_path, second_model):
    from skillmap.rerank.second_opinion import SecondOpinion

    first = SecondOpinion(str(second_model), ["python"])
    other = SecondOpinion(str(second_model), ["python", "sql"], weight=0.5)
    assert other.model is first.model  # an extractor per app setting shares one model
