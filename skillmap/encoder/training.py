"""Contrastive training of the skillmap encoder on a synthetic corpus.

Each training example is a corpus sentence and the ids of the skills it requires. A batch of
``B`` sentences is scored against ``2B`` skill texts: each sentence's positive (one of its gold
skills, drawn per epoch) and one *hard negative* per sentence, a skill from the same Level-2
group as the positive — the confusable neighbours retrieval must tell apart. The loss is
InfoNCE over that candidate set with a multi-positive mask: a candidate that is another gold
skill of the sentence is never treated as a negative. Sentences and skills share one encoder.

The backbone can be ``frozen`` (only the pooling head learns: cheap, the CPU default),
``full`` (everything learns) or adapted with ``lora`` (peft; small trained part). A held-out
slice of the corpus gives early stopping; checkpoints make a run resumable.
"""

from __future__ import annotations

import json
import math
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import torch
from tqdm.auto import tqdm

from skillmap.encoder.architecture import EncoderConfig, build_encoder
from skillmap.errors import SkillmapError
from skillmap.generation.corpus import in_heldout, read_corpus
from skillmap.index.skill_text import skill_text
from skillmap.io import atomic_write
from skillmap.taxonomy import Taxonomy

BACKBONE_MODES = ("frozen", "lora", "full")
# A resumable checkpoint is one safetensors file: the model's and the optimizer's tensors, and
# everything else (optimizer hyper-parameters, schedule, progress) as JSON in its header. No
# pickle: a checkpoint folder someone hands you cannot run code when training resumes.
CHECKPOINT_FILE = "trainer_state.safetensors"
CHECKPOINT_FORMAT = 1
LEGACY_CHECKPOINT_FILE = "trainer_state.pt"  # torch.save (pickle), written before format 1


@dataclass
class TrainingConfig:
    """How to train (recorded in the model card)."""

    epochs: int = 1
    max_steps: int | None = None
    batch_size: int = 32
    learning_rate: float = 3e-5          # backbone (lora / full)
    head_learning_rate: float = 1e-3     # BiLSTM and attention pooling
    temperature: float = 0.05
    hard_negatives: bool = True
    skill_template: str = "{label}"
    backbone_mode: str = "frozen"
    lora_rank: int = 8
    heldout_fraction: float = 0.02
    eval_every: int = 200
    patience: int = 3
    seed: int = 0
    max_examples: int | None = None

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


def load_examples(corpus: str | Path, taxonomy: Taxonomy, max_examples: int | None = None,
                  seed: int = 0, modes: tuple[str, ...] = ("single", "constrained")
                  ) -> list[Example]:
    """Skill sentences of ``modes`` (negatives are for the filter, not the encoder)."""
    position = {skill.id: i for i, skill in enumerate(taxonomy.skills)}
    examples, unknown = [], 0
    for record in read_corpus(corpus):
        if record.mode not in modes or record.mode == "negatives" or not record.skill_ids:
            continue
        skills = tuple(position[s] for s in record.skill_ids if s in position)
        unknown += len(record.skill_ids) - len(skills)
        if skills:
            examples.append(Example(record.text, skills))
    if not examples:
        raise SkillmapError(f"{corpus}: no skill sentences of this taxonomy to train on"
                            + (f" ({unknown} skill ids are not in it)" if unknown else ""))
    if max_examples is not None and len(examples) > max_examples:
        examples = random.Random(seed).sample(examples, max_examples)
    return examples


def split_heldout(examples: list[Example], fraction: float) -> tuple[list[Example], list[Example]]:
    """A stable split by sentence hash (the same sentence is always on the same side)."""
    train = [e for e in examples if not in_heldout(e.text, fraction)]
    heldout = [e for e in examples if in_heldout(e.text, fraction)]
    return train, heldout


def multi_positive_mask(batch: list[Example], candidates: list[int]) -> torch.Tensor:
    """``mask[i, j]`` is True where candidate ``j`` is a gold skill of sentence ``i`` other
    than its own positive (column ``i``): such a candidate must not count as a negative."""
    mask = torch.zeros((len(batch), len(candidates)), dtype=torch.bool)
    for i, example in enumerate(batch):
        gold = set(example.skills)
        for j, candidate in enumerate(candidates):
            if j != i and candidate in gold:
                mask[i, j] = True
    return mask


