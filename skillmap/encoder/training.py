"""Contrastive training of the skillmap encoder on a synthetic corpus, on
sentence-transformers' ``SentenceTransformerTrainer``.

Each training example is a corpus sentence and the ids of the skills it requires. It becomes
one row: the sentence, its positive (one of its gold skills, drawn once per epoch of rows) and
one *hard negative*, a skill from the positive's Level-2 group — the confusable neighbours
retrieval must tell apart — or, with ``mined_negatives``, one the encoder itself ranks near
the sentence before training. A batch of ``B`` rows scores each sentence against all ``2B``
skill texts with the multi-positive InfoNCE of :mod:`skillmap.encoder.losses` (a candidate
that is another gold skill of the sentence is never a negative), or its gradient-cached
variant for batches of hundreds on a CPU. Sentences and skills share one encoder.

The backbone can be ``frozen`` (only the pooling head learns: cheap, the CPU default),
``full`` (everything learns) or adapted with ``lora`` (peft; small trained part). The library
trainer does the rest: the optimizer schedule, evaluation of the held-out loss every
``eval_every`` steps, early stopping on it, checkpoints (``OUT.checkpoint/checkpoint-N``) and
resuming from the last one, and restoring the best weights at the end.

A checkpoint is the library's: the optimizer, schedule and random states as torch files that
transformers reads back with ``torch.load(weights_only=True)`` (PyTorch's restricted
unpickler, which loads tensors and plain containers and refuses code), and the model as one
safetensors file of the training model's state (:class:`_Trainer` explains why).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import pickle
import random
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import torch
from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
from transformers import EarlyStoppingCallback, TrainerCallback

from skillmap.corpus import in_heldout, read_corpus
from skillmap.encoder.architecture import BACKBONE_MODES, EncoderConfig, build_encoder
from skillmap.encoder.bundle import load_trained_parts
from skillmap.encoder.losses import LOSSES, label_row
from skillmap.errors import SkillmapError, exception_line
from skillmap.io import atomic_directory, atomic_write, check_replaceable_directory, lock_folder
from skillmap.taxonomy import Taxonomy
from skillmap.taxonomy.skill_text import skill_text

# the model in a checkpoint folder (the rest of the folder is the library's)
CHECKPOINT_MODEL_FILE = "training_model.safetensors"
# what the hand-written loop of earlier skillmap versions left in OUT.checkpoint/
OLD_CHECKPOINT_FILES = ("trainer_state.safetensors", "trainer_state.pt")
# what a checkpoint folder's run was: resuming it with other data or settings would finish
# the old run and save it under the new command's name
RUN_FILE = "skillmap_run.json"
# settings a resumed run may change: how long it runs and how often it evaluates
RESUMABLE_SETTINGS = ("epochs", "max_steps", "eval_every", "patience", "mini_batch_size")
# the card written beside a trained model
CARD_FILE = "skillmap_card.json"


@dataclass
class TrainingConfig:
    """How to train (recorded in the model card)."""

    epochs: int = 1
    max_steps: int | None = None
    batch_size: int = 32
    learning_rate: float = 3e-5          # backbone (lora / full)
    head_learning_rate: float = 1e-3     # BiLSTM and attention pooling
    temperature: float = 0.05
    loss: str = "multi-positive"         # or "cached-multi-positive" (see losses.LOSSES)
    mini_batch_size: int = 32            # cached loss: rows embedded at a time
    late_interaction: bool = False       # also train the token-level scorer (late_interaction)
    hard_negatives: bool = True
    # > 0: draw each sentence's hard negative from the k skills the encoder ranks highest for
    # it before training (see ContrastiveTrainer._mine) instead of its positive's Level-2 group
    mined_negatives: int = 0
    mining_margin: float = 0.05          # a mined skill scores at most (1 - this) x the gold's
    skill_template: str = "{label}"
    backbone_mode: str = "frozen"
    lora_rank: int = 8
    heldout_fraction: float = 0.02
    eval_every: int = 200
    patience: int = 3
    seed: int = 0
    max_examples: int | None = None
    init_from: str | None = None         # a bundle whose trained parts training continues

    def __post_init__(self):
        if self.loss not in LOSSES:
            raise SkillmapError(f"unknown loss {self.loss!r} (choose from {', '.join(LOSSES)})")
        if self.backbone_mode not in BACKBONE_MODES:
            raise SkillmapError(f"unknown backbone mode {self.backbone_mode!r} (choose from "
                                f"{', '.join(BACKBONE_MODES)})")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Example:
    text: str
    skills: tuple[int, ...]  # positions in taxonomy.skills


@dataclass
class TrainingResult:
    steps: int
    best_heldout_loss: float
    history: list[dict] = field(default_factory=list)
    seconds: float = 0.0


def load_examples(corpus: str | Path | Sequence[str | Path], taxonomy: Taxonomy,
                  max_examples: int | None = None, seed: int = 0,
                  modes: tuple[str, ...] = ("single", "constrained")) -> list[Example]:
    """Skill sentences of ``modes`` (negatives are for the filter, not the encoder) from one
    corpus or several (template + LLM-written, say), in order."""
    corpora = [corpus] if isinstance(corpus, (str, Path)) else list(corpus)
    position = {skill.id: i for i, skill in enumerate(taxonomy.skills)}
    examples, unknown = [], 0
    for path in corpora:
        for record in read_corpus(path):
            if record.mode not in modes or record.mode == "negatives" or not record.skill_ids:
                continue
            skills = tuple(position[s] for s in record.skill_ids if s in position)
            unknown += len(record.skill_ids) - len(skills)
            if skills:
                examples.append(Example(record.text, skills))
    if not examples:
        names = ", ".join(str(path) for path in corpora)
        raise SkillmapError(f"{names}: no skill sentences of this taxonomy to train on"
                            + (f" ({unknown} skill ids are not in it)" if unknown else ""))
    if max_examples is not None and len(examples) > max_examples:
        examples = random.Random(seed).sample(examples, max_examples)
    return examples


def split_heldout(examples: list[Example], fraction: float) -> tuple[list[Example], list[Example]]:
    """A stable split by sentence hash (the same sentence is always on the same side)."""
    train = [e for e in examples if not in_heldout(e.text, fraction)]
    heldout = [e for e in examples if in_heldout(e.text, fraction)]
    return train, heldout



class ContrastiveTrainer:
    """Trains a SentenceTransformer built by :func:`build_encoder` (fit/save)."""

    def __init__(self, taxonomy: Taxonomy, encoder_config: EncoderConfig = EncoderConfig(),
                 config: TrainingConfig = TrainingConfig(), device: str | None = None):
        self.taxonomy = taxonomy
        self.encoder_config = encoder_config
        self.config = config
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        torch.manual_seed(config.seed)
        self.model = build_encoder(encoder_config, device=self.device)
        self._prepare_backbone()
        self.skill_texts = [skill_text(s, config.skill_template) for s in taxonomy.skills]
        self.group_members = self._level2_members()
        self.mined: dict[tuple[str, tuple[int, ...]], list[int]] = {}
        self.loss = self._loss()

    # ------------------------------------------------------------------ setup
    def _prepare_backbone(self) -> None:
        """Freeze the backbone or attach a LoRA adapter: a fresh one, or with ``init_from``
        the adapter (and head) of an earlier bundle, to continue its training on new data."""
        backbone = self.model[0]
        mode = self.config.backbone_mode
        if self.config.init_from and mode != "lora":
            raise SkillmapError("continuing a bundle's training (--init) needs --backbone-mode "
                                "lora, the mode bundles are trained in")
        if mode == "frozen":
            for parameter in backbone.parameters():
                parameter.requires_grad = False
        elif mode == "lora":
            try:
                from peft import LoraConfig, get_peft_model
            except ImportError:
                raise SkillmapError("--backbone-mode lora needs peft (pip install peft)") from None
            if self.config.init_from:
                load_trained_parts(self.model, self.config.init_from,
                                   self.encoder_config.backbone)
                return
            lora = LoraConfig(r=self.config.lora_rank, lora_alpha=2 * self.config.lora_rank,
                              target_modules=lora_targets(backbone.model), lora_dropout=0.0)
            backbone.model = get_peft_model(backbone.model, lora)

    def _level2_members(self) -> dict[int, list[int]]:
        """Per skill position, the positions of the skills sharing its Level-2 group."""
        by_group: dict[str, list[int]] = {}
        group_of: dict[int, str] = {}
        for i, skill in enumerate(self.taxonomy.skills):
            group = self.taxonomy.level2(skill.id)
            if group is not None:
                by_group.setdefault(group.id, []).append(i)
                group_of[i] = group.id
        return {i: by_group[g] for i, g in group_of.items()}

    def _loss(self) -> torch.nn.Module:
        config = self.config
        if config.late_interaction:
            from skillmap.encoder.late_interaction import LateInteractionRankingLoss

            return LateInteractionRankingLoss(self.model, temperature=config.temperature
                                              ).to(self.device)
        options = {"mini_batch_size": config.mini_batch_size} if config.loss.startswith(
            "cached") else {}
        return LOSSES[config.loss](self.model, temperature=config.temperature, **options)

    def _optimizer(self) -> torch.optim.Optimizer:
        """AdamW with two learning rates: the pooling head (and a late-interaction scorer)
        learns fast, the backbone (LoRA or full) slowly."""
        backbone_ids = {id(p) for p in self.model[0].parameters()}
        head = [p for p in self.loss.parameters() if p.requires_grad and id(p) not in backbone_ids]
        body = [p for p in self.model[0].parameters() if p.requires_grad]
        groups = [{"params": head, "lr": self.config.head_learning_rate}]
        if body:
            groups.append({"params": body, "lr": self.config.learning_rate})
        if not any(g["params"] for g in groups):
            raise SkillmapError("nothing to train: mean pooling with a frozen backbone")
        return torch.optim.AdamW([g for g in groups if g["params"]], weight_decay=0.01)

    # ------------------------------------------------------------------ data
    def dataset(self, examples: list[Example], seed: int, copies: int = 1,
                shuffle: bool = False):
        """The rows the loss reads (see :mod:`skillmap.encoder.losses`): ``copies`` draws of
        a positive and a same-group hard negative per sentence, copy ``c`` seeded by
        ``(seed, c)`` so a resumed run sees the same rows.

        With ``shuffle`` each copy lists the sentences in its own seeded order. Training
        needs it: a run shorter than one pass takes the first rows, and corpora come in
        file order (one mode after another, template sentences before LLM-written ones),
        so without it a short run would never see the later modes or corpora."""
        from datasets import Dataset

        width = max(len(e.skills) for e in examples)
        rows: dict[str, list] = {"anchor": [], "positive": [], "label": []}
        if self.config.hard_negatives:
            rows["negative"] = []
            if self.config.mined_negatives:
                self._mine(examples)
        for copy in range(copies):
            rng = random.Random(seed * 1_000_003 + copy)
            order = rng.sample(examples, len(examples)) if shuffle else examples
            for example in order:
                positive = rng.choice(example.skills)
                candidates = [positive]
                if self.config.hard_negatives:
                    pool = self.mined.get((example.text, example.skills)) or [
                        s for s in self.group_members.get(positive, [])
                        if s not in example.skills]
                    candidates.append(rng.choice(pool) if pool
                                      else rng.randrange(len(self.skill_texts)))
                    rows["negative"].append(self.skill_texts[candidates[1]])
                rows["anchor"].append(example.text)
                rows["positive"].append(self.skill_texts[positive])
                rows["label"].append(label_row(candidates, example.skills, width))
        columns = ["anchor", "positive"] + (["negative"] if self.config.hard_negatives else [])
        return Dataset.from_dict({name: rows[name] for name in columns + ["label"]})

    @torch.no_grad()
    def _mine(self, examples: list[Example], progress: bool = False) -> None:
        """Fill ``self.mined``: per sentence, the skills the encoder confuses it with, as the
        encoder is before this run trains it (off the shelf, or the ``init_from`` bundle).

        A same-group negative is often easy (the group's other skills are about other
        things); the skills the encoder itself ranks near the top are the mistakes retrieval
        makes. Kept: the ``mined_negatives`` best skills that are not gold and score at most
        ``1 - mining_margin`` times the best gold skill. A skill scoring as high as the gold
        one is more often an unlabelled synonym than a mistake, and training it away would
        teach the encoder to separate what ESCO words twice. A sentence with no skill left
        falls back to the Level-2 group. (sentence-transformers' ``mine_hard_negatives``
        knows one positive per row; a sentence here has all its gold skills to leave out.)
        The skills are encoded once per call: :meth:`fit` mines every example in one call."""
        todo = list(dict.fromkeys((e.text, e.skills) for e in examples
                                  if (e.text, e.skills) not in self.mined))
        if not todo:
            return
        k, keep = self.config.mined_negatives, 1 - self.config.mining_margin
        self.model.eval()
        skills = self.model.encode(self.skill_texts, batch_size=64, convert_to_tensor=True,
                                   normalize_embeddings=True, show_progress_bar=progress)
        sentences = self.model.encode([text for text, _ in todo], batch_size=64,
                                      convert_to_tensor=True, normalize_embeddings=True,
                                      show_progress_bar=progress)
        for start in range(0, len(todo), 1024):
            scores = sentences[start:start + 1024] @ skills.T
            for row, (text, gold) in zip(scores, todo[start:start + 1024]):
                gold_positions = list(gold)
                allowed = row <= keep * row[gold_positions].max()
                allowed[gold_positions] = False
                top = torch.topk(row.masked_fill(~allowed, -math.inf), min(k, len(row)))
                self.mined[(text, gold)] = [int(i) for i, score in zip(top.indices, top.values)
                                            if score > -math.inf]

    # ------------------------------------------------------------------ library trainer
    def _trainer(self, output_dir: Path, train=None, heldout=None, max_steps: int = -1,
                 callbacks: list | None = None, progress: bool = False):
        from transformers.utils import logging as hf_logging

        config = self.config
        gpu = self.device.startswith("cuda")
        evaluate = heldout is not None and len(heldout) > 0
        args = SentenceTransformerTrainingArguments(
            output_dir=str(output_dir), per_device_train_batch_size=config.batch_size,
            per_device_eval_batch_size=config.batch_size, max_steps=max_steps,
            num_train_epochs=1, learning_rate=config.learning_rate, weight_decay=0.01,
            lr_scheduler_type="linear", warmup_steps=0.05, max_grad_norm=1.0,
            eval_strategy="steps" if evaluate else "no", eval_steps=config.eval_every,
            save_strategy="steps", save_steps=config.eval_every, save_total_limit=2,
            load_best_model_at_end=evaluate, metric_for_best_model="eval_loss",
            greater_is_better=False, logging_steps=max(1, config.eval_every // 4),
            seed=config.seed, data_seed=config.seed, report_to="none", use_cpu=not gpu,
            bf16=gpu and torch.cuda.is_bf16_supported(), dataloader_num_workers=0,
            disable_tqdm=not progress)
        hf_logging.set_verbosity_warning()
        callbacks = list(callbacks or [])
        if evaluate:
            callbacks.append(EarlyStoppingCallback(early_stopping_patience=config.patience))
        return _Trainer(model=self.model, args=args, train_dataset=train,
                             eval_dataset=heldout if evaluate else None, loss=self.loss,
                             callbacks=callbacks,
                             optimizers=(self._optimizer(), None) if train is not None
                             else (None, None))

    @torch.no_grad()
    def heldout_loss(self, heldout: list[Example]) -> float:
        """The loss the trainer evaluates, on ``heldout`` (rows drawn as in :meth:`fit`)."""
        with tempfile.TemporaryDirectory(prefix="skillmap-eval-") as tmp:
            trainer = self._trainer(Path(tmp), heldout=self.dataset(heldout,
                                                                    self.config.seed + 1))
            return float(trainer.evaluate()["eval_loss"])

    # ------------------------------------------------------------------ fit
    def fit(self, examples: list[Example], checkpoint_dir: Path | None = None,
            progress: bool = True, on_eval: Callable[[dict], None] | None = None
            ) -> TrainingResult:
        """Train; with ``checkpoint_dir``, resume from its last checkpoint if there is one."""
        config = self.config
        train, heldout = split_heldout(examples, config.heldout_fraction)
        if len(train) < config.batch_size:
            raise SkillmapError(f"only {len(train)} training sentences; need at least one "
                                f"batch ({config.batch_size})")
        steps_per_copy = len(train) // config.batch_size
        total = steps_per_copy * config.epochs
        if config.max_steps is not None:
            total = min(total, config.max_steps)
        copies = math.ceil(total / steps_per_copy)
        if config.hard_negatives and config.mined_negatives:
            self._mine(examples, progress)  # before the rows, with a progress bar
        rows = self.dataset(train, config.seed, copies, shuffle=True)
        rows = rows.select(range(total * config.batch_size))  # full batches only
        held = self.dataset(heldout, config.seed + 1) if heldout else None
        started = time.perf_counter()
        scratch = checkpoint_dir is None
        output = Path(tempfile.mkdtemp(prefix="skillmap-train-")) if scratch else checkpoint_dir
        lock = resume = None
        try:
            if not scratch:
                lock = lock_folder(output, "another training run is writing its checkpoints "
                                   "here; wait for it to finish, or choose another --out")
                resume = self._claim_checkpoints(output, examples)
            trainer = self._trainer(output, rows, held, max_steps=total, progress=progress,
                                    callbacks=[_EvalReport(on_eval, started)] if on_eval else [])
            try:
                trainer.train(resume_from_checkpoint=str(resume) if resume else None)
            except pickle.UnpicklingError as exc:  # torch.load(weights_only=True) refused it
                if resume is None:
                    raise
                raise SkillmapError(f"{resume}: unreadable training checkpoint "
                                    f"({exception_line(exc)}); delete {output} to train from "
                                    "scratch") from None
            state = trainer.state
        finally:
            if lock is not None:
                os.close(lock)  # releases it
            if scratch:
                shutil.rmtree(output, ignore_errors=True)
        self.model.eval()
        best = state.best_metric if state.best_metric is not None else float("nan")
        return TrainingResult(steps=state.global_step, best_heldout_loss=float(best),
                              history=_history(state.log_history),
                              seconds=round(time.perf_counter() - started, 1))

    def _claim_checkpoints(self, folder: Path, examples: list[Example]) -> Path | None:
        """The checkpoint to resume in ``folder``, if it is this run's; record this run there.

        A checkpoint of another run (other data, taxonomy, encoder or settings) is refused:
        the library would resume it, finish the old run and return its weights as this one's.
        """
        last = _last_checkpoint(folder)
        identity = self._run_identity(examples)
        record = folder / RUN_FILE
        if last is not None:
            try:
                recorded = json.loads(record.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                recorded = None
            if recorded != identity:
                changed = ("its record is missing" if not isinstance(recorded, dict) else
                           "other " + ", ".join(key for key in identity
                                                if recorded.get(key) != identity[key]))
                raise SkillmapError(f"{folder}: an unfinished training run with {changed}; "
                                    "rerun with its corpus and settings to resume it, or delete "
                                    "the folder to start afresh")
            return last
        check_replaceable_directory(folder, RUN_FILE)  # its files are removed after the run
        with atomic_write(record) as handle:
            json.dump(identity, handle, indent=2)
        return None

    def _run_identity(self, examples: list[Example]) -> dict:
        """What makes a run this run: data, taxonomy, encoder and every setting that changes
        the weights (not the ones that only say how long to train)."""
        digest = hashlib.sha256()
        for example in examples:
            digest.update(json.dumps([example.text, list(example.skills)]).encode("utf-8"))
        settings = {key: value for key, value in self.config.to_dict().items()
                    if key not in RESUMABLE_SETTINGS}
        return json.loads(json.dumps({
            "corpus": digest.hexdigest(), "taxonomy": self.taxonomy.fingerprint,
            "encoder": self.encoder_config.to_dict(), "settings": settings}))

    # ------------------------------------------------------------------ save
    def save(self, folder: str | Path, result: TrainingResult, card: dict,
             bundle: str | Path | None = None) -> Path:
        """A normal sentence-transformers directory plus ``skillmap_card.json``; with
        ``bundle``, also the small shippable parts (see :mod:`skillmap.encoder.bundle`).
        A late-interaction scorer, when trained, is a small JSON file in both."""
        folder = Path(folder)
        card = {**card, "encoder": self.encoder_config.to_dict(),
                "training": self.config.to_dict(), "steps": result.steps,
                "best_heldout_loss": result.best_heldout_loss, "history": result.history,
                "seconds": result.seconds}
        scorer = getattr(self.loss, "scorer", None)
        if bundle is not None:
            from skillmap.encoder.bundle import save_bundle

            save_bundle(self.model, bundle, self.encoder_config.backbone, card)
            if scorer is not None:
                scorer.save(bundle)
        if self.config.backbone_mode == "lora":
            backbone = self.model[0]
            backbone.model = backbone.model.merge_and_unload()
        with atomic_directory(folder, holds=CARD_FILE) as tmp:
            self.model.save(str(tmp))
            if scorer is not None:
                scorer.save(tmp)
            (tmp / CARD_FILE).write_text(json.dumps(card, indent=2), encoding="utf-8")
        return folder


def lora_targets(model: torch.nn.Module) -> list[str] | str:
    """LoRA's target modules: BERT's attention and dense layers by name, as the shipped
    default was trained; any other architecture (MPNet names them q, k, v, o): every linear
    layer (peft's "all-linear")."""
    names = {name.rsplit(".", 1)[-1] for name, module in model.named_modules()
             if isinstance(module, torch.nn.Linear)}
    if {"query", "key", "value"} <= names:
        return ["query", "key", "value", "dense"]
    return "all-linear"


def _last_checkpoint(folder: Path) -> Path | None:
    """The newest ``checkpoint-N`` the library trainer left in ``folder``, if any."""
    old = [name for name in OLD_CHECKPOINT_FILES if (folder / name).exists()]
    if old:
        raise SkillmapError(f"{folder / old[0]}: a checkpoint of an earlier skillmap trainer, "
                            "which this version cannot resume; delete it to train from scratch")
    from transformers.trainer_utils import get_last_checkpoint

    if not folder.is_dir():
        return None
    last = get_last_checkpoint(str(folder))
    return Path(last) if last else None


def _history(log_history: list[dict]) -> list[dict]:
    """One entry per evaluation: step, the last logged training loss, the held-out loss."""
    history, train_loss = [], None
    for entry in log_history:
        if "loss" in entry:
            train_loss = entry["loss"]
        if "eval_loss" in entry:
            history.append({"step": entry["step"],
                            "train_loss": None if train_loss is None else round(train_loss, 4),
                            "heldout_loss": round(entry["eval_loss"], 4)})
    return history


class _EvalReport(TrainerCallback):
    """Hands each evaluation to ``on_eval`` as it happens (the CLI prints it)."""

    def __init__(self, on_eval: Callable[[dict], None], started: float):
        self.on_eval, self.started = on_eval, started

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        if metrics and "eval_loss" in metrics:
            entry = _history([*state.log_history, {"eval_loss": metrics["eval_loss"],
                                                   "step": state.global_step}])[-1]
            self.on_eval({**entry, "seconds": round(time.perf_counter() - self.started, 1)})


class _Trainer(SentenceTransformerTrainer):
    """``SentenceTransformerTrainer`` whose checkpoints hold the model as one safetensors
    state dict of the *training* model.

    The library saves a checkpoint's model as a model folder and loads it back by rebuilding
    a SentenceTransformer from that folder. For a LoRA backbone that folder holds the adapter
    alone, and it comes back as another module layout (transformers' adapter integration
    instead of the peft wrapper being trained), so its weights do not load into the model
    being trained; skillmap's own modules would also need remote-code loading. A state dict
    of the training model round-trips for every backbone mode and module, with no pickle, and
    carries the late-interaction scorer's temperature when there is one. (``_save`` and
    ``_load_from_checkpoint`` are where transformers' Trainer writes and reads a checkpoint's
    model; sentence-transformers overrides the same two.)
    """

    def _save(self, output_dir: str | None = None, state_dict=None) -> None:
        from safetensors.torch import save_file

        folder = Path(output_dir or self.args.output_dir)
        folder.mkdir(parents=True, exist_ok=True)
        tensors = {f"model.{k}": v for k, v in self.model.state_dict().items()}
        tensors.update({f"loss.{k}": v for k, v in self.loss.state_dict().items()
                        if not k.startswith("model.")})
        save_file({k: v.detach().cpu().contiguous().clone() for k, v in tensors.items()},
                  str(folder / CHECKPOINT_MODEL_FILE))

    def _load_from_checkpoint(self, checkpoint_path: str, model=None) -> None:
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        path = Path(checkpoint_path) / CHECKPOINT_MODEL_FILE
        try:
            tensors = load_file(str(path))
            self.model.load_state_dict({k[6:]: v for k, v in tensors.items()
                                        if k.startswith("model.")})
        except (OSError, SafetensorError, RuntimeError) as exc:
            raise SkillmapError(f"{path}: unreadable training checkpoint "
                                f"({str(exc).splitlines()[0] if str(exc) else exc!r}); delete "
                                f"{Path(checkpoint_path).parent} to train from scratch") from None
        loss_state = {k[5:]: v for k, v in tensors.items() if k.startswith("loss.")}
        if loss_state:
            self.loss.load_state_dict(loss_state, strict=False)
