"""The extraction pipeline: segment -> filter -> encode -> search -> aggregate per ad.

:class:`Extractor` is the one implementation behind ``skillmap extract``, ``skillmap
batch`` and the app. ``extract_many`` codes a batch of ads at once and encodes each distinct
sentence only once: job ads repeat boilerplate heavily, so this saves encoder time on every
corpus.

Per ad, a skill's ``score`` is the best similarity any sentence gives it, and that sentence
is its evidence. How the ad's skills are *ranked* is the ``aggregation``
(:mod:`skillmap.pipeline.aggregation`: by evidence, the default; interleaved; by match).

Per sentence, skills whose label or alternative label the sentence names verbatim get
``lexical_boost`` added to their cosine similarity (hybrid scoring, see
:mod:`skillmap.index.lexical`), so a reported ``score`` is cosine + boost when named.

The *filter* (:mod:`skillmap.filter`; ``"default"`` is the filter shipped in the package)
scores every sentence; sentences below its threshold are not encoded or searched — retrieval
always returns its top k, so a sentence about the pension scheme would otherwise
yield false skills. They stay in the per-sentence detail, marked ``filtered``. With
``filter_keeps_named`` (the default) a sentence that names a taxonomy skill verbatim is
searched whatever the filter scores it ("Danish and Swedish will be an advantage because of
our many customers in Norway"): the filter learned from synthetic sentences, and the
vocabulary of pay, customers or company around a real requirement can fool it, while a
named skill is direct evidence. Such a sentence shows ``filtered`` false with a
``filter_score`` below the threshold; docs/benchmarks.md measures what this rule buys.
"""

from __future__ import annotations

import os
from typing import Callable, Sequence

import numpy as np

from skillmap.encoder import SkillEncoder
from skillmap.errors import InputError
from skillmap.filter import resolve_filter
from skillmap.index import SkillIndex, default_index
from skillmap.pipeline.aggregation import AGGREGATIONS
from skillmap.pipeline.config import ExtractorConfig
from skillmap.pipeline.exclusions import check_pattern, resolve_skills
from skillmap.pipeline.results import AdResult, SentenceResult, SkillMatch
from skillmap.pipeline.sentence_cache import Outcome, SentenceCache
from skillmap.rerank.ad_context import BROAD_REUSE_LEVELS, context_terms, leave_one_out_contexts
from skillmap.rerank.registry import RERANKERS, resolve_reranker
from skillmap.segmentation import CONTENT_KINDS, Segment, segment, segment_ad


