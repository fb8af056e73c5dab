"""Batch stage: code whole ad corpora to the long output format, resumably."""

from skillmap.batch.csv_batch import BatchReport, check_batch_input, code_csv

__all__ = ["BatchReport", "check_batch_input", "code_csv"]
