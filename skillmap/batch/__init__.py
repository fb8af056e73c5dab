"""Batch stage: code whole ad corpora to the long output format, resumably."""

from skillmap.batch.csv_batch import BatchReport, code_csv

__all__ = ["BatchReport", "code_csv"]
