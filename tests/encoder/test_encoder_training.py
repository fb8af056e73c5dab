"""The skillmap encoder: pooling modules, contrastive training, save/load round trips.

A tiny randomly initialised BERT (built on the fly, no download) stands in for the backbone;
these tests check code paths and invariants, not quality (benchmarks measure quality).
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch

from conftest import make_tiny_model
from skillmap.encoder import SkillEncoder
from skillmap.encoder.architecture import EncoderConfig, build_encoder
from skillmap.encoder.losses import label_row, multi_positive_mask
from skillmap.encoder.training import (ContrastiveTrainer, Example, TrainingConfig,
                                       load_examples, split_heldout)
from skillmap.errors import SkillmapError
from skillmap.generation import generate_corpus, make_backend

TEXTS = ["We need a nurse who speaks German.", "Python and SQL", "You will drive forklifts "
         "in our warehouse and keep the stock records up to date."]


@pytest.fixture(scope="module")
def backbone(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny-backbone")
    make_tiny_model(folder, hidden=32, seed=1)
    return str(folder / "backbone")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, demo_taxonomy):
    path = tmp_path_factory.mktemp("corpus") / "demo.jsonl"
    generate_corpus(demo_taxonomy, make_backend("template"), path,
                    modes=["single", "constrained", "negatives"], per_skill=2, negatives=20)
    return path


@pytest.mark.parametrize("pooling", ["attention", "bilstm-attention"])
def test_untrained_heads_start_as_mean_pooling(backbone, pooling):
    mean = build_encoder(EncoderConfig(backbone=backbone, pooling="mean"), device="cpu")
    head = build_encoder(EncoderConfig(backbone=backbone, pooling=pooling), device="cpu")
    np.testing.assert_allclose(head.encode(TEXTS), mean.encode(TEXTS), atol=1e-5)


def test_bilstm_attention_ignores_padding(backbone):
    model = build_encoder(EncoderConfig(backbone=backbone), device="cpu")
    torch.manual_seed(0)
    for parameter in list(model[1].parameters()) + list(model[2].parameters()):
        torch.nn.init.normal_(parameter, std=0.3)  # make the head non-trivial
    alone = model.encode(TEXTS[:1])
    padded = model.encode(TEXTS)[:1]  # batched with a longer sentence: padded
    np.testing.assert_allclose(alone, padded, atol=1e-5)
    assert not np.allclose(alone, build_encoder(EncoderConfig(backbone=backbone, pooling="mean"),
                                                device="cpu").encode(TEXTS[:1]), atol=1e-3)


def test_other_gold_skills_are_never_negatives():
    batch = [Example("a", (1, 2)), Example("b", (2,)), Example("c", (3,))]
    candidates = [1, 2, 3, 2, 5, 1]  # positives, then hard negatives
    labels = torch.tensor([label_row((candidates[i], candidates[3 + i]), e.skills, 2)
                           for i, e in enumerate(batch)])
    mask = multi_positive_mask(labels, columns=2)
    assert mask.tolist() == [
        [False, True, False, True, False, True],   # 2 is also gold for "a"; 1 again later
        [False, False, False, True, False, False],  # its own skill repeated as a negative
        [False, False, False, False, False, False],
    ]


def test_examples_come_from_every_corpus_given_gzipped_or_not(corpus, demo_taxonomy, tmp_path):
    """Training on template + LLM-written sentences: the corpora's examples, in order."""
    import gzip

    lines = corpus.read_text(encoding="utf-8").splitlines(keepends=True)
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl.gz"
    first.write_text("".join(lines[:40]), encoding="utf-8")
    second.write_bytes(gzip.compress("".join(lines[40:]).encode()))
    both = load_examples([first, second], demo_taxonomy)
    assert both == load_examples(corpus, demo_taxonomy)
    assert load_examples([first], demo_taxonomy) == both[:len(load_examples(first, demo_taxonomy))]


