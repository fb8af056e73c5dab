"""The skill-sentence filter: training, calibration, save/load, and its place in the pipeline.

A tiny randomly initialised RoBERTa (its byte-level BPE tokenizer trained on the fly) stands
in for the classifier backbone: these tests check code paths and invariants, not quality.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from conftest import SHARED
from skillmap.cli import main
from skillmap.errors import SkillmapError
from skillmap.filter import (EmbeddingLogisticFilter, KeywordLengthFilter, SentenceFilter,
                             TransformerFilter, calibrate, load_filter, resolve_filter)
from skillmap.filter.calibration import classification_report
from skillmap.filter.data import load_filter_data, load_labelled_sentences
from skillmap.filter.training import FilterTrainingConfig, train_filter
from skillmap.generation import generate_corpus, make_backend
from skillmap.pipeline import Extractor

SKILLSPAN = SHARED / "benchmarks" / "skillspan" / "dev.json"
PROBES = ["Solid knowledge of SQL is required.", "We offer 30 days of paid holiday.",
          "Job type: permanent", "You will manage the warehouse stock and drive forklifts."]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, demo_taxonomy):
    path = tmp_path_factory.mktemp("filter-corpus") / "demo.jsonl"
    generate_corpus(demo_taxonomy, make_backend("template"), path,
                    modes=["single", "constrained", "negatives"], per_skill=3, negatives=300)
    return path


@pytest.fixture(scope="module")
def data(corpus):
    return load_filter_data([corpus], heldout_fraction=0.2, seed=0)


@pytest.fixture(scope="module")
def tiny_roberta(tmp_path_factory, corpus):
    """A 1-layer RoBERTa with a byte-level BPE tokenizer trained on the corpus."""
    import torch
    from tokenizers import ByteLevelBPETokenizer
    from tokenizers.processors import RobertaProcessing
    from transformers import RobertaConfig, RobertaModel, RobertaTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-roberta")
    texts = [json.loads(line)["text"] for line in corpus.read_text().splitlines()]
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(texts, vocab_size=600, min_frequency=1,
                            special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
    bpe.post_processor = RobertaProcessing(("</s>", bpe.token_to_id("</s>")),
                                           ("<s>", bpe.token_to_id("<s>")))
    bpe.save(str(folder / "tokenizer.json"))
    tokenizer = RobertaTokenizerFast(tokenizer_file=str(folder / "tokenizer.json"))
    assert len(tokenizer("drive forklifts")["input_ids"]) > 2
    tokenizer.save_pretrained(folder)
    torch.manual_seed(0)
    config = RobertaConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=1,
                           num_attention_heads=2, intermediate_size=64,
                           max_position_embeddings=80, pad_token_id=tokenizer.pad_token_id,
                           bos_token_id=tokenizer.bos_token_id,
                           eos_token_id=tokenizer.eos_token_id)
    RobertaModel(config).save_pretrained(folder)
    return str(folder)


# --------------------------------------------------------------------------- data
def test_filter_data_is_balanced_labelled_and_split_by_hash(corpus):
    data = load_filter_data([corpus], heldout_fraction=0.2, positive_ratio=1.0, seed=0)
    labels = data.train_labels + data.heldout_labels
    assert sum(labels) == data.counts["positives_used"] == data.counts["negatives"]
    assert set(data.train_texts).isdisjoint(data.heldout_texts)
    again = load_filter_data([corpus], heldout_fraction=0.2, positive_ratio=1.0, seed=0)
    assert again.heldout_texts == data.heldout_texts  # seeded and stable
    negatives = {json.loads(line)["text"] for line in corpus.read_text().splitlines()
                 if json.loads(line)["mode"] == "negatives"}
    for text, label in zip(data.train_texts, data.train_labels):
        assert (label == 0) == (text in negatives)


def test_label_fragments_are_positives_named_from_the_taxonomy(corpus, demo_taxonomy):
    from skillmap.filter.data import title_case

    assert title_case("financial services, SQL") == "Financial Services, SQL"
    data = load_filter_data([corpus], positive_ratio=1.0, taxonomy=demo_taxonomy,
                            fragment_share=0.3, seed=0)
    names = {n.lower() for s in demo_taxonomy.skills for n in (s.label, *s.alt_labels)}
    texts = dict(zip(data.train_texts + data.heldout_texts, data.train_labels + data.heldout_labels))
    fragments = [t for t in texts if t.lower().lstrip("- ") in names]
    assert data.counts["fragments"] > 0 and len(fragments) > 0
    assert all(texts[t] == 1 for t in fragments)
    # written the ways ads write them: as in the taxonomy, lower case and Title Case
    assert any(t == t.lower() for t in fragments)
    assert any(t.lstrip("- ") == title_case(t.lstrip("- ")) != t.lower().lstrip("- ")
               for t in fragments)
    assert sum(texts.values()) == data.counts["positives_used"]  # the balance is kept
    with pytest.raises(SkillmapError, match="--taxonomy"):
        load_filter_data([corpus], fragment_share=0.3)


def test_mixed_positives_glue_a_skill_sentence_to_training_side_context(corpus, demo_taxonomy):
    from skillmap.corpus import in_heldout

    records = [json.loads(line) for line in corpus.read_text().splitlines()]
    negatives = {r["text"] for r in records if r["mode"] == "negatives"}
    skill_sentences = {r["text"].rstrip(". ") for r in records if r["mode"] != "negatives"}
    data = load_filter_data([corpus], taxonomy=demo_taxonomy, fragment_share=0.2,
                            mixed_share=0.3, seed=0)
    texts = dict(zip(data.train_texts + data.heldout_texts, data.train_labels + data.heldout_labels))
    originals = {r["text"] for r in records}
    mixed = [t for t in texts if t not in originals and any(n[1:] in t for n in negatives)]
    assert data.counts["mixed"] > 0 and len(mixed) == data.counts["mixed"]
    assert all(texts[t] == 1 for t in mixed)  # the skill decides, not the context
    assert all(any(s in t for s in skill_sentences) for t in mixed)
    for text in mixed:  # a held-out negative never leaks into training through a mixture
        inside = [n for n in negatives if n[1:] in text]
        assert any(not in_heldout(n, 0.1) for n in inside)
    assert sum(texts.values()) == data.counts["positives_used"]
    with pytest.raises(SkillmapError, match="mixed share"):
        load_filter_data([corpus], taxonomy=demo_taxonomy, fragment_share=0.5, mixed_share=0.6)


def test_a_corpus_without_negatives_is_refused(tmp_path, demo_taxonomy):
    path = tmp_path / "positives.jsonl"
    generate_corpus(demo_taxonomy, make_backend("template"), path, modes=["single"], per_skill=1)
    with pytest.raises(SkillmapError, match="no negatives"):
        load_filter_data([path])


# --------------------------------------------------------------------------- calibration
def test_calibration_meets_each_kind_of_target():
    rng = np.random.default_rng(0)
    labels = np.r_[np.ones(200, int), np.zeros(200, int)]
    scores = np.r_[rng.normal(0.7, 0.15, 200), rng.normal(0.4, 0.15, 200)]
    best = calibrate(scores, labels, "f1")
    grid = [classification_report(scores, labels, t)["f1"] for t in np.linspace(0, 1, 101)]
    assert best.f1 >= max(grid) - 1e-9
    precise = calibrate(scores, labels, "precision:0.95")
    assert classification_report(scores, labels, precise.threshold)["precision"] >= 0.95
    assert precise.threshold > best.threshold
    recalling = calibrate(scores, labels, "recall:0.99")
    assert classification_report(scores, labels, recalling.threshold)["recall"] >= 0.99
    assert recalling.threshold < best.threshold
    with pytest.raises(SkillmapError, match="calibration target"):
        calibrate(scores, labels, "accuracy")
    with pytest.raises(SkillmapError, match="both classes"):
        calibrate(scores[:10], labels[:10])


# --------------------------------------------------------------------------- classifier
@pytest.mark.parametrize("mode", ["full", "lora"])
@pytest.mark.slow
def test_tiny_roberta_trains_saves_and_reloads_identically(tmp_path, tiny_roberta, data, mode):
    untrained = TransformerFilter.build(tiny_roberta, mode, seed=0)
    before = untrained.predict_proba(PROBES)
    config = FilterTrainingConfig(backbone=tiny_roberta, backbone_mode=mode, max_steps=30,
                                  eval_every=10, batch_size=16, learning_rate=3e-3,
                                  target="recall:0.9")
    trained = train_filter(data, config, tmp_path / "filter")
    assert type(trained.model).__name__.startswith("Roberta") or mode == "lora"
    history = trained.card["heldout"]
    assert trained.card["calibration"]["target"] == "recall:0.9"
    assert history["recall"] >= 0.9
    assert not np.allclose(trained.predict_proba(PROBES), before, atol=1e-4)

    reloaded = load_filter(tmp_path / "filter")
    assert isinstance(reloaded, TransformerFilter)
    assert reloaded.threshold == pytest.approx(trained.threshold)
    np.testing.assert_allclose(reloaded.predict_proba(PROBES), trained.predict_proba(PROBES),
                               atol=1e-5)
    stored = json.loads((tmp_path / "filter" / "filter.json").read_text())
    assert stored["backbone_mode"] == mode and stored["card"]["training"]["max_steps"] == 30
    weights = {p.name for p in (tmp_path / "filter").rglob("*.safetensors")}
    assert weights and not list((tmp_path / "filter").rglob("*.bin"))  # no pickles
    assert not (tmp_path / "filter.checkpoint").exists()  # removed once saved


@pytest.mark.slow
def test_transformer_training_learns_the_task(tmp_path, tiny_roberta, data):
    config = FilterTrainingConfig(backbone=tiny_roberta, backbone_mode="full", epochs=3,
                                  eval_every=20, batch_size=16, learning_rate=3e-3)
    trained = train_filter(data, config, tmp_path / "filter")
    assert trained.card["heldout"]["roc_auc"] > 0.9  # template data is easy to separate


def test_interrupted_training_refuses_to_clobber_its_checkpoints(tmp_path, tiny_roberta, data):
    (tmp_path / "filter.checkpoint" / "checkpoint-10").mkdir(parents=True)
    config = FilterTrainingConfig(backbone=tiny_roberta, backbone_mode="full", max_steps=2)
    with pytest.raises(SkillmapError, match="--resume"):
        train_filter(data, config, tmp_path / "filter")


@pytest.mark.parametrize("resume", [False, True])
def test_a_second_run_on_the_same_checkpoints_is_refused_at_once(tmp_path, tiny_roberta, data,
                                                                 resume):
    """Two `train filter --kind transformer -o F` at once wrote into one F.checkpoint (and the
    first to finish deleted it under the other); with --resume even a started run's
    checkpoints were taken over. Now the folder is locked for the whole run."""
    from skillmap.io import open_directory, try_lock

    folder = tmp_path / "filter.checkpoint"
    (folder / "checkpoint-10").mkdir(parents=True)
    held = open_directory(folder)  # the first run's lock
    assert try_lock(held)
    config = FilterTrainingConfig(backbone=tiny_roberta, backbone_mode="full", max_steps=2)
    try:
        with pytest.raises(SkillmapError, match="another `skillmap train filter`") as error:
            train_filter(data, config, tmp_path / "filter", resume=resume)
    finally:
        os.close(held)
    assert "\n" not in str(error.value)
    assert [p.name for p in folder.iterdir()] == ["checkpoint-10"]  # left as it was
    assert not (tmp_path / "filter").exists()


def test_a_run_that_fails_before_training_leaves_no_checkpoint_folder(tmp_path, data):
    config = FilterTrainingConfig(backbone=str(tmp_path / "no-such-backbone"),
                                  backbone_mode="full", max_steps=2)
    with pytest.raises(SkillmapError):
        train_filter(data, config, tmp_path / "filter")
    assert not (tmp_path / "filter.checkpoint").exists()


# --------------------------------------------------------------------------- cheap filters
@pytest.mark.slow
def test_logistic_filter_on_frozen_embeddings_round_trips(tmp_path, data, encoder):
    model = EmbeddingLogisticFilter(encoder.model_id).fit(data.train_texts, data.train_labels)
    scores = model.predict_proba(data.heldout_texts)
    assert classification_report(scores, data.heldout_labels, 0.5)["roc_auc"] > 0.9
    model.save(tmp_path / "lr")
    again = load_filter(tmp_path / "lr")
    np.testing.assert_allclose(again.predict_proba(PROBES), model.predict_proba(PROBES),
                               atol=1e-6)
    vectors = encoder.encode(PROBES)  # what the pipeline passes: same scores, no re-encoding
    np.testing.assert_allclose(again.predict_proba(PROBES, embeddings=vectors),
                               model.predict_proba(PROBES), atol=1e-6)


def test_keyword_heuristic_keeps_requirements_and_drops_boilerplate():
    scores, keep = KeywordLengthFilter().keep(PROBES)
    assert keep.tolist() == [True, False, False, True]
    assert load_filter_roundtrip(KeywordLengthFilter(threshold=0.7)).threshold == 0.7


def load_filter_roundtrip(model: SentenceFilter) -> SentenceFilter:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        model.save(Path(folder) / "f")
        return load_filter(Path(folder) / "f")


def test_foreign_folders_are_refused_in_one_line(tmp_path):
    with pytest.raises(SkillmapError, match="not a skillmap filter folder"):
        load_filter(tmp_path)
    (tmp_path / "filter.json").write_text('{"kind": "magic"}')
    with pytest.raises(SkillmapError, match="unknown filter kind"):
        load_filter(tmp_path)
    assert resolve_filter("none") is None and resolve_filter(None) is None


# --------------------------------------------------------------------------- pipeline
class WordFilter(SentenceFilter):
    """Test double: keeps sentences containing a given word (score 0.9), else 0.1."""

    kind = "word"

    def __init__(self, word: str):
        super().__init__(0.5, {"name": f"word:{word}"})
        self.word = word

    def predict_proba(self, sentences, embeddings=None, contexts=None):
        return np.array([0.9 if self.word in s.lower() else 0.1 for s in sentences], np.float32)

    def _save_weights(self, folder):
        return {}

    @classmethod
    def _from_folder(cls, folder, manifest):
        raise NotImplementedError


AD = ("Warehouse operative wanted.\n"
      "You will drive forklifts and keep stock records.\n"
      "We offer 30 days of paid holiday and free parking.\n"
      "You must be able to drive a forklift safely.\n")


def test_pipeline_marks_and_skips_filtered_sentences(demo_index, encoder, monkeypatch):
    seen: list[str] = []
    original = encoder.encode

    def spy(texts, *args, **kwargs):
        seen.extend(texts)
        return original(texts, *args, **kwargs)

    extractor = Extractor(index=demo_index, encoder=encoder, sentence_filter=WordFilter("drive"))
    monkeypatch.setattr(encoder, "encode", spy)
    result = extractor.extract(AD)
    monkeypatch.undo()
    by_text = {s.text: s for s in result.sentences}
    holiday = next(s for t, s in by_text.items() if "holiday" in t)
    assert holiday.filtered and holiday.matches == [] and holiday.filter_score == pytest.approx(0.1)
    driving = [s for t, s in by_text.items() if "drive" in t]
    assert driving and all(not s.filtered and s.matches for s in driving)
    assert all("drive" in text for text in seen)  # filtered sentences were never encoded
    assert all("drive" in m.evidence_sentence for m in result.skills)
    detail = result.to_dict()["sentences"]
    assert any(s["filtered"] for s in detail) and all("filter_score" in s for s in detail)

    unfiltered = Extractor(index=demo_index, encoder=encoder, sentence_filter=None,
                            min_score=-1.0).extract(AD)
    assert not any(s.filtered for s in unfiltered.sentences)
    assert all(s.filter_score is None for s in unfiltered.sentences)
    assert next(s for s in unfiltered.sentences if "holiday" in s.text).matches


def test_a_filter_reading_the_index_embeddings_with_ad_structure_searches_the_title(
        demo_index, encoder):
    """A filter on the index encoder's embeddings shares their pass; the ad's title is no
    content sentence (the filter never sees it), yet it is searched for the skills it names,
    so it is encoded on its own."""
    screen = EmbeddingLogisticFilter(encoder.model_id).fit(
        ["We need SQL and Python.", "Experience with forklifts.", "Free fruit on Fridays.",
         "Our office is in Leeds."], [1, 1, 0, 0])
    screen.threshold = 0.0
    ad = ("Python Developer (m/f/d)\nRequirements:\nYou write SQL every day.\n"
          "You drive a forklift in the warehouse.\n")
    result = Extractor(index=demo_index, encoder=encoder, sentence_filter=screen,
                       min_score=-1.0).extract(ad)
    title = result.sentences[0]
    assert title.kind == "title" and title.matches
    assert any("SQL" in s.text and s.matches for s in result.sentences)


def test_a_sentence_naming_a_skill_passes_the_filter_unless_told_otherwise(demo_index, encoder):
    """The filter scores "Python..." 0.1 (no "drive"), but the sentence names the demo skill
    "Python" verbatim: it is searched, shows its low score, and is dropped only with
    ``filter_keeps_named=False``."""
    ad = "Our whole platform is written in Python.\nWe offer free parking for every employee.\n"
    kept = Extractor(index=demo_index, encoder=encoder, sentence_filter=WordFilter("drive"))
    python, parking = kept.extract(ad).sentences
    assert not python.filtered and python.filter_score == pytest.approx(0.1)
    assert "python-programming" in [m.skill_id for m in python.matches]
    assert parking.filtered and parking.matches == []
    strict = Extractor(index=demo_index, encoder=encoder, sentence_filter=WordFilter("drive"),
                       filter_keeps_named=False)
    assert all(s.filtered and not s.matches for s in strict.extract(ad).sentences)


def test_filter_threshold_override_and_sentence_level_ranking(demo_index, encoder):
    from skillmap.evaluation import PipelineRanker

    texts = ["You will drive forklifts.", "We offer free parking."]
    ranker = PipelineRanker(Extractor(index=demo_index, encoder=encoder,
                                      sentence_filter=WordFilter("drive")))
    rankings = ranker.rank(texts, 5)
    assert rankings[0] and rankings[1] == []
    keep_all = Extractor(index=demo_index, encoder=encoder, sentence_filter=WordFilter("drive"),
                         filter_threshold=0.05)
    assert all(PipelineRanker(keep_all).rank(texts, 5))
    with pytest.raises(SkillmapError, match="filter threshold"):
        Extractor(index=demo_index, encoder=encoder, filter_threshold=1.5)


# --------------------------------------------------------------------------- CLI
@pytest.mark.slow
def test_cli_trains_a_logistic_filter_and_extract_uses_it(tmp_path, corpus, capsys):
    out = tmp_path / "lr-filter"
    assert main(["train", "filter", "--corpus", str(corpus), "--out", str(out),
                 "--kind", "embedding-logistic", "--encoder", "all-MiniLM-L6-v2"]) == 0
    assert "threshold" in capsys.readouterr().err
    assert load_filter(out).kind == "embedding-logistic"
    ad = tmp_path / "ad.txt"
    ad.write_text("Solid knowledge of SQL is required.\nWe offer 30 days of paid holiday.\n")
    assert main(["extract", str(ad), "--format", "json", "--filter", "keyword-length"]) == 0
    filtered = json.loads(capsys.readouterr().out)["sentences"]
    assert [s["filtered"] for s in filtered] == [False, True]
    assert main(["extract", str(ad), "--format", "json", "--no-filter", "--min-score", "-1"]) == 0
    unfiltered = json.loads(capsys.readouterr().out)["sentences"]
    assert [s["filtered"] for s in unfiltered] == [False, False] and unfiltered[1]["skills"]
    # "SQL" named verbatim in a one-word line the heuristic drops: kept unless told otherwise
    ad.write_text("We offer 30 days of paid holiday.\nSQL\n")
    for flags, expected in (([], [True, False]), (["--filter-drops-named"], [True, True])):
        assert main(["extract", str(ad), "--format", "json", "--filter", "keyword-length",
                     *flags]) == 0
        assert [s["filtered"] for s in json.loads(capsys.readouterr().out)["sentences"]] == expected


@pytest.mark.slow
def test_calibrate_filter_moves_only_the_threshold_and_keeps_the_old_one(tmp_path, corpus, data,
                                                                          encoder, capsys):
    model = EmbeddingLogisticFilter(encoder.model_id).fit(data.train_texts, data.train_labels)
    model.threshold, model.card = 0.5, {"name": "lr", "calibration": {"target": "f1"}}
    model.save(tmp_path / "lr")
    out = tmp_path / "lr-recalibrated"
    assert main(["train", "calibrate-filter", str(tmp_path / "lr"), "-c", str(corpus),
                 "--target", "recall:1.0", "-o", str(out)]) == 0
    assert "threshold 0.500 ->" in capsys.readouterr().err
    texts, labels = load_labelled_sentences([corpus])
    scores = model.predict_proba(texts)
    lowest_positive = min(s for s, label in zip(scores, labels) if label == 1)
    again = load_filter(out)
    assert again.threshold == pytest.approx(lowest_positive, abs=1e-6)  # keeps every one
    np.testing.assert_allclose(again.predict_proba(PROBES), model.predict_proba(PROBES),
                               atol=1e-6)
    assert again.card["earlier_calibrations"] == [{"threshold": 0.5,
                                                   "calibration": {"target": "f1"}}]
    assert again.card["calibration"]["on"] == corpus.name
    assert load_filter(tmp_path / "lr").threshold == 0.5  # the input folder is untouched
    only_positives = tmp_path / "positives.jsonl"
    only_positives.write_text("".join(line + "\n" for line in corpus.read_text().splitlines()
                                      if json.loads(line)["mode"] != "negatives"))
    bad = tmp_path / "never-written"
    assert main(["train", "calibrate-filter", str(tmp_path / "lr"), "-c", str(only_positives),
                 "-o", str(bad)]) != 0
    assert "needs skill sentences and negatives" in capsys.readouterr().err and not bad.exists()


def test_eval_filter_reads_skillspan_format(tmp_path, capsys):
    rows = [{"idx": 1, "tokens": ["Experience", "with", "SQL", "is", "required"],
             "tags_skill": ["O"] * 5, "tags_knowledge": ["O", "O", "B", "O", "O"]},
            {"idx": 1, "tokens": ["Free", "parking"], "tags_skill": ["O", "O"],
             "tags_knowledge": ["O", "O"]}]
    path = tmp_path / "spans.json"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    assert main(["eval-filter", "--benchmark", str(path), "--filter", "keyword-length",
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["precision"] == 1.0 and report["recall"] == 1.0 and report["n"] == 2
    path.write_text('{"tokens": ["x"]}\n')
    assert main(["eval-filter", "--benchmark", str(path), "--filter", "keyword-length"]) == 2
    assert "line 1" in capsys.readouterr().err


@pytest.mark.skipif(not SKILLSPAN.is_file(), reason="../shared/benchmarks/skillspan is absent")
def test_skillspan_postings_trace_back_to_their_sentences():
    from skillmap.evaluation.skillspan import read_skillspan

    spans = read_skillspan(SKILLSPAN)
    assert len(spans.sentences) == 3174 and sum(s.has_skill for s in spans.sentences) == 914
    for posting in spans.postings()[:20]:
        for start, sentence in zip(posting.starts, posting.sentences):
            assert posting.text[start:start + len(sentence.text)] == sentence.text
            assert posting.sentence_at(start + len(sentence.text) // 2) is sentence


# --------------------------------------------------------------------------- the shipped filter
def test_shipped_filter_loads_offline_and_is_default_only_when_switched_on(monkeypatch):
    import skillmap.filter as filters
    from skillmap.filter import StructuredFilter

    shipped = resolve_filter("shipped")
    assert isinstance(shipped, StructuredFilter) and shipped is filters.shipped_filter()
    assert isinstance(shipped.inner, TransformerFilter)
    assert resolve_filter("shipped-text") is shipped.inner
    assert 0.0 < shipped.threshold < shipped.evidence_threshold < 1.0
    skill, holiday = shipped.predict_proba(["Solid knowledge of SQL is required.",
                                            "We offer 30 days of paid holiday."])
    assert skill >= shipped.threshold > holiday
    # under a benefits heading even a requirement-like sentence is dropped
    (in_benefits,) = shipped.predict_proba(["Solid knowledge of SQL is required."],
                                           contexts=[("sentence", "benefits")])
    assert in_benefits == 0.0
    monkeypatch.setattr(filters, "SHIPPED_FILTER_IS_DEFAULT", False)
    assert resolve_filter("default") is None
    monkeypatch.setattr(filters, "SHIPPED_FILTER_IS_DEFAULT", True)
    assert resolve_filter("default") is shipped


def test_the_classifier_does_not_read_sentences_of_skill_free_sections(monkeypatch):
    """A sentence under a benefits or company heading scores 0 whatever it says, so the
    classifier's forward pass is spent only on the others; their scores are unchanged."""
    shipped = resolve_filter("shipped")
    sentences = ["Solid knowledge of SQL is required.", "We offer 30 days of paid holiday.",
                 "You build data pipelines in Python.", "Founded in 1987 in Leeds."]
    contexts = [("bullet", "requirements"), ("sentence", "benefits"),
                ("sentence", "responsibilities"), ("sentence", "company")]
    alone = shipped.predict_proba(sentences)  # no contexts: every sentence read
    read = []
    original = shipped.inner.predict_proba

    def spy(texts, **kwargs):
        read.extend(texts)
        return original(texts, **kwargs)

    monkeypatch.setattr(shipped.inner, "predict_proba", spy)
    scores = shipped.predict_proba(sentences, contexts=contexts)
    assert read == [sentences[0], sentences[2]]
    assert scores[1] == scores[3] == 0.0
    np.testing.assert_allclose(scores[[0, 2]], alone[[0, 2]], atol=1e-6)


