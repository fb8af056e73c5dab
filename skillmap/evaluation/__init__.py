"""Evaluation stage: metrics, gold-data readers, rankers (ours and baselines), the harness."""

from skillmap.evaluation.benchmarks import (Benchmark, GoldItem, read_benchmark, read_gold_file,
                                           read_skill_extraction_csv)
from skillmap.evaluation.harness import HEADLINE, EvalReport, evaluate
from skillmap.evaluation.metrics import score_rankings
from skillmap.evaluation.rankers import PipelineRanker, Ranker

__all__ = ["HEADLINE", "Benchmark", "EvalReport", "GoldItem", "PipelineRanker", "Ranker",
           "evaluate", "read_benchmark", "read_gold_file", "read_skill_extraction_csv",
           "score_rankings"]
