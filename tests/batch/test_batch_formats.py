"""Batch input formats (CSV, JSONL, Parquet, gzip) and Parquet output give the CSV run's rows."""

from __future__ import annotations

import gzip
import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from skillmap.batch import code_corpus
from skillmap.batch.readers import open_ad_table
from skillmap.errors import InputError
from skillmap.pipeline import LONG_COLUMNS

from conftest import DATA

SAMPLE = DATA / "sample_ads.csv"


@pytest.fixture(scope="module")
def ads() -> pd.DataFrame:
    return pd.read_csv(SAMPLE, dtype=str).head(12)


@pytest.fixture(scope="module")
def reference(demo_extractor, ads, tmp_path_factory) -> pd.DataFrame:
    folder = tmp_path_factory.mktemp("reference")
    ads.to_csv(folder / "ads.csv", index=False)
    code_corpus(demo_extractor, folder / "ads.csv", folder / "coded.csv", "description",
                "ad_id", chunk_size=5, show_progress=False)
    return pd.read_csv(folder / "coded.csv", dtype=str, keep_default_na=False)


def _write(ads: pd.DataFrame, path):
    name = path.name
    if name.endswith(".parquet"):
        # several small row groups: chunks must not depend on the file's grouping
        pq.write_table(pa.Table.from_pandas(ads, preserve_index=False), path, row_group_size=4)
    elif ".jsonl" in name:
        lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ads.to_dict("records"))
        data = lines.encode()
        path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    else:
        data = ads.to_csv(index=False).encode()
        path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)


@pytest.mark.parametrize("name", ["ads.csv.gz", "ads.jsonl", "ads.jsonl.gz", "ads.parquet"])
@pytest.mark.slow
def test_every_input_format_codes_to_the_csv_runs_rows(demo_extractor, ads, reference,
                                                        tmp_path, name):
    source = tmp_path / name
    _write(ads, source)
    out = tmp_path / "coded.csv"
    report = code_corpus(demo_extractor, source, out, "description", "ad_id", chunk_size=5,
                         show_progress=False)
    got = pd.read_csv(out, dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(got, reference)
    assert report.ads == len(ads)


def test_parquet_output_has_the_csv_rows_with_typed_columns(demo_extractor, ads, reference,
                                                            tmp_path):
    source = tmp_path / "ads.csv"
    ads.to_csv(source, index=False)
    out = tmp_path / "coded.parquet"
    report = code_corpus(demo_extractor, source, out, "description", "ad_id", chunk_size=5,
                         show_progress=False)
    table = pq.read_table(out)
    assert table.schema.field("rank").type == pa.int32()
    assert table.schema.field("score").type == pa.float32()
    got = table.to_pandas()
    assert list(got.columns) == list(LONG_COLUMNS) and len(got) == report.rows_written
    assert got.doc_id.tolist() == reference.doc_id.tolist()
    assert got.skill_id.tolist() == reference.skill_id.tolist()
    assert got["rank"].tolist() == reference["rank"].astype(int).tolist()
    assert not (tmp_path / "coded.parquet.partial").exists()


def test_jsonl_numbers_nulls_and_missing_keys_become_text(demo_extractor, tmp_path):
    source = tmp_path / "ads.jsonl"
    source.write_text('{"id": 7, "text": "Experience with Python is required."}\n'
                      '{"id": 8.0, "text": null}\n'
                      '{"id": 9}\n', encoding="utf-8")
    table = open_ad_table(source)
    frame = next(table.chunks(["id", "text"], 10))
    assert frame.id.tolist() == ["7", "8", "9"]
    assert frame.text.tolist()[1:] == ["", ""]
    out = tmp_path / "coded.csv"
    report = code_corpus(demo_extractor, source, out, "text", "id", show_progress=False)
    assert report.ads == 3 and report.ads_without_skills == 2


@pytest.mark.parametrize("name, content, needle", [
    ("ads.jsonl", b'{"text": "fine"}\n{"text": broken\n', "line 2 is not valid JSON"),
    ("ads.jsonl", b'["not", "an", "object"]\n', "not a JSON object"),
    ("ads.parquet", b"PAR1 this is not parquet", "not a readable Parquet file"),
    ("ads.csv.gz", b"plain text, not gzip", "cannot be read as gzip"),
    ("ads.xlsx", b"whatever", "unknown input format"),
])
def test_damaged_inputs_give_one_line_errors_and_no_output(demo_extractor, tmp_path, name,
                                                            content, needle):
    source = tmp_path / name
    source.write_bytes(content)
    out = tmp_path / "coded.csv"
    with pytest.raises(InputError) as err:
        code_corpus(demo_extractor, source, out, "text", show_progress=False)
    assert needle in str(err.value) and "\n" not in str(err.value)
    assert not out.exists()


def test_unknown_output_format_is_refused_before_coding(demo_extractor, tmp_path):
    with pytest.raises(InputError, match=r"\.csv or \.parquet"):
        code_corpus(demo_extractor, SAMPLE, tmp_path / "coded.xlsx", "description",
                    show_progress=False)
    assert not (tmp_path / "coded.xlsx.partial").exists()
