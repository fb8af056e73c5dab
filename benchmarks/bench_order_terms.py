"""Six cheap terms on the pipeline's order key, ESCO validation: none needs a second model.

    python benchmarks/bench_order_terms.py --index ESCO_INDEX [--weight W ...]
    python benchmarks/bench_order_terms.py --index ESCO_INDEX --per-ad-speed POSTINGS_JSONL

Each is a candidate lever for HOUSE that costs nothing at inference, so each is measured
where the pipeline would use it: the default pipeline (faiss top 20, lexical boost 0.2,
late-interaction reranking) with the term added through the second-opinion hook
(:meth:`skillmap.pipeline.extractor.Extractor.rank_sentences` adds a hook's per-candidate
terms to ``cosine + bonus + reranker``), swept over W by
``bench_second_opinion.sweep_weights`` (W = 0 first, then each W minus W = 0, paired).

- ``stemmed-names``: a sentence that names a skill's label or alternative label up to
  inflection ("managing budgets" for "manage budgets"; Snowball's English stemmer, the one
  search engines use) gets W as its name bonus, where a verbatim name gets the 0.2 it gets
  now. Needs ``pip install snowballstemmer``. At W = 0 the stemmed matches still join the
  candidates, with no bonus.
- ``group-coherence``: W x the mean cosine of the other candidates in the skill's Level-2
  group. Sentences that state several skills state them from one group more often than not
  (the premise of the constrained corpus), so a skill whose group-mates also score high may
  be the better reading; a negative W tests the opposite (spread the top 5 over groups).
- ``alt-name-bonus``: a skill named only through an alternative label gets 0.2 - W instead of
  0.2 (alternative labels include broad names that fit other skills too).
- ``specialisations``: -W for a candidate whose label is another candidate's label plus words
  the sentence does not contain ("work independently in agriculture" beside "work
  independently" for a sentence that says nothing of farms): a top 5 filled with one
  skill's specialisations leaves no room for the sentence's other skills.
- ``ad-context``: the ad around a sentence as a word-sense prior ("pipelines" in a data
  engineer's ad are not the plumber's). The splits list their sentences in posting order, so
  a sentence's context here is the mean vector of the ``--window`` sentences before and after
  it in the file (a proxy: windows cross posting boundaries). A candidate that is not a
  transversal or cross-sector skill gets W x max(0, its cosine to the context - the median of
  the candidates'); transversal skills fit any ad, so the context says nothing about them.
  This uses text the sentence-level protocol does not give a system, so its rows are not
  comparable with published numbers. ``--shuffled-context`` draws the neighbours from a
  random order of the same split: the control that separates the ad's context from a prior
  towards the split's domain. The term is the pipeline's own (``--context-weight``,
  :func:`skillmap.rerank.ad_context.context_terms`), where the ad itself is the context;
  ``--per-ad-speed`` times it on whole postings and counts the listed skills it changes.
- ``tfidf``: a lexical retriever beside the dense one (hybrid search). The TF-IDF baseline
  (``--system tfidf``: word and character n-grams over label, alternative labels and
  description) adds its ``--tfidf-candidates`` best skills to the candidates, and every
  candidate gets W x its TF-IDF similarity. It reaches skills whose description shares the
  sentence's words where the encoder misses them ("numerate" is nowhere near a label); at
  W = 0 the added candidates join with their cosine and no bonus. ``--tfidf-text names``
  indexes label and alternative labels only, ``label`` the label alone;
  ``--tfidf-analyzer word`` or ``char`` keeps one of the two n-gram kinds. With ``names``
  and ``word`` it is the pipeline's label overlap (``--label-overlap``,
  :class:`skillmap.index.lexical.LabelOverlap`), which these runs chose; measure it with
  the pipeline's own term off (``--label-overlap 0``). ``--tfidf-stem plural`` or
  ``snowball`` reduces words before the word n-grams (plural endings only, or Snowball's
  stems; the second needs ``pip install snowballstemmer``).

The pipeline under each term is the default one, label overlap included (since session 48);
``--label-overlap 0`` gives the pipeline the runs before it measured.

``--corpus-sample N`` measures each term also on N sentences drawn (seed 0) from each of the
committed LLM corpus files ``single`` and ``constrained`` (``data/corpora/``), their skills
as gold: thousands of sentences that nothing in the shipped pipeline was trained or tuned on
(the shipped encoder learned from template sentences), where the validation splits hold 136.
They are synthetic (written from the skills' definitions, often in their words), so they
show whether a term's gain on the splits holds on other sentences, not what it does on real
ads; a term that rewards shared words gains there by the writer's parroting, so
``--implicit-only`` draws only the sentences whose prompt asked to avoid the skill's words.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

from skillmap.commands.options import DEFAULT_LABEL_OVERLAP, make_extractor  # noqa: E402
from skillmap.corpus.records import read_corpus  # noqa: E402
from skillmap.evaluation import read_benchmark  # noqa: E402
from skillmap.evaluation.benchmarks import Benchmark, GoldItem  # noqa: E402
from skillmap.evaluation.baselines import TfidfRanker, skill_document  # noqa: E402
from skillmap.generation.annotation import read_postings  # noqa: E402
from skillmap.index.lexical import (  # noqa: E402
    CASE_SENSITIVE_MAX_CHARS, MAX_LABEL_TOKENS, LabelMatcher, names_document, tokens)
from skillmap.rerank.ad_context import BROAD_REUSE_LEVELS, context_terms  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from bench_second_opinion import sweep_weights  # noqa: E402
from exact_ranking import SPLITS  # noqa: E402


def snowball_words():
    """Snowball's English stemmer over a list of words (``pip install snowballstemmer``)."""
    try:
        import snowballstemmer
    except ImportError:
        sys.exit("Snowball stems need snowballstemmer: pip install snowballstemmer")
    return snowballstemmer.stemmer("english").stemWords