class _RowsSeen(Exception):
    """Raised by the spy below: the rows are all the test needs, not the training."""


def training_rows(trainer, examples, monkeypatch) -> list[str]:
    """The anchor sentences ``fit`` hands the library trainer, in order."""
    def spy(output_dir, train=None, *args, **kwargs):
        raise _RowsSeen(list(train["anchor"]))

    monkeypatch.setattr(trainer, "_trainer", spy)
    with pytest.raises(_RowsSeen) as seen:
        trainer.fit(examples, progress=False)
    return seen.value.args[0]


def test_a_run_shorter_than_one_pass_draws_from_every_corpus(backbone, demo_taxonomy,
                                                             monkeypatch):
    """Corpora come in file order (template before LLM-written, one mode after another): a
    run of 5 batches of 8 out of ~120 sentences must not train on the first 40 alone."""
    n = len(demo_taxonomy.skills)
    examples = ([Example(f"template sentence {i}", (i % n,)) for i in range(60)]
                + [Example(f"llm sentence {i}", (i % n,)) for i in range(60)])
    config = TrainingConfig(max_steps=5, batch_size=8, heldout_fraction=0.0)
    trainer = ContrastiveTrainer(demo_taxonomy, EncoderConfig(backbone=backbone), config,
                                 device="cpu")
    rows = training_rows(trainer, examples, monkeypatch)
    assert len(rows) == 40 and len(set(rows)) == 40  # one pass: no sentence twice
    assert sum(row.startswith("llm") for row in rows) >= 10
    assert training_rows(trainer, examples, monkeypatch) == rows  # seeded: a resume sees them


def test_heldout_split_is_stable_and_disjoint():
    examples = [Example(f"sentence {i}", (i,)) for i in range(500)]
    train, held = split_heldout(examples, 0.1)
    again, held_again = split_heldout(list(reversed(examples)), 0.1)
    assert {e.text for e in held} == {e.text for e in held_again}
    assert not {e.text for e in train} & {e.text for e in held}
    assert 20 < len(held) < 90


@pytest.mark.slow
def test_training_lowers_the_heldout_loss_and_round_trips(backbone, corpus, demo_taxonomy,
                                                          tmp_path):
    config = TrainingConfig(max_steps=24, batch_size=16, eval_every=8, heldout_fraction=0.15,
                            head_learning_rate=5e-3, seed=3)
    trainer = ContrastiveTrainer(demo_taxonomy, EncoderConfig(backbone=backbone), config,
                                 device="cpu")
    examples = load_examples(corpus, demo_taxonomy)
    assert all(e.skills for e in examples)  # negatives are not encoder examples
    _, heldout = split_heldout(examples, config.heldout_fraction)
    before = trainer.heldout_loss(heldout)
    result = trainer.fit(examples, checkpoint_dir=tmp_path / "ckpt", progress=False)
    assert result.best_heldout_loss < before - 0.05
    out = trainer.save(tmp_path / "model", result, {"corpus": str(corpus)})
    files = {p.name for p in out.rglob("*") if p.is_file()}
    assert "model.safetensors" in files and "skillmap_card.json" in files
    assert not any(name.endswith((".bin", ".pt", ".pkl")) for name in files)

    from sentence_transformers import SentenceTransformer

    plain = SentenceTransformer(str(out), device="cpu", trust_remote_code=True)
    ours = SkillEncoder(out, device="cpu")
    expected = trainer.model.encode(TEXTS, normalize_embeddings=True)
    np.testing.assert_allclose(plain.encode(TEXTS), expected, atol=1e-5)
    np.testing.assert_allclose(ours.encode(TEXTS), expected, atol=1e-5)


