"""Exploration: two inference-time levers for sentences that state several skills.

    python benchmarks/bench_query_views.py --index ESCO_INDEX \
        --diversity 0.05 --diversity 0.2 --diversity 0.2:0.7 --diversity 0.5:0.7 \
        --views clauses:8 --views clauses:12 --views windows:8:4 --offset 0 --offset 0.1

Half the validation sentences carry two or more gold skills, and a sentence's top 5 is often
filled by near-twins of one skill ("English", "write English", "understand written English").

- **Diversity** (maximal marginal relevance): the top 10 is picked greedily from the top 20,
  each candidate's ranking key lowered by ``lambda x`` its highest cosine to a skill already
  picked (``LAMBDA:T``: only the part of that cosine above T, so only near-twins pay).
- **Views**: a long sentence is also searched clause by clause (``clauses:MIN_WORDS``, split
  at commas, semicolons, brackets, "and", "or", "as well as", "such as", "with") or in word
  windows (``windows:WIDTH:STRIDE``, sentences of at least WIDTH + 2 words); a skill's key is
  the highest of the whole sentence's and each view's key minus ``--offset``.

Ranking key = the default pipeline's (cosine + lexical boost 0.2 + late-interaction term over
the top 20, default filter), on the ESCO validation splits; the first row is the pipeline as
shipped. Like bench_reuse_prior.py this wraps the extractor's private reranking hook rather
than adding pipeline options: an experiment, not a feature.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

CLAUSE_BREAK = re.compile(r"\s*(?:[,;:•()\[\]]|\s-\s|\band\b|\bor\b|\bas well as\b|"
                          r"\bincluding\b|\bsuch as\b|\bwith\b)\s*", re.I)


def clauses(text: str, min_words: int) -> list[str]:
    """The clauses of a sentence of at least ``min_words`` words (none if it has one)."""
    if len(text.split()) < min_words:
        return []
    parts = [p.strip() for p in CLAUSE_BREAK.split(text) if p and len(p.split()) >= 2]
    return parts if len(parts) > 1 else []


def windows(text: str, width: int, stride: int) -> list[str]:
    words = text.split()
    if len(words) < width + 2:
        return []
    return [" ".join(words[i:i + width]) for i in range(0, len(words) - width + 1, stride)]


def parse_view(text: str):
    kind, *numbers = text.split(":")
    if kind == "clauses" and len(numbers) == 1:
        return lambda sentence: clauses(sentence, int(numbers[0]))
    if kind == "windows" and len(numbers) == 2:
        return lambda sentence: windows(sentence, int(numbers[0]), int(numbers[1]))
    raise argparse.ArgumentTypeError(f"expected clauses:N or windows:W:S, got {text!r}")


def main() -> None:
    from skillmap.commands.options import make_extractor
    from skillmap.evaluation import read_benchmark, score_rankings
    from skillmap.pipeline import Extractor

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", required=True)
    parser.add_argument("--benchmarks", type=Path,
                        default=Path("../shared/benchmarks/skill-extraction"))
    parser.add_argument("--diversity", action="append", default=[],
                        help="LAMBDA or LAMBDA:T (repeat)")
    parser.add_argument("--views", action="append", default=[], help="clauses:N or windows:W:S")
    parser.add_argument("--offset", type=float, action="append", default=[])
    args = parser.parse_args()

    extractor = make_extractor(index=args.index, top_k=20, min_score=-1.0, lexical_boost=0.2)
    vectors = extractor.index.vectors
    ids = [skill.id for skill in extractor.index.skills]
    captured: list[dict[int, float]] = []
    reranked = Extractor._rerank_scores

    def capture(self, sentences, rows, tokens=None):
        extra = reranked(self, sentences, rows, tokens)
        captured.extend({hit: cosine + bonus + added.get(hit, 0.0)
                         for hit, (cosine, bonus) in candidates.items()}
                        for candidates, added in zip(rows, extra))
        return extra

    Extractor._rerank_scores = capture

    def keys_of(texts: list[str]) -> list[dict[int, float]]:
        captured.clear()
        if texts:
            extractor.rank_sentences(texts)
        return list(captured)

    splits, texts = {}, {}  # split -> (kept by the filter, ranking keys, gold) / its texts
    for split in ("tech", "house"):
        gold = read_benchmark(args.benchmarks / f"{split}_validation_annotations.csv",
                              extractor.taxonomy)
        texts[split] = [item.text for item in gold.items]
        # as the benchmark protocol: a sentence the filter drops gets no ranking
        _, keep, _ = extractor.screen(texts[split])
        splits[split] = (list(keep), keys_of(texts[split]), [set(i.gold) for i in gold.items])

    def top(keys: dict[int, float], k: int = 10) -> list[int]:
        return [hit for hit, _ in sorted(keys.items(), key=lambda item: -item[1])[:k]]

    def diverse(keys: dict[int, float], weight: float, floor: float) -> list[int]:
        pool, picked = top(keys, 20), []
        while pool and len(picked) < 10:
            def key(hit):
                twin = max((float(vectors[hit] @ vectors[p]) for p in picked), default=floor)
                return keys[hit] - weight * max(twin - floor, 0.0)
            best = max(pool, key=key)
            picked.append(best)
            pool.remove(best)
        return picked

    def row(name: str, rank) -> None:
        """One table row; ``rank(split, i)`` is the i-th sentence's top 10 (kept sentences)."""
        cells = []
        for split, (keep, _, golds) in splits.items():
            rankings = [[ids[h] for h in rank(split, i)] if ok else []
                        for i, ok in enumerate(keep)]
            metrics = score_rankings(rankings, golds)
            cells += [f"{metrics['RP@5']:.3f}", f"{metrics['MRR']:.3f}"]
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)

    print("| ranking | TECH RP@5 | TECH MRR | HOUSE RP@5 | HOUSE MRR |")
    print("|---|---|---|---|---|")
    row("pipeline as shipped", lambda split, i: top(splits[split][1][i]))
    for spec in args.diversity:
        weight, _, floor = spec.partition(":")
        row(f"diversity {spec}", lambda split, i, w=float(weight), f=float(floor or 0):
            diverse(splits[split][1][i], w, f))
    for spec in args.views:
        view = parse_view(spec)
        view_keys = {}  # split -> per sentence, the keys of each of its views
        for split, text_list in texts.items():
            parts = [view(text) for text in text_list]
            flat = iter(keys_of([p for ps in parts for p in ps]))
            view_keys[split] = [[next(flat) for _ in ps] for ps in parts]

        def merged(split, i, offset):
            """The best of the sentence's key and each view's key minus the offset."""
            best = dict(splits[split][1][i])
            for keys in view_keys[split][i]:
                for hit, key in keys.items():
                    best[hit] = max(best.get(hit, float("-inf")), key - offset)
            return top(best)

        for offset in args.offset or [0.0]:
            row(f"views {spec}, offset {offset:g}",
                lambda split, i, o=offset: merged(split, i, o))


if __name__ == "__main__":
    main()
