"""Batch stage: code whole ad corpora (CSV, JSONL, Parquet) to the long format, resumably."""

from skillmap.batch.coder import BatchReport, check_batch_input, code_corpus, code_csv

__all__ = ["BatchReport", "check_batch_input", "code_corpus", "code_csv"]