def plural_stem(word: str) -> str:
    """Harman's S-stemmer: plural endings only ("teams" -> "team", "abilities" ->
    "ability"), every other word as it is."""
    if len(word) <= 3:
        return word
    if word.endswith("ies") and not word.endswith(("eies", "aies")):
        return word[:-3] + "y"
    if word.endswith("es") and not word.endswith(("aes", "ees", "oes")):
        return word[:-1]
    if word.endswith("s") and not word.endswith(("us", "ss")):
        return word[:-1]
    return word


def stemmed_tokenizer(kind: str):
    """A word tokenizer for scikit-learn's ``TfidfVectorizer`` (its default token pattern)
    whose words are reduced by ``kind``: ``plural`` or ``snowball``."""
    word = re.compile(r"(?u)\b\w\w+\b")
    stem_all = snowball_words() if kind == "snowball" else \
        (lambda words: [plural_stem(w) for w in words])
    return lambda text: stem_all(word.findall(text))


class StemmedNames:
    """Finds the skills a sentence names up to inflection, and (as a hook) gives those it
    names only that way a bonus of W instead of the verbatim bonus."""

    def __init__(self, skills, exact: LabelMatcher, verbatim_bonus: float):
        self._stem = snowball_words()
        self.exact, self.verbatim_bonus, self.weight = exact, verbatim_bonus, 0.0
        self.table: dict[tuple[str, ...], set[int]] = defaultdict(set)
        for position, skill in enumerate(skills):
            for label in (skill.label, *skill.alt_labels):
                words = tokens(label)
                # short labels stay case-sensitive and verbatim, as in LabelMatcher
                if words and len(words) <= MAX_LABEL_TOKENS and \
                        len(label.strip()) > CASE_SENSITIVE_MAX_CHARS:
                    self.table[self._key(words)].add(position)

    def _key(self, words) -> tuple[str, ...]:
        return tuple(self._stem([w.casefold() for w in words]))

    def stemmed(self, sentence: str) -> set[int]:
        words, found = self._key(tokens(sentence)), set()
        for n in range(1, MAX_LABEL_TOKENS + 1):
            for start in range(len(words) - n + 1):
                found |= self.table.get(words[start:start + n], set())
        return found

    def find(self, sentence: str) -> set[int]:
        """The index's matcher while this runs: verbatim names and stemmed ones."""
        return self.exact.find(sentence) | self.stemmed(sentence)

    def terms(self, sentences, rows):
        return [{hit: self.weight - self.verbatim_bonus
                 for hit in self.stemmed(sentence) - self.exact.find(sentence) if hit in row}
                for sentence, row in zip(sentences, rows)]


