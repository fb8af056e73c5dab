"""The ONNX Runtime backend: exported encoders match torch, and indexes accept only variants
of their own model.

Tiny randomly initialised models (a 1-layer BERT with mean pooling, and the same backbone with
a randomised BiLSTM + attention-pooling head) stand in for the real encoder: these tests check
the export and the index compatibility rules; docs/benchmarks.md §9 measures the real model.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

import torch  # noqa: E402

from conftest import DATA, make_tiny_model  # noqa: E402
from skillmap.cli import main  # noqa: E402
from skillmap.encoder import SkillEncoder  # noqa: E402
from skillmap.encoder.onnx import export_onnx, is_onnx_export, read_manifest  # noqa: E402
from skillmap.errors import IndexMismatchError, SkillmapError  # noqa: E402
from skillmap.index import SkillIndex  # noqa: E402

TEXTS = [
    "We need a nurse who speaks German.",
    "Python",
    "You will drive forklifts in our warehouse and keep the stock records up to date, "
    "working in shifts with a team of twelve; experience with SAP and a valid licence are "
    "required, and so are reliability and attention to detail in everything you do.",  # > 64
    "SQL and data modelling",
    "",
    "Wir suchen eine Pflegefachkraft.",
]


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1)


@pytest.fixture(scope="module")
def tiny_mean(tmp_path_factory):
    """A 1-layer BERT (hidden 32) + mean pooling, no Normalize module."""
    return str(make_tiny_model(tmp_path_factory.mktemp("onnx-tiny-mean"), hidden=32, seed=3))


@pytest.fixture(scope="module")
def tiny_bilstm(tmp_path_factory):
    """The skillmap architecture on a tiny backbone, with a non-trivial (random) head."""
    from skillmap.encoder.architecture import EncoderConfig, build_encoder

    folder = tmp_path_factory.mktemp("onnx-tiny-bilstm")
    make_tiny_model(folder, hidden=32, seed=4)
    model = build_encoder(EncoderConfig(backbone=str(folder / "backbone"), lstm_hidden=16,
                                        attention_hidden=8), device="cpu")
    torch.manual_seed(0)
    for parameter in list(model[1].parameters()) + list(model[2].parameters()):
        torch.nn.init.normal_(parameter, std=0.3)
    model.save(str(folder / "model"))
    return str(folder / "model")


@pytest.fixture(scope="module")
def exports(tmp_path_factory, tiny_mean, tiny_bilstm):
    """Float32 and int8 exports of both tiny models (exported once per module)."""
    root = tmp_path_factory.mktemp("onnx-exports")
    messages = []
    out = {}
    for name, model in (("mean", tiny_mean), ("bilstm", tiny_bilstm)):
        for quantize in ("none", "int8") + (("int8-all",) if name == "bilstm" else ()):
            out[name, quantize] = str(export_onnx(model, root / f"{name}-{quantize}",
                                                  quantize=quantize, say=messages.append))
    assert any("checked on" in m for m in messages)
    return out


@pytest.mark.parametrize("name", ["mean", "bilstm"])
def test_float_export_reproduces_the_torch_model(name, exports, tiny_mean, tiny_bilstm):
    torch_encoder = SkillEncoder(tiny_mean if name == "mean" else tiny_bilstm)
    onnx_encoder = SkillEncoder(exports[name, "none"])
    assert onnx_encoder.backend == "onnx" and torch_encoder.backend == "torch"
    assert onnx_encoder.model_id == torch_encoder.model_id  # an export keeps its source's id
    expected = torch_encoder.encode(TEXTS)
    for batch_size in (64, 2, 1):  # padding, several batches, a last short batch
        got = onnx_encoder.encode(TEXTS, batch_size=batch_size)
        assert got.shape == expected.shape == (len(TEXTS), 32) and got.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
        assert cosines(got, expected).min() > 0.9999
    assert onnx_encoder.encode([]).shape == (0, 32)
    np.testing.assert_allclose(onnx_encoder.reference_probe, torch_encoder.probe, atol=1e-5)


def test_exported_bilstm_ignores_padding(exports):
    encoder = SkillEncoder(exports["bilstm", "none"])
    alone = encoder.encode(TEXTS[:1])
    padded = encoder.encode(TEXTS[:3], batch_size=8)[:1]  # batched with longer sentences
    np.testing.assert_allclose(alone, padded, atol=1e-5)


@pytest.mark.parametrize("name", ["mean", "bilstm"])
def test_int8_export_stays_close_to_the_torch_model(name, exports, tiny_mean, tiny_bilstm):
    expected = SkillEncoder(tiny_mean if name == "mean" else tiny_bilstm).encode(TEXTS)
    encoder = SkillEncoder(exports[name, "int8"])
    got = encoder.encode(TEXTS)
    assert encoder.backend == "onnx-int8" and got.shape == expected.shape
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    assert cosines(got, expected).mean() > 0.95
    manifest = read_manifest(exports[name, "int8"])
    assert manifest["quantization"] == "int8" and manifest["check"]["mean_cosine"] > 0.95


def test_int8_quantises_the_backbone_linear_layers_but_not_down_projections(exports):
    import collections

    import onnx

    def ops(key):
        graph = onnx.load(str(exports[key] + "/model.onnx")).graph
        return collections.Counter(node.op_type for node in graph.node)

    int8, everything = ops(("bilstm", "int8")), ops(("bilstm", "int8-all"))
    # 1 layer: query, key, value, attention output, FFN input quantised; FFN output, the
    # BiLSTM projection, the attention-pooling scorer (and the attention scores) stay float
    assert int8["MatMulInteger"] == 5 and int8["LSTM"] == 2
    assert everything["MatMulInteger"] > 5 and everything["DynamicQuantizeLSTM"] == 2
    assert ops(("bilstm", "none"))["MatMulInteger"] == 0
    encoder = SkillEncoder(exports["bilstm", "int8-all"])
    assert encoder.backend == "onnx-int8-all" and encoder.encode(TEXTS).shape == (6, 32)


def test_index_accepts_variants_of_its_model_and_refuses_other_models(
        exports, tiny_mean, tiny_bilstm, demo_taxonomy):
    index = SkillIndex.build(demo_taxonomy, SkillEncoder(tiny_mean))
    for quantize in ("none", "int8"):
        index.check_encoder(SkillEncoder(exports["mean", quantize]))
    # a different model, and its ONNX variants, are still refused (same dimension)
    for other in (tiny_bilstm, exports["bilstm", "none"], exports["bilstm", "int8"]):
        with pytest.raises(IndexMismatchError, match="is not the model the index was built"):
            index.check_encoder(SkillEncoder(other))
    # an index built with a variant records its source model: torch and the others accept it
    built_with_int8 = SkillIndex.build(demo_taxonomy, SkillEncoder(exports["mean", "int8"]))
    for model in (tiny_mean, exports["mean", "none"], exports["mean", "int8"]):
        built_with_int8.check_encoder(SkillEncoder(model))
    with pytest.raises(IndexMismatchError):
        built_with_int8.check_encoder(SkillEncoder(tiny_bilstm))


def test_a_variant_that_drifts_too_far_is_refused(exports, tiny_mean, demo_taxonomy):
    index = SkillIndex.build(demo_taxonomy, SkillEncoder(tiny_mean))
    variant = SkillEncoder(exports["mean", "int8"])
    reference = variant.reference_probe
    noise = np.random.default_rng(0).normal(size=reference.shape).astype(np.float32)
    noise -= noise.dot(reference) * reference
    drifted = 0.95 * reference + np.sqrt(1 - 0.95 ** 2) * noise / np.linalg.norm(noise)
    variant._probe = drifted.astype(np.float32)  # probe cosine 0.95 to the source model
    with pytest.raises(IndexMismatchError, match="drifts too far"):
        index.check_encoder(variant)


def test_backend_option_exports_once_into_the_cache(tiny_mean):
    first = SkillEncoder(tiny_mean, backend="onnx-int8")
    again = SkillEncoder(tiny_mean, backend="onnx-int8")
    assert first.backend == again.backend == "onnx-int8"
    assert first.model.folder == again.model.folder and is_onnx_export(first.model.folder)
    assert first.model_id == SkillEncoder(tiny_mean).model_id
    float32 = SkillEncoder(tiny_mean, backend="onnx")
    assert float32.backend == "onnx" and float32.model.folder != first.model.folder
    assert SkillEncoder.cached(tiny_mean, backend="onnx") is SkillEncoder.cached(
        tiny_mean, backend="onnx")


def test_bad_backend_requests_are_one_line_errors(exports, tiny_mean, tmp_path):
    with pytest.raises(SkillmapError, match="backend must be one of"):
        SkillEncoder(tiny_mean, backend="tensorrt")
    with pytest.raises(SkillmapError, match="is an ONNX export for the onnx-int8 backend"):
        SkillEncoder(exports["mean", "int8"], backend="torch")
    with pytest.raises(SkillmapError, match="already an ONNX export"):
        export_onnx(exports["mean", "int8"], tmp_path / "again")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "onnx_encoder.json").write_text(json.dumps(
        {**read_manifest(exports["mean", "none"])}), encoding="utf-8")
    with pytest.raises(SkillmapError, match="cannot load the ONNX encoder"):
        SkillEncoder(broken)  # no model.onnx


@pytest.mark.slow
def test_cli_export_then_extract_with_the_export_and_with_backend(tiny_mean, tmp_path,
                                                                   capsys):
    out = tmp_path / "tiny-onnx"
    assert main(["encoder", "export-onnx", "--model", tiny_mean, "--out", str(out),
                 "--quantize", "none"]) == 0
    err = capsys.readouterr().err
    assert "checked on" in err and f"exported -> {out}" in err
    assert is_onnx_export(out) and (out / "model.onnx").is_file()
    index = tmp_path / "index"
    assert main(["index", "build", "--model", tiny_mean, "--out", str(index)]) == 0
    capsys.readouterr()
    results = {}
    # the model folder is outside the index, so it is named (an index may not load a folder
    # outside it on its own: tests/test_untrusted_folders.py)
    model = ["--model", str(tiny_mean)]
    for extra in ([], ["--model", str(out)], ["--backend", "onnx"], ["--backend", "onnx-int8"]):
        extra = extra if "--model" in extra else model + extra
        code = main(["extract", str(DATA / "sample_ad.txt"), "--index", str(index),
                     "--format", "json", "-k", "5", *extra])
        captured = capsys.readouterr()
        assert code == 0, captured.err
        key = " ".join(extra[2:]) if extra[:2] == model else " ".join(extra)
        results[key] = [s["skill_id"] for s in json.loads(captured.out)["skills"]]
    # float32 ONNX codes exactly like torch (random tiny model: int8 may reorder near-ties)
    assert results[""] == results[f"--model {out}"] == results["--backend onnx"]
    assert len(results["--backend onnx-int8"]) == 5
