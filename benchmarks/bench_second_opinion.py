"""The default pipeline with a second encoder's opinion on its candidates, ESCO validation.

    python benchmarks/bench_second_opinion.py --index ESCO_INDEX --second MODEL [--weight W ...]

The pipeline as shipped (faiss top 20 from the default encoder, lexical boost,
late-interaction reranking) with ``--second-opinion MODEL`` (:mod:`skillmap.rerank.second_opinion`):
a candidate's order key ``cosine + bonus + reranker`` becomes ``(1 - W) x cosine + W x second
cosine + bonus + reranker``. W = 0 is the shipped pipeline. docs/benchmarks.md §5.15 measured
the same mix over every skill (exact ranking, no reranker); this is the mix where the pipeline
uses it, on its 20 candidates. One extractor serves every W (the second model and its label
vectors load once; they are cached as the option caches them). Printed: RP@5 and MRR per split
and W, and each W minus W = 0, paired over the sentences (95 % bootstrap).

``--skill-text TEMPLATE`` gives the second model other skill texts than the label
(:func:`skillmap.taxonomy.skill_text.skill_text` fields, e.g. ``"{label}. {description}"``);
a template starting ``raw:`` is encoded without the model's document prompt (for one that
writes the model's own document format). Given more than once, the second cosine is the
mean over the templates. Those texts are encoded only for the skills that turn up among the
sentences' candidates (as the option encodes its labels), so a variant costs minutes.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from skillmap.commands.options import make_extractor  # noqa: E402
from skillmap.evaluation import PipelineRanker, evaluate, read_benchmark  # noqa: E402
from skillmap.evaluation.uncertainty import paired_difference  # noqa: E402
from skillmap.rerank.second_opinion import SecondOpinion  # noqa: E402
from skillmap.taxonomy.skill_text import skill_text  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from exact_ranking import SPLITS  # noqa: E402


def with_texts(opinion: SecondOpinion, texts, document_prompt: bool) -> SecondOpinion:
    """A second opinion of the same (shared, already loaded) model scoring other skill texts,
    kept in memory."""
    other = SecondOpinion(opinion.name, texts, opinion.weight)
    if not document_prompt:
        other.document = None
    return other


class MeanOfTexts:
    """The mean of several skill texts' terms (one model, loaded once)."""

    def __init__(self, opinions):
        self.opinions = opinions

    @property
    def weight(self):
        return self.opinions[0].weight

    @weight.setter
    def weight(self, value):
        for opinion in self.opinions:
            opinion.weight = value

    def terms(self, sentences, rows):
        parts = [opinion.terms(sentences, rows) for opinion in self.opinions]
        return [{hit: sum(p[i].get(hit, 0.0) for p in parts) / len(parts) for hit in parts[0][i]}
                for i in range(len(rows))]


def on_demand(opinion: SecondOpinion, skills, templates: list[str]):
    """The second opinion the ``--skill-text`` templates describe."""
    opinions = [with_texts(opinion, [skill_text(s, t.removeprefix("raw:")) for s in skills],
                           not t.startswith("raw:")) for t in templates]
    return opinions[0] if len(opinions) == 1 else MeanOfTexts(opinions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--second", required=True, help="the second encoder's folder")
    parser.add_argument("--weight", action="append", type=float, default=[],
                        help="W, the second encoder's share (repeat; 0 is always run first)")
    parser.add_argument("--skill-text", action="append", default=[],
                        help="the second model's skill text template (repeat: the mean; "
                             "'raw:' prefix: no document prompt) [default: the label]")
    parser.add_argument("--lexical-boost", type=float, default=0.2,
                        help="the name bonus (the pipeline's default: 0.2)")
    parser.add_argument("--rerank-weight", type=float, default=None,
                        help="the late-interaction reranker's weight [default: the pipeline's]")
    parser.add_argument("--shared", type=Path, default=Path("../shared/benchmarks"))
    args = parser.parse_args()
    extractor = make_extractor(index=args.index, top_k=10, min_score=-1.0,
                               lexical_boost=args.lexical_boost, second_opinion=args.second,
                               **({} if args.rerank_weight is None
                                  else {"rerank_weight": args.rerank_weight}))
    if args.skill_text:
        extractor.second_opinion = on_demand(extractor.second_opinion, extractor.index.skills,
                                             args.skill_text)
    sweep_weights(extractor, extractor.second_opinion, args.weight, args.shared)


def sweep_weights(extractor, opinion, weights, shared: Path, more: dict | None = None) -> None:
    """One Markdown row per split and weight W of ``opinion`` (the pipeline's second-opinion
    hook), W = 0 first: RP@5, MRR and RP@5 minus W = 0, paired over the sentences. ``more``:
    other benchmarks by name, measured beside the validation splits."""
    golds = {split: read_benchmark(shared / "skill-extraction"
                                   / f"{split}_validation_annotations.csv", extractor.taxonomy)
             for split in SPLITS}
    golds.update(more or {})
    first: dict[str, list[float]] = {}
    print("| W | split | RP@5 | MRR | RP@5 minus W = 0 (paired 95 % bootstrap) |\n"
          "|---|---|---|---|---|")
    for w in [0.0, *[w for w in weights if w]]:
        opinion.weight = w
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
