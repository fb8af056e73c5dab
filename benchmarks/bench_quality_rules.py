"""What the corpus quality checks drop, and what another setting would keep, on paid answers.

    python benchmarks/bench_quality_rules.py -t ESCO_DIR --cache CORPUS.cache.sqlite \
        --seed 1 --rule min_own_words=1 --show 30

Replays the LLM answers already in a `generate corpus` answer cache (no model call) through
the shipped :class:`~skillmap.generation.quality.QualityRules` and through the same rules with
one setting changed, and prints the drop reasons of each and the sentences on which they
disagree, so a change to a rule is judged on the sentences it would let in or keep out.
The plan (mode, seed, per-skill, model, backend settings) must be the run's, or no cached
answer is found: the cache key is the rendered prompt.
"""

from __future__ import annotations

import argparse
import os
from collections import Counter
from dataclasses import replace


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    parser.add_argument("-t", "--taxonomy", required=True)
    parser.add_argument("--cache", required=True, help="the run's <out>.cache.sqlite")
    parser.add_argument("--mode", default="single")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--per-skill", type=int, default=1)
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--base-url", default="http://127.0.0.1:8089/v1")
    parser.add_argument("--rule", action="append", default=[], metavar="NAME=VALUE",
                        help="a QualityRules field to change (repeat)")
    parser.add_argument("--show", type=int, default=30, help="disagreements to print")
    args = parser.parse_args()

    from skillmap.generation import ResponseCache, make_backend
    from skillmap.generation.prompts import load_prompt
    from skillmap.generation.quality import QualityRules
    from skillmap.generation.sampling import plan_requests
    from skillmap.taxonomy import load_taxonomy

    os.environ.setdefault("OPENAI_API_KEY", "x")  # the key is not part of the cache key
    taxonomy = load_taxonomy(args.taxonomy)
    backend = make_backend("openai", model=args.model, base_url=args.base_url)
    backend.prepare(taxonomy)
    template = load_prompt(args.mode, None, backend.language)
    plan = plan_requests(taxonomy, [args.mode], per_skill=args.per_skill, seed=args.seed,
                         negatives=0, negative_categories=[])
    shipped = QualityRules()
    changes = {name: type(getattr(shipped, name))(value)
               for name, value in (rule.split("=", 1) for rule in args.rule)}
    other = replace(shipped, **changes)

    reasons = {"shipped": Counter(), "changed": Counter()}
    disagreements = []
    cache = ResponseCache(args.cache)
    try:
        for request in plan.requests:
            completion = cache.get(backend.cache_key(request, template))
            if completion is None or not completion.ok:
                continue
            for sentence in completion.sentences[:request.n]:
                text = sentence.strip() if isinstance(sentence, str) else ""
                verdicts = [rules.check(text, request.skills, template.example_sentences,
                                        language=backend.language) for rules in (shipped, other)]
                reasons["shipped"][verdicts[0] or "kept"] += 1
                reasons["changed"][verdicts[1] or "kept"] += 1
                if verdicts[0] != verdicts[1]:
                    labels = "; ".join(skill.label for skill in request.skills)
                    disagreements.append((labels, text, *verdicts))
    finally:
        cache.close()
        backend.close()

    total = sum(reasons["shipped"].values())
    print(f"{total} cached sentences; changed: {changes or 'nothing'}\n")
    print("| outcome | shipped rules | changed rules |\n|---|---|---|")
    for outcome in sorted(set(reasons["shipped"]) | set(reasons["changed"])):
        print(f"| {outcome} | {reasons['shipped'][outcome]} | {reasons['changed'][outcome]} |")
    print(f"\n{len(disagreements)} sentences judged differently (shipped -> changed):")
    for labels, text, before, after in disagreements[:args.show]:
        print(f"- [{labels}] {text!r}: {before or 'kept'} -> {after or 'kept'}")


if __name__ == "__main__":
    main()
