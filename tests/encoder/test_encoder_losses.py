"""The encoder's contrastive losses (skillmap.encoder.losses) on a tiny random BERT.

The gradient-cached loss must be the plain loss computed another way: the same value and the
same parameter gradients, whatever the mini-batch size, and with dropout on too (its second
forward pass replays the first one's random state).
"""

from __future__ import annotations

import json

import pytest
import torch

from conftest import make_tiny_model
from skillmap.encoder.architecture import EncoderConfig, build_encoder
from skillmap.encoder.losses import (LOSSES, CachedMultiPositiveRankingLoss,
                                     MultiPositiveRankingLoss, label_row)

SENTENCES = ["Python and SQL", "You will drive forklifts.", "Nurse who speaks German",
             "Keep the stock records", "Java, React and web services", "Bake bread daily",
             "Weld steel frames", "Teach children to swim"]
SKILLS = ["Python", "drive forklifts", "speak German", "stock control", "Java", "baking",
          "welding", "teach swimming", "SQL", "forklift safety", "German grammar", "logistics",
          "JavaScript", "pastry", "metalwork", "first aid"]
# the first sentence also asks for SQL (skill 8): it must never be its negative
GOLD = [(0, 8), (1,), (2,), (3,), (4,), (5,), (6,), (7,)]


@pytest.fixture(scope="module")
def backbone(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny-loss")
    make_tiny_model(folder, hidden=32, seed=2)
    return str(folder / "backbone")


def batch(model):
    features = [model.preprocess(SENTENCES), model.preprocess(SKILLS[:8]),
                model.preprocess(SKILLS[8:])]
    labels = torch.tensor([label_row((i, 8 + i), gold, 2) for i, gold in enumerate(GOLD)])
    return features, labels


def loss_and_gradients(model, loss, seed=0):
    features, labels = batch(model)
    model.zero_grad(set_to_none=True)
    torch.manual_seed(seed)
    value = loss(features, labels)
    value.backward()
    gradients = {name: p.grad.clone() for name, p in model.named_parameters()
                 if p.grad is not None}
    return value.item(), gradients


@pytest.mark.parametrize("mini_batch_size", [1, 3, 8])
def test_the_cached_loss_is_the_plain_loss(backbone, mini_batch_size):
    model = build_encoder(EncoderConfig(backbone=backbone, pooling="attention"), device="cpu")
    model.eval()  # no dropout: the mini-batches see exactly the full batch's computation
    torch.nn.init.normal_(model[1].score.weight, std=0.5)  # a non-trivial pooling head
    plain, plain_gradients = loss_and_gradients(model, MultiPositiveRankingLoss(model))
    cached, cached_gradients = loss_and_gradients(
        model, CachedMultiPositiveRankingLoss(model, mini_batch_size=mini_batch_size))
    assert cached == pytest.approx(plain, rel=1e-5)
    assert plain_gradients.keys() == cached_gradients.keys() and len(plain_gradients) > 10
    for name, gradient in plain_gradients.items():
        torch.testing.assert_close(cached_gradients[name], gradient, rtol=1e-4, atol=1e-6)


def test_the_cached_loss_replays_dropout(backbone):
    """In training mode every forward pass draws dropout masks: the cached loss's second
    pass must draw the first one's, or its gradients belong to other embeddings."""
    model = build_encoder(EncoderConfig(backbone=backbone, pooling="mean"), device="cpu")
    model.train()
    plain, plain_gradients = loss_and_gradients(model, MultiPositiveRankingLoss(model), seed=7)
    cached, cached_gradients = loss_and_gradients(
        model, CachedMultiPositiveRankingLoss(model, mini_batch_size=8), seed=7)
    other, _ = loss_and_gradients(model, MultiPositiveRankingLoss(model), seed=8)
    assert other != pytest.approx(plain, rel=1e-4)  # dropout is really on
    assert cached == pytest.approx(plain, rel=1e-5)
    for name, gradient in plain_gradients.items():
        torch.testing.assert_close(cached_gradients[name], gradient, rtol=1e-4, atol=1e-6)


def test_another_gold_skill_in_the_batch_does_not_push_the_sentence_away(backbone):
    model = build_encoder(EncoderConfig(backbone=backbone, pooling="mean"), device="cpu")
    model.eval()
    features, labels = batch(model)
    loss = MultiPositiveRankingLoss(model)
    with torch.no_grad():
        masked = loss(features, labels).item()
        unmasked_labels = labels.clone()
        unmasked_labels[0, 3] = -1  # forget that skill 8 (SQL) is gold for sentence 0
        unmasked = loss(features, unmasked_labels).item()
    assert masked < unmasked  # with SQL counted as a negative the loss is higher


def test_the_cli_offers_exactly_the_registered_losses():
    from skillmap.commands.train import Loss

    assert [choice.value for choice in Loss] == list(LOSSES)


@pytest.mark.slow
def test_cli_trains_with_the_cached_loss(backbone, tmp_path, demo_taxonomy):
    from skillmap.cli import main
    from skillmap.generation import generate_corpus, make_backend

    corpus = tmp_path / "corpus.jsonl"
    generate_corpus(demo_taxonomy, make_backend("template"), corpus, modes=["single"],
                    per_skill=2)
    out = tmp_path / "model"
    assert main(["train", "encoder", "-c", str(corpus), "--out", str(out), "--backbone",
                 backbone, "--pooling", "attention", "--max-steps", "2", "--batch-size", "16",
                 "--loss", "cached-multi-positive", "--mini-batch-size", "4",
                 "--eval-every", "2"]) == 0
    card = json.loads((out / "skillmap_card.json").read_text())
    assert card["training"]["loss"] == "cached-multi-positive"
    assert card["training"]["mini_batch_size"] == 4 and card["steps"] == 2
    assert (out / "modules.json").is_file()