class ContrastiveTrainer:
    """Trains a SentenceTransformer built by :func:`build_encoder` (fit/save)."""

    def __init__(self, taxonomy: Taxonomy, encoder_config: EncoderConfig = EncoderConfig(),
                 config: TrainingConfig = TrainingConfig(), device: str | None = None):
        if config.backbone_mode not in BACKBONE_MODES:
            raise SkillmapError(f"unknown backbone mode {config.backbone_mode!r} (choose from "
                                f"{', '.join(BACKBONE_MODES)})")
        self.taxonomy = taxonomy
        self.encoder_config = encoder_config
        self.config = config
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        torch.manual_seed(config.seed)
        self.model = build_encoder(encoder_config, device=self.device)
        self._prepare_backbone()
        self.skill_texts = [skill_text(s, config.skill_template) for s in taxonomy.skills]
        self.group_members = self._level2_members()

    # ------------------------------------------------------------------ setup
    def _prepare_backbone(self) -> None:
        backbone = self.model[0]
        mode = self.config.backbone_mode
        if mode == "frozen":
            for parameter in backbone.parameters():
                parameter.requires_grad = False
        elif mode == "lora":
            try:
                from peft import LoraConfig, get_peft_model
            except ImportError:
                raise SkillmapError("--backbone-mode lora needs peft (pip install peft)") from None
            lora = LoraConfig(r=self.config.lora_rank, lora_alpha=2 * self.config.lora_rank,
                              target_modules=["query", "key", "value", "dense"],
                              lora_dropout=0.0)
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

    def _optimizer(self) -> torch.optim.Optimizer:
        backbone_ids = {id(p) for p in self.model[0].parameters()}
        head = [p for p in self.model.parameters() if p.requires_grad and id(p) not in backbone_ids]
        body = [p for p in self.model[0].parameters() if p.requires_grad]
        groups = [{"params": head, "lr": self.config.head_learning_rate}]
        if body:
            groups.append({"params": body, "lr": self.config.learning_rate})
        if not any(g["params"] for g in groups):
            raise SkillmapError("nothing to train: mean pooling with a frozen backbone")
        return torch.optim.AdamW([g for g in groups if g["params"]], weight_decay=0.01)

    # ------------------------------------------------------------------ loss
    def _embed(self, texts: list[str]) -> torch.Tensor:
        features = self.model.preprocess(texts)
        features = {k: v.to(self.device) if isinstance(v, torch.Tensor) else v
                    for k, v in features.items()}
        return self.model(features)["sentence_embedding"]

    def batch_loss(self, batch: list[Example], rng: random.Random) -> torch.Tensor:
        """Multi-positive InfoNCE of a batch (see the module docstring)."""
        positives = [rng.choice(example.skills) for example in batch]
        candidates = list(positives)
        if self.config.hard_negatives:
            for example, positive in zip(batch, positives):
                pool = self.group_members.get(positive, [])
                choices = [s for s in pool if s not in example.skills]
                candidates.append(rng.choice(choices) if choices
                                  else rng.randrange(len(self.skill_texts)))
        sentences = self._embed([e.text for e in batch])
        skills = self._embed([self.skill_texts[c] for c in candidates])
        logits = sentences @ skills.T / self.config.temperature
        mask = multi_positive_mask(batch, candidates).to(logits.device)
        logits = logits.masked_fill(mask, torch.finfo(logits.dtype).min)
        target = torch.arange(len(batch), device=logits.device)
        return torch.nn.functional.cross_entropy(logits, target)

    @torch.no_grad()
    def heldout_loss(self, heldout: list[Example]) -> float:
        self.model.eval()
        rng = random.Random(self.config.seed + 1)  # the same negatives at every evaluation
        size = self.config.batch_size
        losses = [self.batch_loss(heldout[i:i + size], rng).item()
                  for i in range(0, len(heldout) - size + 1, size)]
        self.model.train()
        return sum(losses) / len(losses) if losses else float("nan")

    # ------------------------------------------------------------------ fit
    def fit(self, examples: list[Example], checkpoint_dir: Path | None = None,
            progress: bool = True, on_eval: Callable[[dict], None] | None = None
            ) -> TrainingResult:
        config = self.config
        train, heldout = split_heldout(examples, config.heldout_fraction)
        if len(train) < config.batch_size:
            raise SkillmapError(f"only {len(train)} training sentences; need at least one "
                                f"batch ({config.batch_size})")
        steps_per_epoch = len(train) // config.batch_size
        total = steps_per_epoch * config.epochs
        if config.max_steps is not None:
            total = min(total, config.max_steps)
        optimizer = self._optimizer()
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: min(1.0, (step + 1) / max(1, total // 20)) *
            max(0.0, (total - step) / total))
        state = {"step": 0, "best": math.inf, "bad_evals": 0, "history": []}
        saved = read_checkpoint(checkpoint_dir) if checkpoint_dir is not None else None
        if saved is not None:
            self.model.load_state_dict(saved["model"])
            optimizer.load_state_dict(saved["optimizer"])
            schedule.load_state_dict(saved["schedule"])
            state = saved["state"]
        best_weights = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        use_amp = self.device.startswith("cuda")
        started = time.perf_counter() - state.get("elapsed", 0.0)  # resumed runs add up
        self.model.train()
        bar = tqdm(total=total, initial=state["step"], desc="training", unit="step",
                   disable=not progress)
        while state["step"] < total:
            epoch = state["step"] // steps_per_epoch
            order = list(range(len(train)))
            random.Random(config.seed * 1000 + epoch).shuffle(order)
            offset = state["step"] % steps_per_epoch
            for b in range(offset, steps_per_epoch):
                if state["step"] >= total:
                    break
                batch = [train[i] for i in order[b * config.batch_size:(b + 1) * config.batch_size]]
                rng = random.Random(config.seed * 1_000_003 + state["step"])
                with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=use_amp):
                    loss = self.batch_loss(batch, rng)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
                optimizer.step()
                schedule.step()
                state["step"] += 1
                bar.update(1)
                bar.set_postfix(loss=f"{loss.item():.3f}")
                if state["step"] % config.eval_every == 0 or state["step"] == total:
                    held = self.heldout_loss(heldout) if heldout else loss.item()
                    entry = {"step": state["step"], "train_loss": round(loss.item(), 4),
                             "heldout_loss": round(held, 4),
                             "seconds": round(time.perf_counter() - started, 1)}
                    state["history"].append(entry)
                    if on_eval:
                        on_eval(entry)
                    if held < state["best"]:
                        state["best"], state["bad_evals"] = held, 0
                        best_weights = {k: v.detach().clone()
                                        for k, v in self.model.state_dict().items()}
                    else:
                        state["bad_evals"] += 1
                    state["elapsed"] = time.perf_counter() - started
                    if checkpoint_dir is not None:
                        self._checkpoint(checkpoint_dir, optimizer, schedule, state)
                    if state["bad_evals"] >= config.patience:
                        total = state["step"]  # early stop
                        break
        bar.close()
        self.model.load_state_dict(best_weights)
        self.model.eval()
        return TrainingResult(steps=state["step"], best_heldout_loss=state["best"],
                              history=state["history"],
                              seconds=round(time.perf_counter() - started, 1))

    def _checkpoint(self, folder: Path, optimizer, schedule, state: dict) -> None:
        write_checkpoint(folder, {"model": self.model.state_dict(),
                                  "optimizer": optimizer.state_dict(),
                                  "schedule": schedule.state_dict(), "state": state})

    # ------------------------------------------------------------------ save
    def save(self, folder: str | Path, result: TrainingResult, card: dict,
             bundle: str | Path | None = None) -> Path:
        """A normal sentence-transformers directory plus ``skillmap_card.json``; with
        ``bundle``, also the small shippable parts (see :mod:`skillmap.encoder.bundle`)."""
        folder = Path(folder)
        card = {**card, "encoder": self.encoder_config.to_dict(),
                "training": self.config.to_dict(), "steps": result.steps,
                "best_heldout_loss": result.best_heldout_loss, "history": result.history,
                "seconds": result.seconds}
        if bundle is not None:
            from skillmap.encoder.bundle import save_bundle

            save_bundle(self.model, bundle, self.encoder_config.backbone, card)
        if self.config.backbone_mode == "lora":
            backbone = self.model[0]
            backbone.model = backbone.model.merge_and_unload()
        self.model.save(str(folder))
        with atomic_write(folder / "skillmap_card.json") as handle:
            json.dump(card, handle, indent=2)
        return folder