def test_a_shallower_filter_keeps_its_depth_when_saved_and_loaded(tmp_path):
    """``backbone_layers`` keeps the backbone's first N layers (the shipped filter keeps 3 of
    MiniLM's 6: it runs on every content sentence); saving records it and loading rebuilds
    the same depth from the installed backbone, with the same scores."""
    from skillmap.filter import DEFAULT_FILTER_DIR, load_filter

    screen = TransformerFilter.build(backbone_layers=2, seed=0)
    screen.card = {"name": "shallow"}
    assert screen.model.config.num_hidden_layers == 2
    screen.save(tmp_path / "shallow")
    manifest = json.loads((tmp_path / "shallow" / "filter.json").read_text())
    assert manifest["backbone_layers"] == 2
    again = load_filter(tmp_path / "shallow")
    assert again.model.config.num_hidden_layers == 2
    np.testing.assert_allclose(again.predict_proba(PROBES), screen.predict_proba(PROBES),
                               atol=1e-5)
    manifest["backbone_layers"] = 0
    (tmp_path / "shallow" / "filter.json").write_text(json.dumps(manifest))
    with pytest.raises(SkillmapError, match="backbone_layers must be a whole number"):
        load_filter(tmp_path / "shallow")
    assert load_filter(DEFAULT_FILTER_DIR).inner.model.config.num_hidden_layers == 3


