"""Distil an ensemble teacher (the shipped encoder + EmbeddingGemma) into the MiniLM default.

    python benchmarks/distill_ensemble.py sentences --out WORK/sentences.jsonl [--llm N]
    python benchmarks/distill_ensemble.py teach --work WORK --index INDEX --teacher EG_FOLDER
    python benchmarks/distill_ensemble.py train --work WORK --index INDEX --out M --bundle B

docs/benchmarks.md §5.15 found one lever that lifts HOUSE: the shipped weights' skill cosines
mixed with EmbeddingGemma-300M's, ``(1 - W) x shipped + W x EmbeddingGemma``. EmbeddingGemma
runs at a twenty-fifth of the default's speed, so the mix is used here as a *teacher*: the
student (the shipped bundle, trained further with ``--init``) learns to reproduce the mixed
scores, and keeps MiniLM's speed. Distillation needs no labels, so the sentences are real ad
segments (the unlabelled ``train_postings.jsonl``, never the evaluation postings) and a sample
of the LLM corpus.

The loss is listwise KL: a batch of B sentences is scored against the union of each
sentence's top-k teacher skills (hard candidates, in-batch for the others); teacher and student
distributions over those candidates are softmaxes at one temperature. Every teacher score
comes from vectors encoded once (``teach``), so a training step costs what a contrastive step
costs. An experiment, not a shipped method: kept to reproduce docs/benchmarks.md §5.17.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import shutil
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from skillmap.io import atomic_write  # noqa: E402

LLM_FILES = ("esco_llm_constrained", "esco_llm_unconstrained", "esco_llm_single")


def collect_sentences(args) -> None:
    """Real ad segments (content kinds only) and ``--llm`` corpus sentences, deduplicated."""
    from skillmap.segmentation import CONTENT_KINDS, segment_ad

    texts: dict[str, str] = {}
    with open(args.shared / "skillspan" / "train_postings.jsonl", encoding="utf-8") as handle:
        for line in handle:
            posting = json.loads(line)
            for part in segment_ad("\n".join(posting["lines"])):
                if part.kind in CONTENT_KINDS and len(part.text.split()) >= 3:
                    texts.setdefault(part.text, "posting")
    llm = []
    for name in LLM_FILES:
        with gzip.open(args.corpora / f"{name}.jsonl.gz", "rt", encoding="utf-8") as handle:
            llm += [json.loads(line)["text"] for line in handle]
    llm = [text for text in dict.fromkeys(llm) if text not in texts]
    for text in random.Random(0).sample(llm, min(args.llm, len(llm))):
        texts[text] = "llm"
    with atomic_write(args.out) as handle:
        for text, source in texts.items():
            handle.write(json.dumps({"text": text, "source": source}) + "\n")
    print(f"{len(texts)} sentences ({sum(s == 'posting' for s in texts.values())} from "
          f"postings) -> {args.out}", file=sys.stderr)


def _sentences(work: Path) -> list[str]:
    with open(work / "sentences.jsonl", encoding="utf-8") as handle:
        return [json.loads(line)["text"] for line in handle]


def teach(args) -> None:
    """Both teachers' sentence vectors, in chunks (a killed run resumes at its last chunk)."""
    from sentence_transformers import SentenceTransformer
    from tqdm import tqdm

    from skillmap.encoder import SkillEncoder
    from skillmap.index import SkillIndex

    texts = _sentences(args.work)
    index = SkillIndex.load(args.index)
    shipped = SkillEncoder.cached(index.recorded_model())
    with atomic_write(args.work / "shipped.npy", "wb") as handle:
        np.save(handle, np.asarray(shipped.encode(texts), dtype=np.float32))
    model = SentenceTransformer(str(args.teacher), device="cpu")
    chunks = args.work / "teacher-chunks"
    chunks.mkdir(exist_ok=True)
    size = 256
    for start in tqdm(range(0, len(texts), size), desc="teacher", unit="chunk"):
        path = chunks / f"{start:07d}.npy"
        if path.exists():
            continue
        vectors = model.encode(texts[start:start + size], prompt_name="query", batch_size=32,
                               normalize_embeddings=True, show_progress_bar=False)
        with atomic_write(path, "wb") as handle:
            np.save(handle, vectors.astype(np.float32))
    parts = [np.load(chunks / f"{start:07d}.npy") for start in range(0, len(texts), size)]
    with atomic_write(args.work / "teacher.npy", "wb") as handle:
        np.save(handle, np.concatenate(parts))


class ListwiseDistillationLoss(nn.Module):
    """KL(teacher || student) over each sentence's candidates: the batch's union of every
    sentence's top teacher skills. ``labels`` carry the row's sentence number and its
    candidate skill positions; the teacher's scores are looked up, not encoded."""

    def __init__(self, model, teacher_scores, temperature: float = 0.05):
        super().__init__()
        self.model = model
        self.teacher_scores = teacher_scores  # (sentence numbers, skill positions) -> scores
        self.temperature = temperature

    def forward(self, sentence_features, labels):
        features = list(sentence_features)
        sentences = self.model(features[0])["sentence_embedding"]
        skills = torch.cat([self.model(f)["sentence_embedding"] for f in features[1:]])
        # columns are ordered candidate slot by slot (all rows' first candidate, then ...)
        positions = labels[:, 1:].T.reshape(-1)
        keep = torch.ones(len(positions), dtype=torch.bool)
        seen = set()
        for j, p in enumerate(positions.tolist()):  # a skill twice in the batch counts once
            keep[j] = p not in seen
            seen.add(p)
        skills, positions = skills[keep], positions[keep]
        teacher = self.teacher_scores(labels[:, 0], positions).to(sentences.device)
        student = sentences @ skills.T
        target = torch.softmax(teacher / self.temperature, dim=1)
        log_student = torch.log_softmax(student / self.temperature, dim=1)
        return nn.functional.kl_div(log_student, target, reduction="batchmean")


