"""The default pipeline with a second encoder's opinion on its candidates, ESCO validation.

    python benchmarks/bench_second_opinion.py --index ESCO_INDEX --second MODEL \
        [--cache DIR] [--weight W ...]

The pipeline stays as shipped (faiss top 20 from the default encoder, lexical boost,
late-interaction reranking); a candidate's order key ``cosine + bonus + reranker`` becomes
``(1 - W) x cosine + W x second cosine + bonus + reranker``, where the second cosine is the
candidate's label against the sentence under MODEL (a sentence-transformers folder, with its
own ``query`` / ``document`` prompts when it has them). W = 0 is the shipped pipeline.
docs/benchmarks.md §5.15 measured the same mix over every skill (exact ranking, no
reranker); this is the mix where the pipeline would use it, on its 20 candidates. Printed:
RP@5 and MRR per split and W, and each W minus W = 0, paired over the sentences (95 %
bootstrap). ``--cache DIR`` keeps MODEL's label vectors (as bench_offshelf.py does).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402

from skillmap.commands.options import make_extractor  # noqa: E402
from skillmap.evaluation import PipelineRanker, evaluate, read_benchmark  # noqa: E402
from skillmap.evaluation.uncertainty import paired_difference  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from bench_offshelf import _label_vectors, _prompt  # noqa: E402
from exact_ranking import SPLITS  # noqa: E402


def with_second_opinion(extractor, sentence_vectors: dict, label_vectors: np.ndarray,
                        weight: dict) -> None:
    """Wrap the extractor's reranker term so it also moves each candidate by
    ``W x (second cosine - cosine)``; ``weight["W"]`` is read at every call."""
    original = extractor._rerank_scores

    def mixed(sentences, rows, tokens=None):
        extra = original(sentences, rows, tokens)
        if not weight["W"]:
            return extra
        moved = []
        for sentence, candidates, terms in zip(sentences, rows, extra):
            terms = dict(terms)
            for hit, (cosine, _bonus) in candidates.items():
                second = float(sentence_vectors[sentence] @ label_vectors[hit])
                terms[hit] = terms.get(hit, 0.0) + weight["W"] * (second - cosine)
            moved.append(terms)
        return moved

    extractor._rerank_scores = mixed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--second", required=True, help="the second encoder's folder")
    parser.add_argument("--weight", action="append", type=float, default=[],
                        help="W, the second encoder's share (repeat; 0 is always run first)")
    parser.add_argument("--shared", type=Path, default=Path("../shared/benchmarks"))
    parser.add_argument("--cache", type=Path, help="folder for the second encoder's label vectors")
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    extractor = make_extractor(index=args.index, top_k=10, min_score=-1.0, lexical_boost=0.2)
    golds = {split: read_benchmark(args.shared / "skill-extraction"
                                   / f"{split}_validation_annotations.csv", extractor.taxonomy)
             for split in SPLITS}
    model = SentenceTransformer(args.second, device="cpu")
    labels = [skill.label for skill in extractor.index.skills]
    label_vectors = _label_vectors(model, args.second, _prompt(model, "document"), labels, args)
    texts = list(dict.fromkeys(item.text for gold in golds.values() for item in gold.items))
    sentence_vectors = dict(zip(texts, model.encode(
        texts, prompt_name=_prompt(model, "query"), batch_size=args.batch_size,
        normalize_embeddings=True, show_progress_bar=False)))
    weight = {"W": 0.0}
    with_second_opinion(extractor, sentence_vectors, label_vectors, weight)
    first: dict[str, list[float]] = {}
    print("| W | split | RP@5 | MRR | RP@5 minus W = 0 (paired 95 % bootstrap) |\n"
          "|---|---|---|---|---|")
    for w in [0.0, *[w for w in args.weight if w]]:
        weight["W"] = w
        for split, gold in golds.items():
            report = evaluate(PipelineRanker(extractor), gold, k=10)
            scores = report.item_scores["RP@5"]
            first.setdefault(split, scores)
            d = paired_difference(scores, first[split])
            star = "*" if d.low > 0 or d.high < 0 else ""
            print(f"| {w:g} | {split.upper()} | {report.metrics['RP@5']:.3f} | "
                  f"{report.metrics['MRR']:.3f} | {d.mean:+.3f} [{d.low:+.3f}, {d.high:+.3f}]"
                  f"{star} |", flush=True)


if __name__ == "__main__":
    main()