class GroupCoherence:
    """W x the mean cosine of a candidate's Level-2 group-mates among the candidates."""

    def __init__(self, taxonomy, skills):
        self.group = [getattr(taxonomy.level2(s.id), "id", None) for s in skills]
        self.weight = 0.0

    def terms(self, sentences, rows):
        out = []
        for row in rows:
            by_group: dict[str, list[float]] = defaultdict(list)
            for hit, (cosine, _) in row.items():
                by_group[self.group[hit]].append(cosine)
            terms = {}
            for hit, (cosine, _) in row.items():
                mates = len(by_group[self.group[hit]]) - 1
                if self.group[hit] is not None and mates:
                    terms[hit] = self.weight * (sum(by_group[self.group[hit]]) - cosine) / mates
            out.append(terms)
        return out


class AltNameBonus:
    """-W for skills the sentence names only through an alternative label."""

    def __init__(self, skills):
        self.preferred = LabelMatcher([replace(s, alt_labels=()) for s in skills])
        self.weight = 0.0

    def terms(self, sentences, rows):
        return [{hit: -self.weight for hit, (_, bonus) in row.items()
                 if bonus and hit not in self.preferred.find(sentence)}
                for sentence, row in zip(sentences, rows)]


class Specialisations:
    """-W for a candidate whose label's words strictly contain another candidate's and add
    words (other than a few function words) that the sentence does not contain."""

    FUNCTION_WORDS = frozenset({"in", "as", "an", "a", "the", "of", "to", "and", "with", "for",
                                "on"})

    def __init__(self, skills):
        self.words = [frozenset(w.casefold() for w in tokens(s.label)) for s in skills]
        self.weight = 0.0

    def terms(self, sentences, rows):
        out = []
        for sentence, row in zip(sentences, rows):
            said = {w.casefold() for w in tokens(sentence)}
            out.append({hit: -self.weight for hit in row if any(
                other != hit and self.words[other] < self.words[hit]
                and not (self.words[hit] - self.words[other] - self.FUNCTION_WORDS) <= said
                for other in row)})
        return out


class AdContext:
    """The pipeline's ad-context term (:func:`skillmap.rerank.ad_context.context_terms`) with
    a sentence's neighbours in the benchmark file as its ad; contexts are set per text."""

    def __init__(self, index):
        self.index, self.weight = index, 0.0
        self.broad = np.array([s.reuse_level in BROAD_REUSE_LEVELS for s in index.skills])
        self.context: dict[str, np.ndarray] = {}

    def set_contexts(self, texts: list[str], vectors: np.ndarray, window: int,
                     shuffled: bool) -> None:
        if shuffled:
            vectors = vectors[np.random.default_rng(0).permutation(len(vectors))]
        for i, text in enumerate(texts):
            around = [j for j in range(max(0, i - window), min(len(texts), i + window + 1))
                      if j != i]
            mean = vectors[around].mean(axis=0)
            self.context[text] = mean / (np.linalg.norm(mean) or 1.0)

    def terms(self, sentences, rows):
        out = []
        for sentence, row in zip(sentences, rows):
            context, hits = self.context.get(sentence), list(row)
            if context is None or not hits:
                out.append({})
                continue
            skills = np.stack([self.index.vector(hit) for hit in hits])
            terms = context_terms(skills, context, self.weight, self.broad[hits])
            out.append(dict(zip(hits, terms.tolist())))
        return out