def train(args) -> None:
    """Continue the shipped bundle (LoRA + attention pooling) on the distillation loss."""
    from datasets import Dataset

    from skillmap.encoder.architecture import EncoderConfig
    from skillmap.encoder.training import ContrastiveTrainer, TrainingConfig, TrainingResult
    from skillmap.index import SkillIndex
    from skillmap.taxonomy.skill_text import skill_text

    index = SkillIndex.load(args.index)
    texts = _sentences(args.work)
    shipped_s = torch.from_numpy(np.load(args.work / "shipped.npy"))
    teacher_s = torch.from_numpy(np.load(args.work / "teacher.npy"))
    shipped_k = torch.from_numpy(np.asarray(index.vectors, dtype=np.float32))
    teacher_k = torch.from_numpy(np.load(args.teacher_labels))
    w = args.weight

    def teacher_scores(rows, positions):
        return ((1 - w) * shipped_s[rows] @ shipped_k[positions].T
                + w * teacher_s[rows] @ teacher_k[positions].T)

    # each sentence's top-k teacher skills
    top = []
    for start in range(0, len(texts), 512):
        rows = torch.arange(start, min(start + 512, len(texts)))
        top.append(torch.topk(teacher_scores(rows, torch.arange(len(shipped_k))),
                              args.top_k, dim=1).indices)
    top = torch.cat(top)
    config = TrainingConfig(max_steps=args.steps, batch_size=args.batch_size,
                            learning_rate=2e-4, backbone_mode="lora", eval_every=args.steps,
                            heldout_fraction=0.0, seed=args.seed,
                            init_from=str(args.init), hard_negatives=False)
    trainer = ContrastiveTrainer(index.taxonomy, EncoderConfig(pooling="attention"), config)
    trainer.loss = ListwiseDistillationLoss(trainer.model, teacher_scores, args.temperature)
    labels_text = [skill_text(s, config.skill_template) for s in index.taxonomy.skills]
    rng = random.Random(args.seed)
    order = []
    while len(order) < args.steps * args.batch_size:
        order += rng.sample(range(len(texts)), len(texts))
    order = order[:args.steps * args.batch_size]
    columns = {"anchor": [texts[i] for i in order]}
    for slot in range(args.top_k):
        columns[f"skill{slot}"] = [labels_text[int(top[i, slot])] for i in order]
    columns["label"] = [[i, *map(int, top[i])] for i in order]
    rows = Dataset.from_dict(columns)
    output = args.out.with_name(args.out.name + ".checkpoint")
    # the contrastive trainer's library-trainer setup (optimizer groups, checkpoints) with
    # this loss and these rows; no held-out loss (the benchmarks judge the student)
    run = trainer._trainer(output, rows, None, max_steps=args.steps, progress=True)
    run.train()
    shutil.rmtree(output, ignore_errors=True)
    trainer.model.eval()
    result = TrainingResult(steps=run.state.global_step, best_heldout_loss=float("nan"))
    trainer.save(args.out, result, {"corpus": "distillation: " + str(args.work),
                                    "taxonomy": index.taxonomy.metadata.name,
                                    "teacher": f"{1 - w:g} x shipped + {w:g} x {args.teacher}",
                                    "examples": len(texts)}, bundle=args.bundle)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    one = sub.add_parser("sentences")
    one.add_argument("--out", type=Path, required=True)
    one.add_argument("--llm", type=int, default=5000)
    one.add_argument("--shared", type=Path, default=Path("../shared/benchmarks"))
    one.add_argument("--corpora", type=Path, default=Path("data/corpora"))
    two = sub.add_parser("teach")
    three = sub.add_parser("train")
    for p in (two, three):
        p.add_argument("--work", type=Path, required=True)
        p.add_argument("--index", type=Path, required=True)
    two.add_argument("--teacher", type=Path, required=True)
    three.add_argument("--teacher", default="EmbeddingGemma-300M")
    three.add_argument("--teacher-labels", type=Path, required=True)
    three.add_argument("--weight", type=float, default=0.4)
    three.add_argument("--top-k", type=int, default=4)
    three.add_argument("--temperature", type=float, default=0.05)
    three.add_argument("--steps", type=int, default=400)
    three.add_argument("--batch-size", type=int, default=32)
    three.add_argument("--seed", type=int, default=0)
    three.add_argument("--init", type=Path, default=Path("skillmap/encoder/default"),
                       help="the bundle to continue (the student)")
    three.add_argument("--out", type=Path, required=True)
    three.add_argument("--bundle", type=Path)
    args = parser.parse_args()
    {"sentences": collect_sentences, "teach": teach, "train": train}[args.command](args)


if __name__ == "__main__":
    main()
