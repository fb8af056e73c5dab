"""The extraction pipeline: segment -> filter -> encode -> search -> aggregate per ad.

:class:`Extractor` is the one implementation behind ``skillmap extract``, ``skillmap
batch`` and the app. ``extract_many`` codes a batch of ads at once and encodes each distinct
sentence only once: job ads repeat boilerplate heavily, so this saves encoder time on every
corpus.

Per ad, a skill's ``score`` is the best similarity any sentence gives it, and that sentence
is its evidence. How the ad's skills are *ranked* is the ``aggregation``:

- ``interleave`` (default): by the best rank the skill reaches in any sentence, then by score;
  i.e. every sentence's first choice comes before any sentence's second choice. One sentence
  naming a skill with many near-synonyms in the taxonomy ("SQL databases" vs a dozen ESCO
  database skills) can then not crowd the other requirements out of the ad's top k.
- ``max``: by score alone.

Per sentence, skills whose label or alternative label the sentence names verbatim get
``lexical_boost`` added to their cosine similarity (hybrid scoring, see
:mod:`skillmap.index.lexical`), so a reported ``score`` is cosine + boost when named.

The *filter* (:mod:`skillmap.filter`; ``"shipped"`` is the filter in the package, and
``"default"`` is it once it is switched on, no filter until then) scores every sentence;
sentences below its threshold are not encoded or searched —
retrieval always returns its top k, so a sentence about the pension scheme would otherwise
yield false skills. They stay in the per-sentence detail, marked ``filtered``. With
``filter_keeps_named`` (the default) a sentence that names a taxonomy skill verbatim is
searched whatever the filter scores it ("Danish and Swedish will be an advantage because of
our many customers in Norway"): the filter learned from synthetic sentences, and the
vocabulary of pay, customers or company around a real requirement can fool it, while a
named skill is direct evidence. Such a sentence shows ``filtered`` false with a
``filter_score`` below the threshold. docs/benchmarks.md §6.2 measures what this rule buys.

On pseudo-ads of 6 benchmark sentences interleaving raised recall@10 from 0.29 to 0.37 (tech)
and 0.244 to 0.253 (house): see docs/benchmarks.md.
"""

from __future__ import annotations

import os
from typing import Callable, Literal, Sequence

import numpy as np

from skillmap.encoder import SkillEncoder
from skillmap.errors import InputError, SkillmapError
from skillmap.filter import SentenceFilter, resolve_filter
from skillmap.index import SkillIndex, default_index
from skillmap.pipeline.results import AdResult, SentenceResult, SkillMatch
from skillmap.pipeline.segmentation import Segment, segment
from skillmap.pipeline.sentence_cache import Outcome, SentenceCache


