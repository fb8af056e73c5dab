"""Optional ONNX Runtime inference for skillmap encoders, in float32 or dynamic int8.

:func:`export_onnx` turns any skillmap encoder (the shipped bundle, a trained model folder,
an off-the-shelf sentence-transformers model) into a self-contained folder::

    model.onnx          the WHOLE pipeline: backbone -> [BiLSTM] -> pooling -> L2 normalise
    tokenizer/          the Hugging Face tokenizer files
    onnx_encoder.json   manifest: source model id, quantisation, inputs, fingerprints, check

The graph is exported with ``torch.onnx`` (not sentence-transformers' ``backend="onnx"``,
which would run only the transformer in ONNX Runtime and leave our BiLSTM and attention
pooling in torch). The BiLSTM is rewritten for export: ``pack_padded_sequence`` does not
export, so each direction runs as a one-way LSTM and the backward one reads every sentence
reversed *within its own length* (a gather), which gives the packed result at every real
token; padding positions then hold other (finite) values, and every pooling here gives them
weight zero. ``--quantize int8`` applies ONNX Runtime's dynamic quantisation (int8 weights,
per output channel; activations quantised on the fly) to the backbone's linear layers except
the feed-forward down-projections, whose inputs (after GELU) carry the outliers that int8 handles
worst; ``int8-all`` quantises every layer (embeddings, BiLSTM and head included): smaller
still, but less accurate than ``int8`` (docs/benchmarks.md measures both).

:class:`SkillEncoder` loads such a folder like any model (``--model DIR``), or exports one on
first use into the cache with ``backend="onnx"``/``"onnx-int8"``. An export keeps its source's
model id and records the source's probe fingerprint (``reference_probe``), so an index built
with the torch model accepts its ONNX variant and still refuses any other model
(:meth:`skillmap.index.SkillIndex.check_encoder`).

Needs ``pip install 'skillmap[onnx]'`` (onnxruntime, onnx). See docs/benchmarks.md.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from skillmap import bounded
from skillmap.encoder.skill_encoder import ONNX_MANIFEST, PROBE_SENTENCE, resolve_model
from skillmap.errors import SkillmapError, exception_line

log = logging.getLogger(__name__)

EXPORT_FORMAT = 1
EXPORT_RECIPE = 2  # bumped when what an export contains changes: cached exports are redone
MODEL_FILE = "model.onnx"
TOKENIZER_DIR = "tokenizer"
OUTPUT_NAME = "sentence_embedding"
QUANTIZATIONS = ("none", "int8", "int8-all")
# the backend an export runs as (skillmap.encoder.backends names those --backend can ask for)
_BACKEND_OF = {"none": "onnx", "int8": "onnx-int8", "int8-all": "onnx-int8-all"}
OPSET = 17

# Sentences the export is checked on against the torch model (short, long, truncated at 64
# tokens, bullet-like, non-English): the cosines are recorded in the manifest.
CHECK_SENTENCES = (
    PROBE_SENTENCE,
    "Python",
    "SQL databases",
    "You will manage our warehouse stock and drive forklifts.",
    "Fluent English and German, both spoken and written, are essential for this role.",
    "- 3+ years of experience with React, TypeScript and REST APIs",
    "Wir suchen eine Pflegefachkraft (m/w/d) mit Erfahrung in der Intensivpflege.",
    "Experience with Kubernetes, Terraform and CI/CD pipelines (GitHub Actions) is a plus, "
    "as is familiarity with observability tooling such as Prometheus, Grafana and "
    "OpenTelemetry, and with the incident response practices of a team that runs its own "
    "services in production around the clock, across several regions and cloud providers.",
    "manage budgets",
    "customer service",
    "Strong communication skills; able to work independently and as part of a team.",
    "Our company offers a competitive salary, a pension scheme and 30 days of holiday.",
)


def _need_onnxruntime():
    try:
        import onnxruntime
    except ImportError:
        raise SkillmapError("the ONNX backend needs onnxruntime: pip install 'skillmap[onnx]' "
                            "(or pip install onnxruntime onnx)") from None
    return onnxruntime


def is_onnx_export(path: str | os.PathLike) -> bool:
    return (Path(path) / ONNX_MANIFEST).is_file()


def read_manifest(folder: str | os.PathLike) -> dict:
    path = Path(folder) / ONNX_MANIFEST
    manifest = bounded.read_json(folder, ONNX_MANIFEST, "ONNX export")
    if not isinstance(manifest, dict):
        raise SkillmapError(f"{path}: unreadable (not a JSON object)")
    if manifest.get("format") != EXPORT_FORMAT:
        raise SkillmapError(f"{path.parent}: ONNX export format {manifest.get('format')!r} is "
                            f"not supported; export it again with `skillmap encoder export-onnx`")
    return manifest


# --------------------------------------------------------------------------- export graph
def _export_graph(st_model):
    """An ``nn.Module`` ``(input_ids, attention_mask[, token_type_ids]) -> unit embeddings``
    computing exactly what ``st_model.encode`` computes, in export-friendly operations."""
    import torch
    from torch import nn

    from skillmap.encoder.modules import AttentionPooling, BiLSTM

    class ExportableBiLSTM(nn.Module):
        """:class:`BiLSTM` without packed sequences (same weights, same real-token outputs)."""

        def __init__(self, module: BiLSTM):
            super().__init__()
            lstm = module.lstm
            self.layers = nn.ModuleList()
            for layer in range(lstm.num_layers):
                pair = nn.ModuleList()
                for suffix in ("", "_reverse"):
                    one_way = nn.LSTM(lstm.input_size if layer == 0 else 2 * lstm.hidden_size,
                                      lstm.hidden_size, batch_first=True)
                    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                        getattr(one_way, f"{name}_l0").data.copy_(
                            getattr(lstm, f"{name}_l{layer}{suffix}").data)
                    pair.append(one_way)
                self.layers.append(pair)
            self.project = module.project

        def forward(self, tokens, mask):
            steps = torch.arange(tokens.shape[1], device=tokens.device).unsqueeze(0)
            lengths = mask.sum(dim=1, keepdim=True).clamp(min=1)
            # position t of the reversed sentence: its token len-1-t (padding stays in place)
            reverse = torch.where(steps < lengths, lengths - 1 - steps, steps).unsqueeze(-1)
            x = tokens
            for forward_lstm, backward_lstm in self.layers:
                ahead, _ = forward_lstm(x)
                back, _ = backward_lstm(torch.gather(x, 1, reverse.expand(-1, -1, x.shape[-1])))
                back = torch.gather(back, 1, reverse.expand(-1, -1, back.shape[-1]))
                x = torch.cat([ahead, back], dim=-1)
            return tokens + self.project(x)

    class Graph(nn.Module):
        def __init__(self):
            super().__init__()
            modules = list(st_model)
            self.backbone = modules[0].auto_model
            self.bilstm = None
            self.attention = None
            self.pooling_mode = None
            for module in modules[1:]:
                name = type(module).__name__
                if isinstance(module, BiLSTM):
                    self.bilstm = ExportableBiLSTM(module)
                elif isinstance(module, AttentionPooling):
                    self.attention = module
                elif name == "Pooling":
                    mode = module.pooling_mode
                    mode = mode[0] if isinstance(mode, (list, tuple)) and len(mode) == 1 else mode
                    if mode not in ("mean", "cls", "max"):
                        raise SkillmapError(f"cannot export pooling mode {mode!r} to ONNX "
                                            "(mean, cls and max can be)")
                    self.pooling_mode = mode
                elif name != "Normalize":  # the graph always normalises
                    raise SkillmapError(f"cannot export module {name} to ONNX (supported: "
                                        "Transformer, BiLSTM, AttentionPooling, Pooling, "
                                        "Normalize)")
            if self.attention is None and self.pooling_mode is None:
                raise SkillmapError("cannot export a model without a pooling module to ONNX")

        def forward(self, input_ids, attention_mask, token_type_ids=None):
            kwargs = {"input_ids": input_ids, "attention_mask": attention_mask}
            if token_type_ids is not None:
                kwargs["token_type_ids"] = token_type_ids
            tokens = self.backbone(**kwargs, return_dict=True).last_hidden_state
            if self.bilstm is not None:
                tokens = self.bilstm(tokens, attention_mask)
            if self.attention is not None:
                pooled = self.attention({"token_embeddings": tokens,
                                         "attention_mask": attention_mask})["sentence_embedding"]
            elif self.pooling_mode == "cls":
                pooled = tokens[:, 0]
            else:
                mask = attention_mask.unsqueeze(-1).to(tokens.dtype)
                if self.pooling_mode == "mean":
                    pooled = (tokens * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
                else:
                    pooled = tokens.masked_fill(mask == 0, -1e9).max(dim=1).values
            return torch.nn.functional.normalize(pooled, p=2.0, dim=-1)

    return Graph().eval()


def _backbone_linear_layers(model_file: Path) -> list[str]:
    """The backbone's weight MatMuls, less those that project down (the feed-forward output
    layers: ``in_features > out_features``), by their ONNX node names."""
    import onnx

    graph = onnx.load(str(model_file), load_external_data=False).graph
    shapes = {init.name: tuple(init.dims) for init in graph.initializer}
    nodes = []
    for node in graph.node:
        shape = shapes.get(node.input[1]) if node.op_type == "MatMul" else None
        if shape is None or len(shape) != 2 or not node.name.startswith("/backbone/"):
            continue  # not a linear layer of the backbone (attention scores: no weights)
        if shape[0] > shape[1]:
            continue  # a down-projection: its input is where the activation outliers are
        nodes.append(node.name)
    return nodes


def _quantize_int8(source: Path, target: Path, everything: bool = False) -> None:
    """Dynamic int8 quantisation: int8 weights per output channel, activations on the fly.

    Per-channel weights keep sentence embeddings much closer to the float model's than one
    scale per tensor does. By default only the backbone's linear layers except the
    down-projections (the closest of all); ``everything``: every MatMul, the embedding table
    and the LSTMs too.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    nodes = None if everything else _backbone_linear_layers(source)
    if nodes == []:
        raise SkillmapError("found no backbone linear layers to quantise in the ONNX graph")
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # "please consider pre-processing" is not for our users
    try:
        quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8,
                         per_channel=True, nodes_to_quantize=nodes)
    finally:
        root.setLevel(level)