@pytest.mark.slow
def test_training_resumes_from_its_checkpoint(backbone, corpus, demo_taxonomy, tmp_path):
    examples = load_examples(corpus, demo_taxonomy)
    first = ContrastiveTrainer(demo_taxonomy, EncoderConfig(backbone=backbone, pooling="attention"),
                               TrainingConfig(max_steps=6, batch_size=8, eval_every=3),
                               device="cpu")
    first.fit(examples, checkpoint_dir=tmp_path, progress=False)
    second = ContrastiveTrainer(demo_taxonomy, EncoderConfig(backbone=backbone, pooling="attention"),
                                TrainingConfig(max_steps=9, batch_size=8, eval_every=3),
                                device="cpu")
    result = second.fit(examples, checkpoint_dir=tmp_path, progress=False)
    assert result.steps == 9
    assert [h["step"] for h in result.history] == [3, 6, 9]  # steps 1-6 were not redone


def test_a_checkpoint_of_another_run_is_refused_not_resumed(backbone, corpus, demo_taxonomy,
                                                            tmp_path):
    """Resuming it would finish the old run and hand back its weights as the new run's."""
    from skillmap.encoder.training import RUN_FILE

    examples = load_examples(corpus, demo_taxonomy)

    def trainer(seed: int) -> ContrastiveTrainer:
        return ContrastiveTrainer(demo_taxonomy, EncoderConfig(backbone=backbone),
                                  TrainingConfig(max_steps=4, batch_size=8, eval_every=2,
                                                 seed=seed), device="cpu")

    trainer(0).fit(examples, checkpoint_dir=tmp_path, progress=False)
    left = sorted(p.name for p in tmp_path.iterdir())
    for other, changed in [(trainer(1), "other settings"), (trainer(0), "other corpus")]:
        with pytest.raises(SkillmapError, match=changed) as error:
            other.fit(examples if changed == "other settings" else examples[:-5],
                      checkpoint_dir=tmp_path, progress=False)
        assert "\n" not in str(error.value)
    (tmp_path / RUN_FILE).unlink()
    with pytest.raises(SkillmapError, match="record is missing"):
        trainer(0).fit(examples, checkpoint_dir=tmp_path, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(set(left) - {RUN_FILE})


def test_a_second_run_on_the_same_checkpoints_is_refused_at_once(backbone, corpus,
                                                                 demo_taxonomy, tmp_path):
    from skillmap.io import open_directory, try_lock

    tmp_path.joinpath("ckpt").mkdir()
    held = open_directory(tmp_path / "ckpt")  # the first run's lock
    assert try_lock(held)
    trainer = ContrastiveTrainer(demo_taxonomy, EncoderConfig(backbone=backbone),
                                 TrainingConfig(max_steps=2, batch_size=8), device="cpu")
    try:
        with pytest.raises(SkillmapError, match="another training run"):
            trainer.fit(load_examples(corpus, demo_taxonomy), checkpoint_dir=tmp_path / "ckpt",
                        progress=False)
    finally:
        os.close(held)
    assert list((tmp_path / "ckpt").iterdir()) == []  # nothing written beside the first run


def test_untrusted_module_classes_are_refused(tmp_path):
    (tmp_path / "modules.json").write_text('[{"idx": 0, "name": "0", "path": "", '
                                           '"type": "evil.module.Backdoor"}]')
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(SkillmapError, match="refusing to import"):
        SkillEncoder(tmp_path)


def test_mean_pooling_with_a_frozen_backbone_has_nothing_to_train(backbone, demo_taxonomy):
    trainer = ContrastiveTrainer(demo_taxonomy, EncoderConfig(backbone=backbone, pooling="mean"),
                                 TrainingConfig(), device="cpu")
    with pytest.raises(SkillmapError, match="nothing to train"):
        trainer._optimizer()


@pytest.mark.parametrize("mode", ["frozen", "lora"])
@pytest.mark.slow
def test_a_bundle_rebuilds_the_trained_model_from_the_backbone(backbone, corpus, demo_taxonomy,
                                                                tmp_path, mode):
    if mode == "lora":
        pytest.importorskip("peft")
    config = TrainingConfig(max_steps=4, batch_size=8, eval_every=4, backbone_mode=mode,
                            learning_rate=1e-2)
    trainer = ContrastiveTrainer(demo_taxonomy, EncoderConfig(backbone=backbone), config,
                                 device="cpu")
    result = trainer.fit(load_examples(corpus, demo_taxonomy), progress=False)
    expected = trainer.model.encode(TEXTS, normalize_embeddings=True)
    trainer.save(tmp_path / "full", result, {}, bundle=tmp_path / "bundle")
    sizes = sum(p.stat().st_size for p in (tmp_path / "bundle").rglob("*") if p.is_file())
    full = sum(p.stat().st_size for p in (tmp_path / "full").rglob("*") if p.is_file())
    assert sizes < full / 2  # the backbone is not in the bundle
    assert (tmp_path / "bundle" / "adapter").is_dir() == (mode == "lora")
    if mode == "lora":  # portable: names the backbone, not where this machine keeps it
        adapter = json.loads((tmp_path / "bundle" / "adapter" / "adapter_config.json").read_text())
        assert adapter["base_model_name_or_path"] == backbone
        assert not (tmp_path / "bundle" / "adapter" / "README.md").exists()
    np.testing.assert_allclose(SkillEncoder(tmp_path / "bundle", device="cpu").encode(TEXTS),
                               expected, atol=1e-4)
    np.testing.assert_allclose(SkillEncoder(tmp_path / "full", device="cpu").encode(TEXTS),
                               expected, atol=1e-4)


def test_cli_trains_saves_a_card_and_builds_an_index_with_the_model(backbone, corpus, tmp_path):
    import json

    from skillmap.cli import main

    out = tmp_path / "model"
    code = main(["train", "encoder", "-c", str(corpus), "--out", str(out), "--backbone",
                 backbone, "--pooling", "attention", "--max-steps", "3", "--batch-size", "8",
                 "--eval-every", "3", "--bundle", str(tmp_path / "bundle"),
                 "--mined-negatives", "3", "--mining-margin", "0.3"])
    assert code == 0
    card = json.loads((out / "skillmap_card.json").read_text())
    assert card["encoder"]["pooling"] == "attention" and card["steps"] == 3
    assert card["training"]["mined_negatives"] == 3 and card["training"]["mining_margin"] == 0.3
    assert card["training"]["backbone_mode"] == "frozen" and card["examples"] > 100
    assert (tmp_path / "bundle" / "bundle.json").is_file()
    assert not (tmp_path / "model.checkpoint").exists()  # a finished run's are removed
    assert main(["index", "build", "--model", str(tmp_path / "bundle"), "--out",
                 str(tmp_path / "index")]) == 0
    metadata = json.loads((tmp_path / "index" / "metadata.json").read_text())
    assert metadata["model_id"].endswith("bundle") and metadata["n_skills"] == 189


@pytest.fixture(scope="module")
def lora_bundle(backbone, corpus, demo_taxonomy, tmp_path_factory):
    pytest.importorskip("peft")
    folder = tmp_path_factory.mktemp("lora-bundle")
    config = TrainingConfig(max_steps=4, batch_size=8, eval_every=4, backbone_mode="lora",
                            learning_rate=1e-2)
    trainer = ContrastiveTrainer(demo_taxonomy, EncoderConfig(backbone=backbone,
                                                              pooling="attention"),
                                 config, device="cpu")
    result = trainer.fit(load_examples(corpus, demo_taxonomy), progress=False)
    trainer.save(folder / "full", result, {}, bundle=folder / "bundle")
    return folder / "bundle"


def test_training_continues_from_a_bundle_and_saves_an_adapter_over_the_plain_backbone(
        backbone, corpus, demo_taxonomy, lora_bundle, tmp_path):
    before = SkillEncoder(lora_bundle, device="cpu").encode(TEXTS)
    config = TrainingConfig(max_steps=3, batch_size=8, eval_every=3, backbone_mode="lora",
                            learning_rate=1e-2, init_from=str(lora_bundle), seed=3)
    trainer = ContrastiveTrainer(demo_taxonomy, EncoderConfig(backbone=backbone,
                                                              pooling="attention"),
                                 config, device="cpu")
    np.testing.assert_allclose(trainer.model.encode(TEXTS, normalize_embeddings=True), before,
                               atol=1e-5)  # it starts where the bundle ended
    trainable = [p for p in trainer.model[0].parameters() if p.requires_grad]
    assert trainable and len(trainable) < len(list(trainer.model[0].parameters()))  # LoRA only
    result = trainer.fit(load_examples(corpus, demo_taxonomy), progress=False)
    after = trainer.model.encode(TEXTS, normalize_embeddings=True)
    assert np.abs(after - before).max() > 1e-3  # and it trained on
    trainer.save(tmp_path / "full", result, {}, bundle=tmp_path / "bundle")
    np.testing.assert_allclose(SkillEncoder(tmp_path / "bundle", device="cpu").encode(TEXTS),
                               after, atol=1e-4)
    card = json.loads((tmp_path / "full" / "skillmap_card.json").read_text())
    assert card["training"]["init_from"] == str(lora_bundle)


@pytest.mark.parametrize("change, message", [
    ({"pooling": "bilstm-attention"}, "not the one being trained"),
    ({"backbone_mode": "frozen"}, "needs --backbone-mode lora"),
    ({"other_backbone": True}, "was trained on backbone"),
])
def test_continuing_a_bundle_with_another_architecture_is_refused_in_one_line(
        backbone, demo_taxonomy, lora_bundle, tmp_path, change, message):
    other = backbone
    if change.get("other_backbone"):
        other = str(make_tiny_model(tmp_path, hidden=32, seed=2).parent / "backbone")
    config = TrainingConfig(backbone_mode=change.get("backbone_mode", "lora"),
                            init_from=str(lora_bundle))
    with pytest.raises(SkillmapError, match=message) as info:
        ContrastiveTrainer(demo_taxonomy, EncoderConfig(
            backbone=other, pooling=change.get("pooling", "attention")), config, device="cpu")
    assert "\n" not in str(info.value)


def test_mined_negatives_are_the_encoders_own_near_misses_never_gold(backbone, corpus,
                                                                     demo_taxonomy):
    """Each row's negative is one of the K skills the untrained encoder ranks highest for its
    sentence, not gold and under the gold skill's score by the margin; a sentence with none
    left falls back to its positive's Level-2 group."""
    k = 3
    examples = load_examples(corpus, demo_taxonomy)[:40]
    config = TrainingConfig(mined_negatives=k, mining_margin=0.05)
    trainer = ContrastiveTrainer(demo_taxonomy, EncoderConfig(backbone=backbone), config,
                                 device="cpu")
    skills = trainer.model.encode(trainer.skill_texts, normalize_embeddings=True)
    sentences = trainer.model.encode([e.text for e in examples], normalize_embeddings=True)
    rows = trainer.dataset(examples, seed=0)
    position = {text: i for i, text in enumerate(trainer.skill_texts)}
    mined_rows = 0
    for example, sentence, negative in zip(examples, sentences, rows["negative"]):
        scores = skills @ sentence
        best_gold = scores[list(example.skills)].max()
        near_misses = [int(i) for i in np.argsort(-scores) if i not in example.skills
                       and scores[i] <= 0.95 * best_gold][:k]
        assert position[negative] not in example.skills
        if near_misses:
            assert position[negative] in near_misses
            mined_rows += 1
        else:
            group = trainer.group_members.get(position[negative], [])
            assert any(gold in group for gold in example.skills)
    assert mined_rows >= len(examples) // 2
    # the group draw is what a run without mining sees
    plain = ContrastiveTrainer(demo_taxonomy, EncoderConfig(backbone=backbone),
                               TrainingConfig(), device="cpu").dataset(examples, seed=0)
    assert plain["negative"] != rows["negative"]