# --------------------------------------------------------------------------- checkpoints
def write_checkpoint(folder: Path, checkpoint: dict) -> Path:
    """Write ``{"model", "optimizer", "schedule", "state"}`` as one safetensors file
    (atomically: a crash leaves the previous checkpoint)."""
    import os
    import tempfile

    from safetensors.torch import save_file

    tensors: dict[str, torch.Tensor] = {}
    for key, value in checkpoint["model"].items():
        tensors[f"model/{key}"] = value.detach().cpu().contiguous().clone()
    optimizer = checkpoint["optimizer"]
    scalars: dict[str, dict] = {}
    for param, entries in optimizer["state"].items():
        for name, value in entries.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optimizer/{param}/{name}"] = value.detach().cpu().contiguous().clone()
            else:
                scalars.setdefault(str(param), {})[name] = value
    header = {"format": CHECKPOINT_FORMAT, "param_groups": optimizer["param_groups"],
              "optimizer_scalars": scalars, "schedule": checkpoint["schedule"],
              "state": checkpoint["state"]}
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{CHECKPOINT_FILE}.", suffix=".tmp", dir=folder)
    os.close(fd)
    try:
        save_file(tensors, tmp, metadata={"skillmap": json.dumps(header)})
        os.replace(tmp, folder / CHECKPOINT_FILE)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return folder / CHECKPOINT_FILE