class Extractor:
    """Code job ads against a skill index.

    Parameters
    ----------
    index: a :class:`SkillIndex`, an index folder, or None for the embedded default.
    encoder: the encoder matching the index; None loads the model recorded in the index
        (or the default model). A mismatching encoder is refused.
    top_k: skills kept per ad and per sentence.
    min_score: matches scoring below this cosine similarity are dropped.
    aggregation: how an ad's skills are ranked: ``interleave`` or ``max`` (module docstring).
    lexical_boost: added to the score of skills a sentence names verbatim (0 disables).
    sentence_filter: ``"default"`` (the shipped filter once switched on, else none),
        ``"shipped"``, a filter or its folder, or None for no filter.
    filter_threshold: overrides the filter's calibrated threshold.
    filter_keeps_named: sentences that name a skill of the index's taxonomy verbatim pass the
        filter whatever their score (module docstring).
    max_ad_chars: longer ads are coded on their first ``max_ad_chars`` characters and report
        the rest in :attr:`AdResult.truncated_chars`: a million characters is some 200 job
        ads, so a longer "ad" is a corpus pasted into one cell, and coding all of it would
        hold millions of sentences in memory for one row.
    allow_pickle: let the encoder and filter this extractor loads come from pickle-format
        weights (untrusted code can run on unpickling; :mod:`skillmap.security`); None
        follows ``$SKILLMAP_ALLOW_PICKLE``.
    """

    DEFAULT_LEXICAL_BOOST = 0.2
    DEFAULT_MAX_AD_CHARS = 1_000_000

    AGGREGATIONS = ("interleave", "max")

    def __init__(self, index: SkillIndex | str | os.PathLike | None = None,
                 encoder: SkillEncoder | None = None, top_k: int = 10, min_score: float = 0.0,
                 aggregation: Literal["interleave", "max"] = "interleave",
                 lexical_boost: float = DEFAULT_LEXICAL_BOOST,
                 sentence_filter: SentenceFilter | str | os.PathLike | None = "default",
                 filter_threshold: float | None = None, filter_keeps_named: bool = True,
                 max_ad_chars: int = DEFAULT_MAX_AD_CHARS, allow_pickle: bool | None = None):
        if aggregation not in self.AGGREGATIONS:
            raise SkillmapError(f"aggregation must be one of {', '.join(self.AGGREGATIONS)}, "
                                f"got {aggregation!r}")
        if top_k < 1:
            raise SkillmapError(f"top-k must be at least 1, got {top_k}")
        if max_ad_chars < 1:
            raise SkillmapError(f"max-ad-chars must be at least 1, got {max_ad_chars}")
        self.max_ad_chars = max_ad_chars
        if not 0.0 <= lexical_boost <= 1.0:
            raise SkillmapError(f"lexical boost must be in [0, 1], got {lexical_boost}")
        if not -1.0 <= min_score <= 1.0 + lexical_boost:
            raise SkillmapError(f"min-score is a similarity in [-1, {1 + lexical_boost}], "
                                f"got {min_score}")
        if filter_threshold is not None and not 0.0 <= filter_threshold <= 1.0:
            raise SkillmapError(f"filter threshold is a probability in [0, 1], got {filter_threshold}")
        # the filter first: a bad filter folder fails in one line before models load
        self.sentence_filter = resolve_filter(sentence_filter, allow_pickle=allow_pickle)
        self.filter_threshold = filter_threshold
        self.filter_keeps_named = filter_keeps_named
        if index is None:
            encoder = encoder or SkillEncoder.cached(allow_pickle=allow_pickle)
            index = default_index(encoder)
        elif not isinstance(index, SkillIndex):
            index = SkillIndex.load(index)
        if encoder is None:
            encoder = SkillEncoder.cached(index.metadata.model_id, allow_pickle=allow_pickle)
        index.check_encoder(encoder)
        self.index, self.encoder = index, encoder
        self.taxonomy = index.taxonomy
        self.top_k, self.min_score, self.aggregation = top_k, min_score, aggregation
        self.lexical_boost = lexical_boost
        self._groups = [self._group_labels(skill.id) for skill in index.skills]

    def _group_labels(self, skill_id: str) -> tuple[str, str]:
        level1, level2 = self.taxonomy.level1(skill_id), self.taxonomy.level2(skill_id)
        return (level1.label if level1 else "", level2.label if level2 else "")

    def _match(self, position: int, score: float) -> SkillMatch:
        skill = self.index.skills[position]
        level1, level2 = self._groups[position]
        return SkillMatch(skill_id=skill.id, skill_label=skill.label, score=float(score),
                          level1=level1, level2=level2)

    def extract(self, text: str, doc_id: str = "ad-1") -> AdResult:
        """Code one ad (a ``str``; see :meth:`extract_many` for missing values)."""
        return self.extract_many([text], [doc_id])[0]

    PROGRESS_STEP = 128  # sentences encoded between two ``on_progress`` calls

    def extract_many(self, texts: Sequence[str], doc_ids: Sequence[str] | None = None,
                     show_progress: bool = False,
                     on_progress: Callable[[int, int], None] | None = None,
                     cache: SentenceCache | None = None) -> list[AdResult]:
        """Code several ads, encoding each distinct sentence once.

        ``on_progress(done, total)`` is called as distinct sentences are encoded (the slow
        part), so a caller such as the app can move a progress bar while the whole batch is
        still de-duplicated as one. With a ``cache`` (a batch run's
        :class:`~skillmap.pipeline.sentence_cache.SentenceCache`), sentences coded by an
        earlier call are taken from it and the new ones are added to it.

        Each text must be a ``str``; None and NaN (a missing cell of a pandas column) are
        coded as empty ads, anything else is refused with an :class:`InputError`.
        """
        texts = [_ad_text(text, i) for i, text in enumerate(texts)]
        if doc_ids is None:
            doc_ids = [f"ad-{i + 1}" for i in range(len(texts))]
        if len(doc_ids) != len(texts):
            raise ValueError("texts and doc_ids differ in length")
        cut = [max(len(text) - self.max_ad_chars, 0) for text in texts]
        segmented = [segment(text[:self.max_ad_chars]) for text in texts]
        distinct = list(dict.fromkeys(s.text for segs in segmented for s in segs if s.codable))
        outcomes: dict[str, Outcome] = {}
        if cache is not None:
            for sentence in distinct:
                known = cache.get(sentence)
                if known is not None:
                    outcomes[sentence] = known
        todo = [sentence for sentence in distinct if sentence not in outcomes]
        for sentence, outcome in zip(todo, self._code_sentences(todo, show_progress,
                                                                on_progress)):
            outcomes[sentence] = outcome
            if cache is not None:
                cache.add(sentence, outcome)
        results = [self._aggregate(doc_id, segs, outcomes)
                   for doc_id, segs in zip(doc_ids, segmented)]
        for result, dropped in zip(results, cut):
            result.truncated_chars = dropped
        return results

    def _code_sentences(self, sentences: list[str], show_progress: bool,
                        on_progress: Callable[[int, int], None] | None) -> list[Outcome]:
        """Filter, encode and search distinct sentences: one :class:`Outcome` each."""
        scores, keep, vectors = self.screen(sentences, show_progress=show_progress)
        kept = [sentence for sentence, ok in zip(sentences, keep) if ok]
        if vectors is None:
            vectors = self._encode(kept, show_progress, on_progress)
        else:
            vectors = vectors[keep]
            if on_progress is not None:
                on_progress(len(kept), len(kept))
        ranked = iter(self.rank_sentences(kept, vectors))
        return [Outcome(None if scores is None else float(score),
                        tuple(next(ranked)) if ok else None)
                for score, ok in zip(scores if scores is not None else keep, keep)]

    def _encode(self, sentences: list[str], show_progress: bool,
                on_progress: Callable[[int, int], None] | None) -> np.ndarray:
        """Encode; with a progress callback, in slices of sentences sorted by length.

        Sorting first keeps the padding of each slice as small as one whole-batch encode
        (sentence-transformers sorts by length within a call): unsorted slices of real ads
        cost 1.7x the time.
        """
        if on_progress is None:
            return self.encoder.encode(sentences, show_progress=show_progress)
        order = sorted(range(len(sentences)), key=lambda i: len(sentences[i]))
        vectors = np.zeros((len(sentences), self.encoder.dimension), dtype=np.float32)
        for start in range(0, len(order), self.PROGRESS_STEP):
            rows = order[start:start + self.PROGRESS_STEP]
            vectors[rows] = self.encoder.encode([sentences[i] for i in rows])
            on_progress(min(start + self.PROGRESS_STEP, len(sentences)), len(sentences))
        return vectors

    def screen(self, sentences: Sequence[str], show_progress: bool = False
               ) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]:
        """Run the filter: ``(scores or None, keep mask, embeddings of all or None)``.

        A filter that reads the index encoder's embeddings gets them computed once here and
        returned, so the kept sentences are not encoded twice.
        """
        keep = np.ones(len(sentences), dtype=bool)
        if self.sentence_filter is None or not len(sentences):
            return None, keep, None
        vectors = None
        if self.sentence_filter.encoder_model_id == self.encoder.model_id:
            vectors = self.encoder.encode(list(sentences), show_progress=show_progress)
        scores, keep = self.sentence_filter.keep(sentences, self.filter_threshold,
                                                 embeddings=vectors)
        if self.filter_keeps_named:  # only the dropped ones need looking at
            matcher = self.index.label_matcher
            for i in np.flatnonzero(~keep):
                keep[i] = bool(matcher.find(sentences[i]))
        return scores, keep, vectors

    def rank_sentences(self, sentences: Sequence[str], vectors: np.ndarray | None = None
                       ) -> list[list[tuple[int, float]]]:
        """Per sentence (already segmented), the top-k ``(skill position, score)``.

        Positions index ``self.index.skills``. Used by extraction and by evaluation on
        sentence-level benchmarks. Exact: the boosted top k lies within the dense top k plus
        the skills the sentence names.
        """
        if vectors is None:
            vectors = self.encoder.encode(list(sentences))
        scores, hits = self.index.search(vectors, self.top_k)
        ranked = []
        for sentence, vector, row_scores, row_hits in zip(sentences, vectors, scores, hits):
            candidates = {int(h): float(s) for s, h in zip(row_scores, row_hits) if h >= 0}
            if self.lexical_boost:
                for hit in self.index.label_matcher.find(sentence):
                    cosine = candidates.get(hit, float(self.index.vector(hit) @ vector))
                    candidates[hit] = cosine + self.lexical_boost
            ranked.append(sorted(candidates.items(), key=lambda item: -item[1])[: self.top_k])
        return ranked

    def _aggregate(self, doc_id: str, segments: list[Segment],
                   outcomes: dict[str, Outcome]) -> AdResult:
        sentences: list[SentenceResult] = []
        best: dict[int, tuple[float, int]] = {}  # skill position -> (score, sentence index)
        best_rank: dict[int, int] = {}  # skill position -> best rank in any sentence
        for i, seg in enumerate(segments):
            outcome = outcomes.get(seg.text) if seg.codable else None
            ranked = outcome.ranked if outcome is not None else None
            matches = []
            for hit, score in ranked or ():
                if score < self.min_score:
                    continue
                matches.append(self._match(hit, score))
                match_rank = len(matches)
                best_rank[hit] = min(best_rank.get(hit, match_rank), match_rank)
                if hit not in best or score > best[hit][0]:
                    best[hit] = (score, i)
            for rank, match in enumerate(matches, 1):
                match.rank = rank
            sentences.append(SentenceResult(
                i, seg.text, seg.start, seg.end, seg.kind, matches,
                filtered=seg.codable and ranked is None,
                filter_score=outcome.filter_score if outcome is not None else None))
        if self.aggregation == "interleave":
            order = sorted(best, key=lambda hit: (best_rank[hit], -best[hit][0]))
        else:
            order = sorted(best, key=lambda hit: -best[hit][0])
        skills = []
        for rank, hit in enumerate(order[: self.top_k], 1):
            score, sentence_index = best[hit]
            match = self._match(hit, score)
            match.rank = rank
            match.evidence_index = sentence_index
            match.evidence_sentence = segments[sentence_index].text
            skills.append(match)
        return AdResult(doc_id=doc_id, skills=skills, sentences=sentences)

    def __repr__(self) -> str:
        return (f"Extractor(index={self.index!r}, top_k={self.top_k}, min_score={self.min_score}, "
                f"sentence_filter={self.sentence_filter!r})")



def _ad_text(text, position: int) -> str:
    """An ad's text, or a one-line error for a value that is not text."""
    if isinstance(text, str):
        return text
    if text is None or (isinstance(text, float) and text != text):
        return ""
    hint = "; decode it first" if isinstance(text, (bytes, bytearray)) else ""
    raise InputError(f"ad {position + 1} is {type(text).__name__}, not text (str){hint}")