class TfidfHybrid:
    """TF-IDF's top n join the candidates (as the index's matcher while this runs, their name
    bonus taken back by the hook), and every candidate gets W x its TF-IDF similarity."""

    TEXTS = {"definition": skill_document, "names": names_document,
             "label": lambda skill: skill.label}

    def __init__(self, taxonomy, exact: LabelMatcher, verbatim_bonus: float, n: int,
                 text: str = "definition", analyzers: tuple[str, ...] = ("word", "char"),
                 stem: str = "none"):
        self.ranker = TfidfRanker(taxonomy, self.TEXTS[text], analyzers)
        if stem != "none":  # refit the word n-grams on stemmed words
            documents = [self.TEXTS[text](skill) for skill in taxonomy.skills]
            for i, vectorizer in enumerate(self.ranker.vectorizers):
                if vectorizer.analyzer == "word":
                    vectorizer.set_params(tokenizer=stemmed_tokenizer(stem), token_pattern=None)
                    self.ranker.matrices[i] = vectorizer.fit_transform(documents)
        self.exact, self.verbatim_bonus, self.n, self.weight = exact, verbatim_bonus, n, 0.0
        self._scores: dict[str, np.ndarray] = {}

    def similarities(self, sentence: str) -> np.ndarray:
        if sentence not in self._scores:
            self._scores[sentence] = self.ranker.scores([sentence])[0]
        return self._scores[sentence]

    def added(self, sentence: str) -> set[int]:
        if not self.n:
            return set()
        scores = self.similarities(sentence)
        return {int(i) for i in np.argpartition(-scores, self.n)[:self.n]}

    def find(self, sentence: str) -> set[int]:
        return self.exact.find(sentence) | self.added(sentence)

    def terms(self, sentences, rows):
        out = []
        for sentence, row in zip(sentences, rows):
            scores, named = self.similarities(sentence), self.exact.find(sentence)
            out.append({hit: self.weight * float(scores[hit])
                        - (self.verbatim_bonus if bonus and hit not in named else 0.0)
                        for hit, (_, bonus) in row.items()})
        return out


def corpus_sample(corpora: Path, n: int, taxonomy, implicit_only: bool = False
                  ) -> dict[str, Benchmark]:
    """N sentences drawn (seed 0) from each LLM corpus file, their skills as gold, as
    benchmarks named ``llm-single`` and ``llm-constrained`` (``-implicit`` added where only
    sentences written without the skills' own words are drawn)."""
    known, out = {skill.id for skill in taxonomy.skills}, {}
    for mode in ("single", "constrained"):
        records = [r for r in read_corpus(corpora / f"esco_llm_{mode}.jsonl.gz")
                   if set(r.skill_ids) <= known and (r.implicit or not implicit_only)]
        drawn = random.Random(0).sample(records, min(n, len(records)))
        name = f"llm-{mode}" + ("-implicit" if implicit_only else "")
        out[name] = Benchmark(name=name, items=[
            GoldItem(r.text, frozenset(r.skill_ids), r.request_id) for r in drawn])
    return out