def export_onnx(model: str | os.PathLike | None, out: str | os.PathLike,
                quantize: str = "int8",
                say: Callable[[str], None] | None = None,
                allow_pickle: bool | None = None) -> Path:
    """Export ``model`` (a model spec as :class:`SkillEncoder` takes it) to the folder ``out``.

    The folder is written atomically; the export is checked against the torch model on
    :data:`CHECK_SENTENCES` and the result is recorded in its manifest. Float exports that do
    not reproduce the torch model (cosine < 0.999) are refused as a bug.
    """
    import torch

    from skillmap.version import __version__
    from skillmap.encoder.skill_encoder import SkillEncoder
    from skillmap.io import atomic_directory

    if quantize not in QUANTIZATIONS:
        raise SkillmapError(f"quantize must be one of {', '.join(QUANTIZATIONS)}, "
                            f"got {quantize!r}")
    ort = _need_onnxruntime()
    if importlib.util.find_spec("onnx") is None:  # the quantiser reads and writes graphs
        raise SkillmapError("exporting to ONNX needs the onnx package: pip install "
                            "'skillmap[onnx]'")
    say = say or (lambda message: None)
    if is_onnx_export(resolve_model(model)[1]):
        raise SkillmapError(f"{model}: is already an ONNX export; export its source model")
    source = SkillEncoder(model, device="cpu", backend="torch", allow_pickle=allow_pickle)
    say(f"loaded {source.model_id} ({source.dimension}-dim)")
    st_model = source.model
    transformer = st_model[0]
    max_len = int(transformer.max_seq_length or 512)
    tokenizer = transformer.tokenizer
    reference = source.encode(list(CHECK_SENTENCES))
    graph = _export_graph(st_model)
    try:  # the classic attention pattern, which ONNX Runtime fuses; same numbers as sdpa
        graph.backbone.set_attn_implementation("eager")
    except (AttributeError, ValueError):
        pass
    dummy = tokenizer(list(CHECK_SENTENCES[:2]), padding=True, truncation=True,
                      max_length=max_len, return_tensors="pt")
    input_names = [name for name in ("input_ids", "attention_mask", "token_type_ids")
                   if name in dummy]
    out = Path(out)
    with atomic_directory(out, holds=MODEL_FILE) as tmp:
        say(f"exporting the {'whole pipeline' if len(st_model) > 2 else 'model'} to ONNX "
            f"(opset {OPSET})")
        float_file = tmp / ("model.fp32.onnx" if quantize != "none" else MODEL_FILE)
        axes = {name: {0: "batch", 1: "sequence"} for name in input_names}
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer and LSTM batch-size notices
            torch.onnx.export(graph, tuple(dummy[name] for name in input_names),
                              str(float_file), dynamo=False, input_names=input_names,
                              output_names=[OUTPUT_NAME],
                              dynamic_axes={**axes, OUTPUT_NAME: {0: "batch"}},
                              opset_version=OPSET)
        if quantize != "none":
            say("quantising to int8 (dynamic, per-channel weights; "
                f"{'every layer' if quantize == 'int8-all' else 'backbone linear layers'})")
            _quantize_int8(float_file, tmp / MODEL_FILE, everything=quantize == "int8-all")
            float_file.unlink()
        tokenizer.save_pretrained(str(tmp / TOKENIZER_DIR))
        manifest = {
            "format": EXPORT_FORMAT, "recipe": EXPORT_RECIPE, "model_id": source.model_id,
            "source": str(source._load_path), "quantization": quantize,
            "backend": _BACKEND_OF[quantize], "dimension": source.dimension,
            "max_seq_length": max_len, "inputs": input_names, "output": OUTPUT_NAME,
            "reference_probe": [round(float(x), 6) for x in source.probe],
            "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "versions": {"skillmap": __version__, "torch": torch.__version__,
                         "onnxruntime": ort.__version__},
        }
        (tmp / ONNX_MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        exported = OnnxSentenceEncoder(tmp)
        cosines = (exported.encode(list(CHECK_SENTENCES)) * reference).sum(axis=1)
        manifest["check"] = {"sentences": len(CHECK_SENTENCES),
                             "min_cosine": round(float(cosines.min()), 6),
                             "mean_cosine": round(float(cosines.mean()), 6)}
        if quantize == "none" and cosines.min() < 0.999:
            raise SkillmapError(f"the ONNX export does not reproduce {source.model_id} "
                                f"(cosine {cosines.min():.4f} on a check sentence); please "
                                "report this as a bug")
        (tmp / ONNX_MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        del exported
        size = sum(f.stat().st_size for f in tmp.rglob("*") if f.is_file())
    say(f"checked on {len(CHECK_SENTENCES)} sentences: cosine to the torch model min "
        f"{cosines.min():.4f}, mean {cosines.mean():.4f}; {size / 2**20:.0f} MiB")
    return out


# --------------------------------------------------------------------------- runtime
class OnnxSentenceEncoder:
    """An exported encoder run by ONNX Runtime; ``encode`` mirrors SentenceTransformer's.

    Threads: ONNX Runtime's default (one per physical core), or ``threads`` /
    ``$SKILLMAP_ONNX_THREADS``.
    """

    def __init__(self, folder: str | os.PathLike, device: str | None = None,
                 threads: int | None = None):
        ort = _need_onnxruntime()
        from transformers import AutoTokenizer

        self.folder = Path(folder)
        manifest = read_manifest(self.folder)
        self.manifest = manifest
        try:  # the manifest is data from wherever the folder came from: check every field
            self.model_id = str(manifest["model_id"])
            self.quantization = manifest["quantization"]
            self.backend = _BACKEND_OF[self.quantization]
            self.dimension = int(manifest["dimension"])
            self.max_seq_length = int(manifest["max_seq_length"])
            self.input_names = [str(name) for name in manifest["inputs"]]
            self.reference_probe = np.asarray(manifest["reference_probe"], dtype=np.float32)
            if (self.dimension < 1 or self.reference_probe.shape != (self.dimension,)
                    or not np.isfinite(self.reference_probe).all()
                    or not set(self.input_names) <= {"input_ids", "attention_mask",
                                                     "token_type_ids"}):
                raise ValueError("fields out of range")
        except (KeyError, TypeError, ValueError) as exc:
            raise SkillmapError(f"{self.folder / ONNX_MANIFEST}: malformed "
                                f"({type(exc).__name__}: {exc})") from None
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        threads = threads or int(os.environ.get("SKILLMAP_ONNX_THREADS", "0") or 0)
        if threads:
            options.intra_op_num_threads = threads
        providers = ["CPUExecutionProvider"]
        if (device or "").startswith("cuda") and \
                "CUDAExecutionProvider" in ort.get_available_providers():
            providers.insert(0, "CUDAExecutionProvider")
        try:
            self.session = ort.InferenceSession(str(self.folder / MODEL_FILE), options,
                                                providers=providers)
            self.tokenizer = AutoTokenizer.from_pretrained(str(self.folder / TOKENIZER_DIR))
        except Exception as exc:  # onnxruntime raises its own exception types
            first = exception_line(exc)
            raise SkillmapError(f"{self.folder}: cannot load the ONNX encoder ({first})") from None
        self.tokenizer.padding_side = "right"  # the exported BiLSTM assumes right padding

    def get_embedding_dimension(self) -> int:
        return self.dimension

    def _run(self, texts: Sequence[str]) -> np.ndarray:
        features = self.tokenizer(list(texts), padding=True, truncation=True,
                                  max_length=self.max_seq_length, return_tensors="np")
        feed = {}
        for name in self.input_names:
            values = features.get(name)
            if values is None:  # e.g. a tokenizer that gives no token_type_ids
                values = np.zeros_like(features["input_ids"])
            feed[name] = np.asarray(values, dtype=np.int64)
        return self.session.run([OUTPUT_NAME], feed)[0]

    def encode(self, sentences: Sequence[str], batch_size: int = 64,
               show_progress_bar: bool = False, convert_to_numpy: bool = True,
               normalize_embeddings: bool = True, **_ignored) -> np.ndarray:
        """``(len(sentences), dimension)`` float32, longest first in batches (less padding)."""
        sentences = [s if isinstance(s, str) else str(s) for s in sentences]
        out = np.zeros((len(sentences), self.dimension), dtype=np.float32)
        if not sentences:
            return out
        order = np.argsort([-len(s) for s in sentences], kind="stable")
        starts = range(0, len(sentences), batch_size)
        if show_progress_bar:
            from tqdm.auto import tqdm

            starts = tqdm(starts, desc="Batches", total=len(starts))
        for start in starts:
            rows = order[start:start + batch_size]
            out[rows] = self._run([sentences[i] for i in rows])
        if normalize_embeddings:
            out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out


def _stamp(path: Path) -> list:
    """File names, sizes and mtimes under a model folder: a cache key that changes with it."""
    if not path.is_dir():
        return [str(path)]
    entries = [str(path.resolve())]
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        stat = file.stat()
        entries.append([str(file.relative_to(path)), stat.st_size, stat.st_mtime_ns])
    bundle = path / "bundle.json"
    if bundle.is_file():  # a bundle is rebuilt on its backbone: that is part of the model
        try:
            backbone = bounded.read_json(path, "bundle.json", "bundle").get("backbone")
        except (SkillmapError, AttributeError):
            backbone = None
        if backbone:
            entries.append(_stamp(Path(resolve_model(backbone)[1])))
    return entries


def cached_export(model: str | os.PathLike | None, quantize: str,
                  allow_pickle: bool | None = None) -> Path:
    """The ONNX export of ``model`` at ``quantize`` in skillmap's cache, made on first use."""
    from skillmap.defaults import cache_dir

    backend = _BACKEND_OF[quantize]
    model_id, load_path = resolve_model(model)
    key = hashlib.sha256(json.dumps([EXPORT_FORMAT, EXPORT_RECIPE, model_id, quantize,
                                     _stamp(Path(load_path))]).encode()).hexdigest()[:16]
    folder = cache_dir() / "encoders" / f"{backend}-{key}"
    if is_onnx_export(folder) and (folder / MODEL_FILE).is_file():
        return folder
    log.warning("exporting encoder %s to ONNX (%s) for the %s backend: once, cached in %s",
                model_id, "int8" if quantize == "int8" else "float32", backend, folder)
    return export_onnx(model, folder, quantize=quantize, allow_pickle=allow_pickle)
