"""Synthetic training data: an LLM (or the offline template backend) writes job-ad sentences
from the taxonomy's own definitions.

``plan_requests`` decides what to ask (every skill covered; constrained combinations within a
Level-2 group), a :class:`~skillmap.generation.backends.Backend` answers, the
:class:`ResponseCache` keeps every answer, :class:`QualityRules` drop bad sentences and the
:class:`~skillmap.corpus.CorpusWriter` appends de-duplicated JSONL (the corpus format lives in
:mod:`skillmap.corpus`, which the trainers read too); :mod:`skillmap.evaluation.corpus_stats`
says how good a corpus is.
"""

from skillmap.corpus import CorpusRecord, CorpusWriter, read_corpus
from skillmap.generation.backends import LLM_BACKENDS, Backend, Completion, make_backend
from skillmap.generation.cache import ResponseCache
from skillmap.generation.prompts import MODES, PromptTemplate, load_prompt
from skillmap.generation.quality import QualityRules
from skillmap.generation.runner import GenerationReport, generate_corpus
from skillmap.generation.sampling import GenerationRequest, plan_requests, sample_level2_groups

__all__ = ["LLM_BACKENDS", "MODES", "Backend", "Completion", "CorpusRecord", "CorpusWriter",
           "GenerationReport", "GenerationRequest", "PromptTemplate", "QualityRules",
           "ResponseCache", "generate_corpus", "load_prompt", "make_backend", "plan_requests",
           "read_corpus", "sample_level2_groups"]