def per_ad_speed(index: Path, postings: Path, weight: float, rounds: int,
                 show_changes: int = 0, setting: str = "context_weight") -> None:
    """Ads/s of whole postings coded with a term of the pipeline (``setting``, an
    ExtractorConfig field: ``context_weight`` or ``label_overlap``) at ``weight`` against 0,
    the two interleaved, best of ``rounds`` (the encoder shared and warm), and how much of
    the ads' skill lists the term changes."""
    ads = ["\n".join(posting.lines) for posting in read_postings(postings)]
    extractors = {w: make_extractor(index=index, **{setting: w}) for w in (0.0, weight)}
    for extractor in extractors.values():
        extractor.extract_many(ads[:5])
    best = dict.fromkeys(extractors, float("inf"))
    results: dict[float, list] = {}
    for _ in range(rounds):
        for w, extractor in extractors.items():
            start = time.perf_counter()
            results[w] = extractor.extract_many(ads)
            best[w] = min(best[w], time.perf_counter() - start)
    lists = {w: [[m.skill_id for m in result.skills] for result in coded]
             for w, coded in results.items()}
    print(f"| {setting.replace('_', ' ')} | ads/s ({len(ads)} postings, best of {rounds}) | "
          "ratio | "
          "listed skills not listed without it | ads whose list changes |\n|---|---|---|---|---|")
    for w, seconds in best.items():
        new = sum(len(set(a) - set(b)) for a, b in zip(lists[w], lists[0.0]))
        changed = sum(a != b for a, b in zip(lists[w], lists[0.0]))
        print(f"| {w:g} | {len(ads) / seconds:.2f} | x{best[0.0] / seconds:.2f} | {new} of "
              f"{sum(map(len, lists[w]))} | {changed} of {len(ads)} (order included) |")
    changed = [i for i, (a, b) in enumerate(zip(lists[weight], lists[0.0])) if set(a) != set(b)]
    for i in random.Random(0).sample(changed, min(show_changes, len(changed))):
        print(f"\n{ads[i].splitlines()[0][:70]}")
        for sign, mine, other in (("+", weight, 0.0), ("-", 0.0, weight)):
            others = set(lists[other][i])
            for match in results[mine][i].skills:
                if match.skill_id not in others:
                    evidence = results[mine][i].sentences[match.evidence_index].text
                    print(f"  {sign} {match.skill_label} | {evidence[:80]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--term", choices=("stemmed-names", "group-coherence", "alt-name-bonus",
                                           "specialisations", "ad-context", "tfidf"),
                        action="append", help="the terms to measure (repeat) [default: all]")
    parser.add_argument("--weight", action="append", type=float, default=[],
                        help="W (repeat) [default per term: stemmed-names 0.05 0.1 0.2, "
                             "group-coherence -0.05 0.05 0.1, alt-name-bonus 0.1 0.2, "
                             "specialisations 0.05 0.1 0.2, ad-context 0.1 0.2 0.3, "
                             "tfidf 0.1 0.2 0.3 0.5]")
    parser.add_argument("--window", type=int, default=2,
                        help="ad-context: sentences either side [default: 2]")
    parser.add_argument("--shuffled-context", action="store_true",
                        help="ad-context: neighbours from a random order (the control)")
    parser.add_argument("--tfidf-candidates", type=int, default=20, metavar="N",
                        help="tfidf: TF-IDF's top N join the candidates; 0: none, the term "
                        "only reorders the dense ones [default: 20]")
    parser.add_argument("--label-overlap", type=float, default=DEFAULT_LABEL_OVERLAP,
                        metavar="W", help="the pipeline's own label-overlap term under the "
                        f"measured ones [default: {DEFAULT_LABEL_OVERLAP}, the pipeline's]")
    parser.add_argument("--tfidf-text", choices=tuple(TfidfHybrid.TEXTS), default="definition",
                        help="tfidf: what is indexed per skill [default: definition = label, "
                        "alternative labels and description]")
    parser.add_argument("--tfidf-analyzer", choices=("both", "word", "char"), default="both",
                        help="tfidf: word 1-2-grams, character 3-5-grams or both averaged "
                        "[default: both]")
    parser.add_argument("--tfidf-stem", choices=("none", "plural", "snowball"), default="none",
                        help="tfidf: reduce words before the word n-grams: plural endings "
                        "only, or Snowball's English stems [default: none]")
    parser.add_argument("--corpus-sample", type=int, default=0, metavar="N",
                        help="also measure on N sentences drawn from each of the LLM corpus "
                        "files single and constrained (their skills as gold) [default: 0]")
    parser.add_argument("--implicit-only", action="store_true",
                        help="--corpus-sample: only sentences written without the skills' "
                        "own words")
    parser.add_argument("--corpora", type=Path,
                        default=Path(__file__).parent.parent / "data" / "corpora")
    parser.add_argument("--shared", type=Path, default=Path("../shared/benchmarks"))
    parser.add_argument("--per-ad-speed", type=Path, metavar="POSTINGS_JSONL",
                        help="instead: time whole postings (one JSON object per line with "
                        "'lines') coded with --weight's first value as --per-ad-setting's "
                        "weight against 0 [default weight: 0.2]")
    parser.add_argument("--rounds", type=int, default=3, help="--per-ad-speed: best of")
    parser.add_argument("--per-ad-setting", choices=("context_weight", "label_overlap"),
                        default="context_weight",
                        help="--per-ad-speed: the pipeline's term timed [default: "
                        "context_weight]")
    parser.add_argument("--show-changes", type=int, default=0, metavar="N",
                        help="--per-ad-speed: print N ads (drawn at random, seed 0) whose "
                        "list the term changes: skills gained (+) and lost (-), with "
                        "their evidence")
    args = parser.parse_args()
    if args.per_ad_speed:
        per_ad_speed(args.index, args.per_ad_speed, (args.weight or [0.2])[0], args.rounds,
                     args.show_changes, args.per_ad_setting)
        return
    extractor = make_extractor(index=args.index, top_k=10, min_score=-1.0,
                               label_overlap=args.label_overlap)
    index, exact = extractor.index, extractor.index.label_matcher
    defaults = {"stemmed-names": [0.05, 0.1, 0.2], "group-coherence": [-0.05, 0.05, 0.1],
                "alt-name-bonus": [0.1, 0.2], "specialisations": [0.05, 0.1, 0.2],
                "ad-context": [0.1, 0.2, 0.3], "tfidf": [0.1, 0.2, 0.3, 0.5]}
    more = corpus_sample(args.corpora, args.corpus_sample, index.taxonomy,
                         args.implicit_only) if args.corpus_sample else {}
    for term in args.term or list(defaults):
        print(f"\n{term}\n")
        if term == "stemmed-names":
            hook = StemmedNames(index.skills, exact, extractor.lexical_boost)
            index.__dict__["label_matcher"] = hook  # the cached property, for this run
        elif term == "group-coherence":
            hook = GroupCoherence(extractor.taxonomy, index.skills)
        elif term == "alt-name-bonus":
            hook = AltNameBonus(index.skills)
        elif term == "specialisations":
            hook = Specialisations(index.skills)
        elif term == "tfidf":
            analyzers = ("word", "char") if args.tfidf_analyzer == "both" \
                else (args.tfidf_analyzer,)
            hook = TfidfHybrid(index.taxonomy, exact, extractor.lexical_boost,
                               args.tfidf_candidates, args.tfidf_text, analyzers,
                               args.tfidf_stem)
            index.__dict__["label_matcher"] = hook
            print(f"TF-IDF over {args.tfidf_text}, {args.tfidf_analyzer} n-grams; its top "
                  f"{args.tfidf_candidates} join the candidates\n")
        else:
            hook = AdContext(index)
            print(f"window {args.window}" + (", shuffled" if args.shuffled_context else "")
                  + "\n")
            for split in SPLITS:
                gold = read_benchmark(args.shared / "skill-extraction"
                                      / f"{split}_validation_annotations.csv", index.taxonomy)
                texts = [item.text for item in gold.items]
                hook.set_contexts(texts, extractor.encoder.encode(texts), args.window,
                                  args.shuffled_context)
        extractor.second_opinion = hook
        sweep_weights(extractor, hook, args.weight or defaults[term], args.shared, more)
        index.__dict__["label_matcher"], extractor.second_opinion = exact, None


if __name__ == "__main__":
    main()