def read_checkpoint(folder: Path, allow_pickle: bool | None = None) -> dict | None:
    """The checkpoint :func:`write_checkpoint` wrote in ``folder``, or None if there is none.

    A ``trainer_state.pt`` of an older skillmap is pickle: it is refused unless the user opts
    in (:mod:`skillmap.security`), and then read with ``weights_only=True``.
    """
    from safetensors import SafetensorError, safe_open

    from skillmap.security import OPT_IN, pickle_allowed

    path = folder / CHECKPOINT_FILE
    if not path.is_file():
        legacy = folder / LEGACY_CHECKPOINT_FILE
        if not legacy.is_file():
            return None
        if not pickle_allowed(allow_pickle):
            raise SkillmapError(f"{legacy}: a pickle checkpoint (from an older skillmap), which "
                                "can run code when loaded; delete it to train from scratch, or "
                                f"opt in to resume from it ({OPT_IN})")
        try:
            return torch.load(legacy, weights_only=True)
        except Exception as exc:  # an UnpicklingError for anything but tensors and containers
            raise SkillmapError(f"{legacy}: refused ({type(exc).__name__}: "
                                f"{str(exc).strip().splitlines()[0] if str(exc).strip() else ''})"
                                ) from None
    try:
        with safe_open(str(path), framework="pt", device="cpu") as handle:
            header = json.loads((handle.metadata() or {})["skillmap"])
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}
        if header.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(f"format {header.get('format')!r}")
        model = {k.split("/", 1)[1]: v for k, v in tensors.items() if k.startswith("model/")}
        state: dict[int, dict] = {}
        for param, entries in header["optimizer_scalars"].items():
            state.setdefault(int(param), {}).update(entries)
        for key, value in tensors.items():
            if key.startswith("optimizer/"):
                _, param, name = key.split("/", 2)
                state.setdefault(int(param), {})[name] = value
        groups = header["param_groups"]
        for group in groups:
            if isinstance(group.get("betas"), list):
                group["betas"] = tuple(group["betas"])
        return {"model": model, "optimizer": {"state": state, "param_groups": groups},
                "schedule": header["schedule"], "state": header["state"]}
    except (OSError, ValueError, KeyError, TypeError, AttributeError, SafetensorError) as exc:
        raise SkillmapError(f"{path}: unreadable training checkpoint ({exc}); delete it to "
                            "train from scratch") from None