@pytest.mark.skipif(not SKILLSPAN.is_file(), reason="../shared/benchmarks/skillspan is absent")
@pytest.mark.slow
def test_shipped_filter_reproduces_its_recorded_skillspan_numbers():
    """What filter.json records for the report half of SkillSpan dev (the postings its
    calibration did not see; docs/benchmarks.md §11) is what this installation measures, the
    recall bar holds, and it beats the keyword/length heuristic on the same sentences."""
    from skillmap.evaluation.per_ad import segment_gold, split_postings
    from skillmap.evaluation.skillspan import read_skillspan
    from skillmap.filter import DEFAULT_FILTER_DIR
    from skillmap.filter.structured_filter import _screened_sentences, real_ads_report
    from skillmap.segmentation import segment_ad

    recorded = json.loads((DEFAULT_FILTER_DIR / "filter.json").read_text())["card"][
        "validation"]["skillspan_dev_report"]
    ads = []
    for posting in split_postings(read_skillspan(SKILLSPAN).postings(), "report"):
        segments = segment_ad(posting.text)
        ads.append((segments, [segment_gold(posting, s.start, s.end) for s in segments]))
    shipped = resolve_filter("shipped")
    report = real_ads_report(shipped, ads)
    for name in ("precision", "recall", "roc_auc", "recall_of_all_skill_segments"):
        assert report[name] == pytest.approx(recorded[name], abs=0.003), name
    assert report["recall_of_all_skill_segments"] >= 0.95
    texts, labels, _ = _screened_sentences(shipped, ads)
    heuristic = KeywordLengthFilter()
    baseline = classification_report(heuristic.predict_proba(texts), labels, heuristic.threshold)
    assert report["f1"] > baseline["f1"] and report["roc_auc"] > baseline["roc_auc"]
