"""Token-level matching: the late-interaction scorer, reranking, training and save/load.

The scorer's arithmetic is checked against a small example worked by hand; reranking runs
on a tiny random BERT with skill vectors chosen so that the pooled order and the token-level
order disagree, which is what a reranker is for.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from conftest import make_tiny_model
from skillmap.encoder.late_interaction import (SCORER_FILE, LateInteractionScorer,
                                               encode_tokens)
from skillmap.errors import SkillmapError
from skillmap.rerank import LateInteractionReranker, load_reranker


def hand_score(cosines: list[float], temperature: float) -> float:
    weights = [math.exp(c / temperature) for c in cosines]
    return sum(w * c for w, c in zip(weights, cosines)) / sum(weights)


def test_the_score_is_the_softmax_weighted_mean_of_token_cosines():
    # three real tokens and one padding token that would win if it were not masked
    tokens = torch.tensor([[[2.0, 0.0], [0.0, 3.0], [1.0, 1.0], [50.0, 0.1]]])
    mask = torch.tensor([[1, 1, 1, 0]])
    skills = torch.tensor([[1.0, 0.0], [3.0, -3.0]])
    # cosines with skill 0: 1, 0, 1/sqrt(2); with skill 1: 1/sqrt(2), -1/sqrt(2), 0
    scorer = LateInteractionScorer(temperature=0.5)
    got = scorer(tokens, mask, skills)
    r = 1 / math.sqrt(2)
    expected = [hand_score([1, 0, r], 0.5), hand_score([r, -r, 0], 0.5)]
    assert got.shape == (1, 2)
    assert got[0].tolist() == pytest.approx(expected, rel=1e-6)
    # by hand: (e^2 * 1 + e^0 * 0 + e^1.414 * 0.7071) / (e^2 + e^0 + e^1.414) = 0.8237
    assert expected[0] == pytest.approx(0.8237, abs=1e-4)
    # per-sentence candidates (B, C, d) give the same numbers
    assert scorer(tokens, mask, skills[None])[0].tolist() == pytest.approx(got[0].tolist())


def test_temperature_moves_the_score_from_the_mean_to_the_max_token():
    tokens = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]])
    mask = torch.ones(1, 3)
    skill = torch.tensor([[1.0, 0.0]])
    cosines = [1.0, 0.0, 1 / math.sqrt(2)]
    hot = LateInteractionScorer(temperature=1e4)(tokens, mask, skill).item()
    cold = LateInteractionScorer(temperature=1e-3)(tokens, mask, skill).item()
    assert hot == pytest.approx(sum(cosines) / 3, abs=1e-4)
    assert cold == pytest.approx(max(cosines), abs=1e-4)


def test_the_temperature_is_learned_and_saved(tmp_path):
    scorer = LateInteractionScorer(temperature=0.2)
    assert [name for name, _ in scorer.named_parameters()] == ["log_temperature"]
    with torch.no_grad():
        scorer.log_temperature.fill_(math.log(0.0625))
    scorer.save(tmp_path)
    assert LateInteractionScorer.load(tmp_path).temperature == pytest.approx(0.0625)
    assert json.loads((tmp_path / SCORER_FILE).read_text())["kind"] == "late-interaction"


@pytest.mark.parametrize("content", ["{", '{"format": 1}', '{"format": 9, "temperature": 1}',
                                     '{"format": 1, "temperature": -1}', "[]",
                                     '{"format": 1, "temperature": "nan"}'])
def test_a_bad_scorer_file_is_refused_in_one_line(tmp_path, content):
    (tmp_path / SCORER_FILE).write_text(content)
    with pytest.raises(SkillmapError) as info:
        LateInteractionScorer.load(tmp_path)
    assert "\n" not in str(info.value)


def test_a_model_without_a_scorer_says_how_to_get_one(tmp_path):
    with pytest.raises(SkillmapError, match="--late-interaction"):
        LateInteractionScorer.load(tmp_path)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from sentence_transformers import SentenceTransformer

    folder = make_tiny_model(tmp_path_factory.mktemp("tiny-li"), hidden=32, seed=4)
    return SentenceTransformer(str(folder), device="cpu")


def test_reranking_reorders_what_pooled_vectors_ranked(tiny):
    sentence = "We need welding and forklift driving"
    tokens = encode_tokens(tiny, [sentence])[0].float()
    pooled = tokens.mean(dim=0)  # the tiny model's mean pooling
    unit = lambda v: (v / v.norm()).numpy()  # noqa: E731
    filler = np.random.default_rng(0).normal(size=(3, tokens.shape[1]))
    # skill 3 = the sentence's pooled vector (pooled cosine 1: faiss puts it first);
    # skill 4 = exactly one token's embedding (late interaction with a cold scorer: ~1)
    vectors = np.vstack([filler, unit(pooled), unit(tokens[3])]).astype(np.float32)
    pooled_cosines = vectors @ unit(pooled)
    assert pooled_cosines[3] > pooled_cosines[4]
    reranker = LateInteractionReranker(tiny, LateInteractionScorer(temperature=0.01), vectors)
    scores, positions = reranker.rerank([sentence], np.array([[3, 4, 0, -1]]))
    assert positions[0, :2].tolist() == [4, 3] and positions[0, -1] == -1
    assert scores[0, 0] == pytest.approx(1.0, abs=1e-3) and scores[0, -1] == -np.inf
    assert np.all(np.diff(scores[0, :3]) <= 0)
    # the score of each candidate does not depend on the others, nor on the batch
    alone = reranker.score([sentence], np.array([[0]]))
    batched = reranker.score(["padding sentence that is much much longer than it", sentence],
                             np.array([[1, 2], [0, 4]]))
    assert alone[0, 0] == pytest.approx(batched[1, 0], abs=1e-5)


def test_one_forward_pass_gives_the_faiss_vectors_and_the_tokens(tiny):
    from skillmap.encoder.late_interaction import encode_tokens

    sentences = ["Python and SQL", "You will weld steel frames in our workshop every day.", ""]
    vectors = np.random.default_rng(1).normal(size=(5, 32)).astype(np.float32)
    reranker = LateInteractionReranker(tiny, LateInteractionScorer(temperature=0.05), vectors)
    pooled, tokens = reranker.encode(sentences)
    np.testing.assert_allclose(pooled, tiny.encode(sentences, normalize_embeddings=True),
                               atol=1e-5)
    for got, expected in zip(tokens, encode_tokens(tiny, sentences)):
        torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-4)
    candidates = np.array([[0, 1, 2], [2, 3, 4], [4, 0, -1]])
    np.testing.assert_allclose(reranker.score(sentences, candidates, tokens),
                               reranker.score(sentences, candidates), atol=1e-5)


def test_reranking_needs_the_torch_encoder():
    with pytest.raises(SkillmapError, match="torch encoder"):
        LateInteractionReranker(object(), LateInteractionScorer(), np.zeros((2, 4)))


@pytest.mark.slow
def test_training_with_late_interaction_saves_a_scorer_the_reranker_loads(
        tmp_path, demo_taxonomy):
    from skillmap.cli import main
    from skillmap.encoder import SkillEncoder
    from skillmap.generation import generate_corpus, make_backend

    backbone = make_tiny_model(tmp_path / "tiny", hidden=32, seed=6).parent / "backbone"
    corpus = tmp_path / "corpus.jsonl"
    generate_corpus(demo_taxonomy, make_backend("template"), corpus,
                    modes=["single", "constrained"], per_skill=2)
    out, bundle = tmp_path / "model", tmp_path / "bundle"
    assert main(["train", "encoder", "-c", str(corpus), "--out", str(out), "--backbone",
                 str(backbone), "--pooling", "attention", "--max-steps", "4", "--batch-size",
                 "8", "--eval-every", "2", "--late-interaction", "--bundle", str(bundle)]) == 0
    card = json.loads((out / "skillmap_card.json").read_text())
    assert card["training"]["late_interaction"] is True
    trained = LateInteractionScorer.load(out).temperature
    assert trained != pytest.approx(0.1, abs=1e-6)  # the temperature moved from its start
    assert LateInteractionScorer.load(bundle).temperature == pytest.approx(trained)
    sentences = ["Python and SQL", "drive a forklift safely"]
    candidates = np.array([[0, 1, 2, 3], [3, 2, 1, 0]])
    results = []
    for folder in (out, bundle):
        encoder = SkillEncoder(folder, device="cpu")
        vectors = encoder.encode([f"skill {i}" for i in range(4)])
        results.append(load_reranker(encoder, vectors).score(sentences, candidates))
    np.testing.assert_allclose(results[0], results[1], atol=1e-4)
