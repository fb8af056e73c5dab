"""Training the filters: fit on the corpus, calibrate the threshold on the held-out split.

The transformer classifier is trained with the transformers ``Trainer`` (seeded, mixed
precision on a GPU, checkpoints every ``eval_every`` steps in ``OUT.checkpoint/`` so an
interrupted run resumes, early stopping on held-out loss). The logistic-regression filter
is fitted by scikit-learn on frozen embeddings. Both are then calibrated the same way and
saved with a card that records the data, the configuration and the held-out metrics.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

from skillmap.errors import SkillmapError
from skillmap.filter.base import TRAINABLE_KINDS, SentenceFilter
from skillmap.filter.calibration import calibrate, classification_report, parse_target
from skillmap.filter.data import FilterData
from skillmap.io import lock_folder

KINDS = TRAINABLE_KINDS


@dataclass
class FilterTrainingConfig:
    """Everything that decides a trained filter (recorded in its card)."""

    kind: str = "transformer"
    backbone: str | None = None          # transformer: model dir or hub id [MiniLM from PyPI]
    backbone_mode: str = "lora"          # transformer: lora | full
    backbone_layers: int | None = None   # transformer: keep the first N layers [all]
    encoder: str | None = None           # embedding-logistic: encoder [skillmap's default]
    epochs: float = 1.0
    max_steps: int | None = None
    batch_size: int = 32
    learning_rate: float | None = None   # [lora 5e-4, full 3e-5]
    max_length: int = 64
    eval_every: int = 100
    patience: int = 3                    # evaluations without improvement before stopping
    target: str = "f1"                   # calibration goal, see skillmap.filter.calibration
    seed: int = 0

    def __post_init__(self):
        if self.kind not in KINDS:
            raise SkillmapError(f"filter kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        parse_target(self.target)

    def to_dict(self) -> dict:
        return asdict(self)


def train_filter(data: FilterData, config: FilterTrainingConfig, out: str | Path,
                 resume: bool = False, name: str | None = None) -> SentenceFilter:
    """Train, calibrate and save a filter to ``out``; returns it."""
    out = Path(out)
    if not data.heldout_texts or len(set(data.heldout_labels)) < 2:
        raise SkillmapError("the held-out split needs sentences of both classes: use a larger "
                            "corpus or --heldout-fraction")
    if config.kind != "transformer":
        return _train_and_save(data, config, out, None, resume, name)
    checkpoints = out.with_name(out.name + ".checkpoint")
    # held until the checkpoints are removed: a second run on the same --out is refused at
    # once instead of writing (or deleting) the first run's checkpoints
    lock = lock_folder(checkpoints, "another `skillmap train filter` is writing its "
                       "checkpoints here; wait for it to finish, or choose another --out")
    try:
        return _train_and_save(data, config, out, checkpoints, resume, name)
    finally:
        with contextlib.suppress(OSError):
            checkpoints.rmdir()  # only if this run left it empty (it failed before a save)
        os.close(lock)


def _train_and_save(data: FilterData, config: FilterTrainingConfig, out: Path,
                    checkpoints: Path | None, resume: bool, name: str | None) -> SentenceFilter:
    started = time.perf_counter()
    if checkpoints is not None:
        model = _fit_transformer(data, config, checkpoints, resume)
    else:
        from skillmap.filter.embedding_filter import EmbeddingLogisticFilter

        model = EmbeddingLogisticFilter(config.encoder).fit(
            data.train_texts, data.train_labels, show_progress=True)
    seconds = time.perf_counter() - started
    scores = model.predict_proba(data.heldout_texts)
    calibration = calibrate(scores, data.heldout_labels, config.target)
    model.threshold = calibration.threshold
    model.card = {"name": name or f"skillmap/{out.name}", "training": config.to_dict(),
                  "data": data.counts, "calibration": calibration.to_dict(),
                  "heldout": classification_report(scores, data.heldout_labels,
                                                   calibration.threshold),
                  "training_seconds": round(seconds, 1)}
    model.save(out)
    if checkpoints is not None:
        shutil.rmtree(checkpoints, ignore_errors=True)
    return model


def _fit_transformer(data: FilterData, config: FilterTrainingConfig, checkpoints: Path,
                     resume: bool):
    import torch
    from transformers import (DataCollatorWithPadding, EarlyStoppingCallback, Trainer,
                              TrainingArguments)
    from transformers.utils import logging as hf_logging

    from skillmap.filter.transformer_filter import TransformerFilter

    if any(checkpoints.iterdir()) and not resume:
        raise SkillmapError(f"{checkpoints} holds an interrupted training run: pass --resume to "
                            "continue it, or delete that folder to start over")
    model = TransformerFilter.build(config.backbone, config.backbone_mode,
                                    max_length=config.max_length, seed=config.seed,
                                    backbone_layers=config.backbone_layers)
    tokenizer = model.tokenizer

    def encode(texts: list[str], labels: list[int]) -> list[dict]:
        encoded = tokenizer(texts, truncation=True, max_length=config.max_length)
        return [{**{key: values[i] for key, values in encoded.items()}, "labels": labels[i]}
                for i in range(len(texts))]

    gpu = torch.cuda.is_available()
    lr = config.learning_rate or (5e-4 if config.backbone_mode == "lora" else 3e-5)
    args = TrainingArguments(
        output_dir=str(checkpoints), per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=2 * config.batch_size, learning_rate=lr,
        num_train_epochs=config.epochs, max_steps=config.max_steps or -1, warmup_steps=0.06,
        weight_decay=0.01, eval_strategy="steps", eval_steps=config.eval_every,
        save_strategy="steps", save_steps=config.eval_every, save_total_limit=2,
        load_best_model_at_end=True, metric_for_best_model="eval_loss", greater_is_better=False,
        logging_steps=max(config.eval_every // 4, 1), seed=config.seed, data_seed=config.seed,
        report_to="none", use_cpu=not gpu, fp16=gpu, dataloader_num_workers=0)
    hf_logging.set_verbosity_warning()
    trainer = Trainer(model=model.model, args=args,
                      train_dataset=encode(data.train_texts, data.train_labels),
                      eval_dataset=encode(data.heldout_texts, data.heldout_labels),
                      data_collator=DataCollatorWithPadding(tokenizer), processing_class=tokenizer,
                      callbacks=[EarlyStoppingCallback(early_stopping_patience=config.patience)])
    has_checkpoint = resume and any(checkpoints.glob("checkpoint-*"))
    trainer.train(resume_from_checkpoint=True if has_checkpoint else None)
    model.model = trainer.model
    return model


def recalibrate_filter(model: SentenceFilter, texts: Sequence[str], labels: Sequence[int],
                       target: str, source: str) -> SentenceFilter:
    """Choose ``model``'s threshold again, for ``target``, on other labelled sentences.

    Why: a filter trained on offline template sentences separates its own held-out split
    almost perfectly, so every threshold looks right there. Sentences written by an LLM read
    like real ads, and a threshold chosen on them is closer to the one real ads need. The
    weights are untouched; the card keeps the earlier calibrations (``source`` names the data).
    """
    scores = model.predict_proba(list(texts))
    calibration = calibrate(scores, labels, target)
    card = dict(model.card)
    card["earlier_calibrations"] = [*card.get("earlier_calibrations", []),
                                    {"threshold": model.threshold,
                                     "calibration": card.get("calibration")}]
    card["calibration"] = {**calibration.to_dict(), "on": source,
                           "report": classification_report(scores, labels,
                                                           calibration.threshold)}
    model.threshold, model.card = calibration.threshold, card
    return model