class Extractor:
    """Code job ads against a skill index.

    Parameters
    ----------
    index: a :class:`SkillIndex`, an index folder, or None for the embedded default.
    encoder: the encoder matching the index; None loads the model recorded in the index
        (or the default model). A mismatching encoder is refused.
    load_encoder: how that model is loaded when no encoder is given: by default a new
        :class:`SkillEncoder` owned by this extractor. Pass :meth:`SkillEncoder.cached` to
        share one instance per model across the process (the CLI and the app do): sharing
        is then the caller's visible choice, not a hidden side effect of a constructor.
    config: an :class:`~skillmap.pipeline.config.ExtractorConfig` (defaults: its defaults);
        keyword ``options`` override its fields. :attr:`config` is what this extractor does.

    The settings (fields of the config):

    model, backend: the encoder to load when none is given, and its backend.
    top_k: skills kept per ad and per sentence.
    min_score: matches whose cosine similarity is below this are dropped (a skill the
        sentence names verbatim is kept whatever its similarity); the default is calibrated
        for the default encoder.
    min_evidence: a skill is listed for the ad only if the filter scores its evidence
        sentence at least this (None: the filter's calibrated evidence threshold).
    aggregation: how an ad's skills are ranked: ``evidence``, ``interleave`` or ``max``
        (module docstring).
    structure: read the ad's structure (:mod:`skillmap.segmentation.structure`): titles,
        headings, metadata lines and placeholders are not coded as evidence, and the filter
        sees each sentence's kind and section. False: every sentence is coded alone.
    lexical_boost: added to the score of skills a sentence names verbatim (0 disables).
    label_overlap: W x the share of a candidate's names the sentence says, word by word and
        weighted by rarity (:class:`skillmap.index.lexical.LabelOverlap`), is added to the
        order of each sentence's candidates: a skill whose name the sentence says in part
        ("Artificial Intelligence" for "principles of artificial intelligence") moves up.
        It orders; the reported score stays the cosine. 0: off.
    sentence_filter: ``"default"`` (the filter shipped with the package), ``"shipped-text"``
        (its text classifier alone), ``"keyword-length"``, a filter or its folder, or None
        for no filter.
    filter_threshold: overrides the filter's calibrated threshold.
    filter_keeps_named: sentences that name a skill of the index's taxonomy verbatim pass the
        filter whatever their score (module docstring).
    exclude_skills, exclude_sentences: skills (ids or labels) never listed, and patterns of
        sentences never searched (:mod:`skillmap.pipeline.exclusions`).
    max_ad_chars: longer ads are coded on their first ``max_ad_chars`` characters and report
        the rest in :attr:`AdResult.truncated_chars`: a million characters is some 200 job
        ads, so a longer "ad" is a corpus pasted into one cell, and coding all of it would
        hold millions of sentences in memory for one row.
    allow_pickle: let the encoder and filter this extractor loads come from pickle-format
        weights (untrusted code can run on unpickling; :mod:`skillmap.security`); None
        follows ``$SKILLMAP_ALLOW_PICKLE``.
    rerank, rerank_candidates, rerank_weight, rerank_temperature: the reranker that reorders
        each sentence's top ``rerank_candidates`` (:mod:`skillmap.rerank`).
    second_opinion, second_opinion_weight: a second sentence-transformers model whose cosine
        takes that share of each candidate's order key (slower, more accurate;
        :mod:`skillmap.rerank.second_opinion`); None: none.
    context_weight: how much the rest of the ad reorders each sentence's candidates (word
        sense: a data engineer's "pipelines"; :mod:`skillmap.rerank.ad_context`); 0: off, each
        sentence is ranked alone. A sentence-level benchmark has no ad around its sentences,
        so this changes per-ad coding only.
    """


    AGGREGATIONS = AGGREGATIONS

    def __init__(self, index: SkillIndex | str | os.PathLike | None = None,
                 encoder: SkillEncoder | None = None, config: ExtractorConfig | None = None,
                 *, load_encoder: Callable[..., SkillEncoder] = SkillEncoder, **options):
        if index is not None and not isinstance(index, SkillIndex):
            options["index"] = str(index)
        config = config or ExtractorConfig()
        config = config.replace(**options) if options else config
        self.config = config
        # the filter first: a bad filter folder fails in one line before models load
        self.sentence_filter = resolve_filter(config.sentence_filter,
                                              allow_pickle=config.allow_pickle)
        model = config.model
        if not isinstance(index, SkillIndex):
            index = SkillIndex.load(config.index) if config.index is not None else None
        if encoder is None and (model is not None or index is not None or config.backend):
            encoder = load_encoder(model or (index.recorded_model() if index else None),
                                   backend=config.backend, allow_pickle=config.allow_pickle)
        if index is None:
            encoder = encoder or load_encoder(allow_pickle=config.allow_pickle)
            index = default_index(encoder)
        index.check_encoder(encoder)
        self.index, self.encoder = index, encoder
        self.taxonomy = index.taxonomy
        for name in ("top_k", "min_score", "aggregation", "lexical_boost", "label_overlap",
                     "structure", "filter_threshold", "filter_keeps_named", "min_evidence",
                     "max_ad_chars", "context_weight"):
            setattr(self, name, getattr(config, name))
        self._groups = [self._group_labels(skill.id) for skill in index.skills]
        self._broad = np.array([skill.reuse_level in BROAD_REUSE_LEVELS
                                for skill in index.skills], dtype=bool)
        self._excluded = resolve_skills(config.exclude_skills, index.skills)
        self._excluded_sentences = [check_pattern(p, "excluded sentence pattern")
                                    for p in config.exclude_sentences]
        rerank = resolve_reranker(config.rerank, encoder)
        self.reranker = None if rerank is None else RERANKERS[rerank](
            encoder, index.vectors, temperature=config.rerank_temperature)
        self.second_opinion = None
        if config.second_opinion is not None:
            from skillmap.defaults import cache_dir
            from skillmap.rerank.second_opinion import SecondOpinion

            self.second_opinion = SecondOpinion(
                config.second_opinion, [skill.label for skill in index.skills],
                config.second_opinion_weight, cache_dir=cache_dir() / "second-opinion",
                allow_pickle=config.allow_pickle)

    @classmethod
    def from_config(cls, config: ExtractorConfig, encoder: SkillEncoder | None = None,
                    index: SkillIndex | None = None, *,
                    load_encoder: Callable[..., SkillEncoder] = SkillEncoder) -> "Extractor":
        """The extractor ``config`` describes (``encoder``/``index``: already loaded ones;
        ``load_encoder``: as in the constructor)."""
        return cls(index=index, encoder=encoder, config=config, load_encoder=load_encoder)

    def _group_labels(self, skill_id: str) -> tuple[str, str]:
        level1, level2 = self.taxonomy.level1(skill_id), self.taxonomy.level2(skill_id)
        return (level1.label if level1 else "", level2.label if level2 else "")

    def _match(self, position: int, cosine: float, bonus: float = 0.0) -> SkillMatch:
        skill = self.index.skills[position]
        level1, level2 = self._groups[position]
        return SkillMatch(skill_id=skill.id, skill_label=skill.label,
                          score=min(max(float(cosine), 0.0), 1.0), name_bonus=float(bonus),
                          level1=level1, level2=level2, skill_type=skill.skill_type,
                          reuse_level=skill.reuse_level)

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
        segmented = [self.segments(text[:self.max_ad_chars]) for text in texts]
        units = list(dict.fromkeys(_unit(s) for segs in segmented for s in segs
                                   if self._searchable(s)))
        outcomes: dict[str, Outcome] = {}
        if cache is not None:
            for unit in units:
                known = cache.get(unit)
                if known is not None:
                    outcomes[unit] = known
        todo = [unit for unit in units if unit not in outcomes]
        for unit, outcome in zip(todo, self._code_units(todo, show_progress, on_progress)):
            outcomes[unit] = outcome
            if cache is not None:
                cache.add(unit, outcome)
        results = [self._aggregate(doc_id, segs, outcomes)
                   for doc_id, segs in zip(doc_ids, segmented)]
        for result, dropped in zip(results, cut):
            result.truncated_chars = dropped
        return results

    def segments(self, text: str) -> list[Segment]:
        """The ad's segments: with ``structure``, each with its kind and section."""
        return segment_ad(text) if self.structure else segment(text)

    def _searchable(self, seg: Segment) -> bool:
        """Content sentences are screened and searched; with ``structure`` the title is
        searched too (its skills count as mentions, never as the ad's evidence). A sentence
        an exclusion pattern matches is not."""
        return (seg.kind in CONTENT_KINDS or (self.structure and seg.kind == "title")) \
            and not self._is_excluded(seg.text)

    def _is_excluded(self, text: str) -> bool:
        return any(pattern.search(text) for pattern in self._excluded_sentences)

    def _code_units(self, units: list[str], show_progress: bool,
                    on_progress: Callable[[int, int], None] | None) -> list[Outcome]:
        """Filter, encode and search distinct units (:func:`_unit`): one :class:`Outcome`
        each. A unit is a sentence in its context (kind and section), since the filter
        may judge the same words differently under "Requirements" and under "Benefits"."""
        parsed = [_parse_unit(unit) for unit in units]
        content = [i for i, (kind, _, _) in enumerate(parsed) if kind in CONTENT_KINDS]
        scores, keep, vectors = self.screen([parsed[i][2] for i in content],
                                            [parsed[i][:2] for i in content], show_progress)
        unit_score: dict[int, float | None] = {i: None for i in range(len(units))}
        searched = [i for i in range(len(units)) if i not in set(content)]  # titles
        for position, i in enumerate(content):
            unit_score[i] = None if scores is None else float(scores[position])
            if keep[position]:
                searched.append(i)
        texts = list(dict.fromkeys(parsed[i][2] for i in searched))
        if vectors is not None and self.reranker is None:
            # the filter's embeddings cover the content sentences; titles (searched for
            # the skills they name) are encoded here
            row = {parsed[i][2]: position for position, i in enumerate(content)}
            titles = [t for t in texts if t not in row]
            if titles:
                row.update({t: len(vectors) + n for n, t in enumerate(titles)})
                vectors = np.vstack([vectors, self._encode(titles, False, None)[0]])
            text_vectors, tokens = (vectors[[row[t] for t in texts]] if texts else vectors[:0],
                                    None)
            if on_progress is not None:
                on_progress(len(texts), len(texts))
        else:  # with a reranker, its token embeddings come from the same forward pass
            text_vectors, tokens = self._encode(texts, show_progress, on_progress)
        if self.context_weight:  # finished per ad (_in_context): every candidate, its vector
            ranked = dict(zip(texts, self._candidates(texts, text_vectors, tokens)))
            vector = {text: np.asarray(v, dtype=np.float32).tobytes()
                      for text, v in zip(texts, text_vectors)}
        else:
            ranked = dict(zip(texts, self.rank_sentences(texts, text_vectors, tokens)))
            vector = {}
        searched_set = set(searched)
        return [Outcome(unit_score[i], tuple(ranked[parsed[i][2]]), vector.get(parsed[i][2]))
                if i in searched_set else Outcome(unit_score[i], None)
                for i in range(len(units))]

    def _encode(self, sentences: list[str], show_progress: bool,
                on_progress: Callable[[int, int], None] | None
                ) -> tuple[np.ndarray, list | None]:
        """Pooled vectors, and with a reranker each sentence's token embeddings from the same
        forward pass (else None); with a progress callback, in slices of sentences sorted by
        length.

        Sorting first keeps the padding of each slice as small as one whole-batch encode
        (sentence-transformers sorts by length within a call): unsorted slices of real ads
        cost 1.7x the time.
        """
        def forward(texts: list[str], bar: bool = False) -> tuple[np.ndarray, list | None]:
            if self.reranker is not None:
                return self.reranker.encode(texts, show_progress=bar)
            return self.encoder.encode(texts, show_progress=bar), None

        if on_progress is None:
            return forward(sentences, show_progress)
        order = sorted(range(len(sentences)), key=lambda i: len(sentences[i]))
        vectors = np.zeros((len(sentences), self.encoder.dimension), dtype=np.float32)
        tokens: list = [None] * len(sentences)
        for start in range(0, len(order), self.PROGRESS_STEP):
            rows = order[start:start + self.PROGRESS_STEP]
            vectors[rows], slice_tokens = forward([sentences[i] for i in rows])
            for i, row_tokens in zip(rows, slice_tokens or ()):
                tokens[i] = row_tokens
            on_progress(min(start + self.PROGRESS_STEP, len(sentences)), len(sentences))
        return vectors, (tokens if self.reranker is not None else None)

    def screen(self, sentences: Sequence[str],
               contexts: Sequence[tuple[str, str]] | None = None, show_progress: bool = False
               ) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]:
        """Run the filter: ``(scores or None, keep mask, embeddings of all or None)``.

        ``contexts`` are the sentences' ``(kind, section)`` (None: lone sentences, as in a
        sentence-level benchmark). A filter that reads the index encoder's embeddings gets
        them computed once here and returned, so the kept sentences are not encoded twice.
        """
        keep = np.ones(len(sentences), dtype=bool)
        if self.sentence_filter is None or not len(sentences):
            return None, keep, None
        vectors = None
        if self.sentence_filter.encoder_model_id == self.encoder.model_id:
            vectors = self.encoder.encode(list(sentences), show_progress=show_progress)
        scores, keep = self.sentence_filter.keep(sentences, self.filter_threshold,
                                                 embeddings=vectors, contexts=contexts)
        if self.filter_keeps_named:  # only the dropped ones need looking at
            matcher = self.index.label_matcher
            for i in np.flatnonzero(~keep):
                keep[i] = bool(matcher.find(sentences[i]))
        return scores, keep, vectors

    def rank_sentences(self, sentences: Sequence[str], vectors: np.ndarray | None = None,
                       tokens: Sequence | None = None) -> list[list[tuple[int, float, float]]]:
        """Per sentence (already segmented), the top-k ``(skill position, cosine, name
        bonus)``, ordered by cosine + bonus.

        Positions index ``self.index.skills``; the bonus is ``lexical_boost`` for a skill the
        sentence names verbatim, else 0. Used by extraction and by evaluation on
        sentence-level benchmarks. Exact: the boosted top k lies within the dense top k plus
        the skills the sentence names. With a reranker, ``tokens`` are the sentences' token
        embeddings from the same forward pass as ``vectors`` (computed here if not given).
        """
        return [[(hit, cosine, bonus) for hit, cosine, bonus, _ in candidates[: self.top_k]]
                for candidates in self._candidates(sentences, vectors, tokens)]

    def _candidates(self, sentences: Sequence[str], vectors: np.ndarray | None = None,
                    tokens: Sequence | None = None) -> list[list[tuple[int, float, float, float]]]:
        """Per sentence, every candidate ``(skill position, cosine, name bonus, order key)``,
        best first (:meth:`rank_sentences` keeps the top k of them)."""
        if vectors is None and self.reranker is not None and len(sentences):
            vectors, tokens = self.reranker.encode(list(sentences))
        elif vectors is None:
            vectors = self.encoder.encode(list(sentences))
        if not len(sentences):
            return []
        excluded = self._excluded
        depth = self.top_k + len(excluded)  # k left after them
        if self.reranker is not None or self.second_opinion is not None or self.label_overlap:
            depth = max(depth, self.config.rerank_candidates)  # the candidates they reorder
        scores, hits = self.index.search(vectors, min(depth, len(self.index.skills)))
        rows = []
        for sentence, vector, row_scores, row_hits in zip(sentences, vectors, scores, hits):
            candidates = {int(h): (float(s), 0.0) for s, h in zip(row_scores, row_hits)
                          if h >= 0 and int(h) not in excluded}
            if self.lexical_boost:
                for hit in self.index.label_matcher.find(sentence):
                    if hit in excluded:
                        continue
                    cosine = candidates.get(hit, (float(self.index.vector(hit) @ vector),))[0]
                    candidates[hit] = (cosine, self.lexical_boost)
            rows.append(candidates)
        extra = self._rerank_scores(sentences, rows, tokens)
        if self.label_overlap:
            overlaps = self.index.label_overlap.scores(sentences, [list(row) for row in rows])
            for terms, row, overlap in zip(extra, rows, overlaps):
                for hit, value in zip(row, overlap.tolist()):
                    terms[hit] = terms.get(hit, 0.0) + self.label_overlap * value
        if self.second_opinion is not None:
            for terms, more in zip(extra, self.second_opinion.terms(sentences, rows)):
                for hit, value in more.items():
                    terms[hit] = terms.get(hit, 0.0) + value
        ranked = []
        for candidates, bonus_of in zip(rows, extra):
            keyed = [(hit, cosine, bonus, cosine + bonus + bonus_of.get(hit, 0.0))
                     for hit, (cosine, bonus) in candidates.items()]
            ranked.append(sorted(keyed, key=lambda candidate: -candidate[3]))
        return ranked

    def _in_context(self, segments: list[Segment], outcomes: dict[str, Outcome]
                    ) -> dict[int, list[tuple[int, float, float]]]:
        """Per searched segment of one ad (by position), its top k once each candidate's order
        key has the ad's context term (:mod:`skillmap.rerank.ad_context`): the context of a
        segment is the rest of the ad's searched segments, its title included."""
        searched = []
        for i, seg in enumerate(segments):
            outcome = outcomes.get(_unit(seg)) if self._searchable(seg) else None
            if outcome is not None and outcome.ranked is not None:
                searched.append((i, outcome))
        if not searched:
            return {}
        contexts = leave_one_out_contexts(np.stack([outcome.array for _, outcome in searched]))
        ordered = {}
        for (i, outcome), context in zip(searched, contexts):
            hits = [int(candidate[0]) for candidate in outcome.ranked]
            skills = np.stack([self.index.vector(hit) for hit in hits])
            terms = context_terms(skills, context, self.context_weight, self._broad[hits])
            keyed = sorted(zip(outcome.ranked, terms), key=lambda pair: -(pair[0][3] + pair[1]))
            ordered[i] = [(hit, cosine, bonus)
                          for (hit, cosine, bonus, _), _ in keyed[: self.top_k]]
        return ordered

    def _rerank_scores(self, sentences: Sequence[str], rows: list[dict],
                       tokens: Sequence | None = None) -> list[dict]:
        """Per sentence, what the reranker adds to each candidate's order (``rerank_weight``
        x its score); empty without a reranker. The score orders the candidates only: the
        ``score`` reported stays the cosine."""
        if self.reranker is None or not rows:
            return [{} for _ in rows]
        width = max(len(candidates) for candidates in rows)
        matrix = np.full((len(rows), max(width, 1)), -1, dtype=np.int64)
        for i, candidates in enumerate(rows):
            matrix[i, :len(candidates)] = list(candidates)
        if tokens is None:
            _, tokens = self.reranker.encode(list(sentences))
        late = self.reranker.score(list(sentences), matrix, tokens)
        weight = self.config.rerank_weight
        return [{int(h): weight * float(s) for h, s in zip(row, scores) if h >= 0}
                for row, scores in zip(matrix, late)]

    def _aggregate(self, doc_id: str, segments: list[Segment],
                   outcomes: dict[str, Outcome]) -> AdResult:
        sentences: list[SentenceResult] = []
        best: dict[int, tuple[float, float, float, int]] = {}  # skill -> (strength, cosine,
        #                                                        bonus, sentence index)
        best_rank: dict[int, int] = {}  # skill position -> best rank in any content sentence
        mentions: dict[int, int] = {}   # skill position -> segments naming it among their best
        listable = self._evidence_floor()
        in_context = self._in_context(segments, outcomes) if self.context_weight else {}
        for i, seg in enumerate(segments):
            outcome = outcomes.get(_unit(seg)) if self._searchable(seg) else None
            ranked = outcome.ranked if outcome is not None else None
            ranked = in_context.get(i, ranked)
            confidence = outcome.filter_score if outcome is not None else None
            matches = []
            for hit, cosine, bonus in ranked or ():
                if cosine < self.min_score and not bonus:
                    continue
                matches.append(self._match(hit, cosine, bonus))
                match_rank = len(matches)
                if match_rank <= MENTION_RANK:
                    mentions[hit] = mentions.get(hit, 0) + 1
                if seg.kind not in CONTENT_KINDS:
                    continue  # a title's skills are mentions, not the ad's evidence
                if not bonus and confidence is not None and confidence < listable:
                    continue  # too unsure the sentence states a skill to list it for the ad
                strength = self._strength(cosine, bonus, confidence, match_rank)
                best_rank[hit] = min(best_rank.get(hit, match_rank), match_rank)
                if hit not in best or strength > best[hit][0]:
                    best[hit] = (strength, cosine, bonus, i)
            for rank, match in enumerate(matches, 1):
                match.rank = rank
            excluded = seg.kind in CONTENT_KINDS and outcome is None and \
                self._is_excluded(seg.text)
            sentences.append(SentenceResult(
                i, seg.text, seg.start, seg.end, seg.kind, matches,
                filtered=seg.kind in CONTENT_KINDS and ranked is None and not excluded,
                filter_score=confidence, section=seg.section, excluded=excluded))
        order = AGGREGATIONS[self.aggregation].order(best, best_rank, mentions)
        skills = []
        for rank, hit in enumerate(order[: self.top_k], 1):
            _, cosine, bonus, sentence_index = best[hit]
            match = self._match(hit, cosine, bonus)
            match.rank = rank
            match.mentions = max(mentions.get(hit, 0), 1)
            match.evidence_index = sentence_index
            match.evidence_sentence = segments[sentence_index].text
            match.evidence_section = segments[sentence_index].section
            skills.append(match)
        return AdResult(doc_id=doc_id, skills=skills, sentences=sentences)

    def _evidence_floor(self) -> float:
        """A skill is listed only if its evidence sentence's filter score reaches this: the
        filter's calibrated evidence threshold, or ``min_evidence`` when set."""
        if self.min_evidence is not None:
            return self.min_evidence
        return getattr(self.sentence_filter, "evidence_threshold", None) or 0.0

    def _strength(self, cosine: float, bonus: float, confidence: float | None,
                  rank: int) -> float:
        """How strongly one sentence evidences a skill: the match (cosine + name bonus), how
        sure the filter is that the sentence states a skill at all (log-odds, weighted), and
        a small penalty per rank within the sentence, so one sentence's near-synonyms do not
        fill the list."""
        strength = cosine + bonus - RANK_PENALTY * (rank - 1)
        if confidence is not None and AGGREGATIONS[self.aggregation].weighs_filter_confidence:
            p = min(max(confidence, 1e-3), 1 - 1e-3)
            strength += EVIDENCE_WEIGHT * float(np.log(p / (1 - p)))
        return strength

    def __repr__(self) -> str:
        return (f"Extractor(index={self.index!r}, top_k={self.top_k}, min_score={self.min_score}, "
                f"sentence_filter={self.sentence_filter!r})")


MENTION_RANK = 3        # a segment mentions the skills among its first three matches
# evidence aggregation, chosen on the calibration half of SkillSpan dev (docs/benchmarks.md)
EVIDENCE_WEIGHT = 0.2   # weight of the filter's log-odds that the sentence states a skill
RANK_PENALTY = 0.1      # per rank of the skill within its sentence
_SEP = "\x1f"           # unit fields; never in segment text (clean_text drops controls)


def _unit(seg: Segment) -> str:
    """A segment's identity for de-duplication and the batch cache: kind, section, text."""
    return f"{seg.kind}{_SEP}{seg.section}{_SEP}{seg.text}"


def _parse_unit(unit: str) -> tuple[str, str, str]:
    kind, section, text = unit.split(_SEP, 2)
    return kind, section, text


def _ad_text(text, position: int) -> str:
    """An ad's text, or a one-line error for a value that is not text."""
    if isinstance(text, str):
        return text
    if text is None or (isinstance(text, float) and text != text):
        return ""
    hint = "; decode it first" if isinstance(text, (bytes, bytearray)) else ""
    raise InputError(f"ad {position + 1} is {type(text).__name__}, not text (str){hint}")
