"""Corpus variables: `batch --keep-column` carries input columns into every output row, typed
in Parquet, so an analyst can group skills by date or region straight from the output."""

from __future__ import annotations

import datetime

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import DATA
from helpers.cli import one_line_error, run
from skillmap.batch import code_corpus
from skillmap.pipeline import LONG_COLUMNS

KEEP = ["posted", "region", "salary", "remote", "postcode", "score_band"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Six sample ads with variables of every kind; the last ad is empty (no skills)."""
    ads = pd.read_csv(DATA / "sample_ads.csv", dtype=str).head(6)
    ads["posted"] = ["2024-01-15", "2024-01-30", "2024-02-02", "2024-02-20", "", "2024-03-01"]
    ads["region"] = ["North", "South", "North", "South", "North", "South"]
    ads["salary"] = ["32000", "41000", "", "38500", "29000", "45000"]
    ads["remote"] = ["true", "false", "false", "true", "false", "false"]
    ads["postcode"] = ["01234", "99999", "10115", "20095", "80331", "50667"]  # leading zero
    ads["score_band"] = ["1.5", "2", "high", "", "3", "4"]                     # mixed: text
    folder = tmp_path_factory.mktemp("variables")
    ads.to_csv(folder / "ads.csv", index=False)
    return folder / "ads.csv", ads


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_kept_columns_follow_the_fixed_ones_with_every_row_of_their_ad(
        demo_extractor, corpus, tmp_path, suffix):
    source, ads = corpus
    out = tmp_path / f"coded.{suffix}"
    code_corpus(demo_extractor, source, out, "description", "ad_id", chunk_size=4,
                show_progress=False, keep_columns=KEEP)
    coded = pd.read_csv(out, dtype={"postcode": str}) if suffix == "csv" \
        else pd.read_parquet(out)
    assert list(coded.columns) == [*LONG_COLUMNS, *KEEP]
    by_ad = ads.set_index("ad_id")
    for row in coded.itertuples():
        assert row.region == by_ad.loc[row.doc_id, "region"]
        assert row.postcode == by_ad.loc[row.doc_id, "postcode"]
    assert set(coded["doc_id"]) >= {"AD001", "AD002"}


def test_parquet_output_types_each_kept_column(demo_extractor, corpus, tmp_path):
    source, _ = corpus
    out = tmp_path / "coded.parquet"
    code_corpus(demo_extractor, source, out, "description", "ad_id", chunk_size=4,
                show_progress=False, keep_columns=KEEP)
    schema = pq.read_schema(out)
    assert schema.field("posted").type == pa.date32()
    assert schema.field("salary").type == pa.int64()
    assert schema.field("remote").type == pa.bool_()
    assert schema.field("postcode").type == pa.string()     # "01234" would lose its zero
    assert schema.field("score_band").type == pa.string()
    frame = pd.read_parquet(out)
    assert frame["salary"].dtype == "Int64" or pd.api.types.is_numeric_dtype(frame["salary"])
    assert pd.api.types.is_bool_dtype(frame["remote"]) or frame["remote"].dtype == object
    first = frame[frame["doc_id"] == "AD001"].iloc[0]
    assert pd.Timestamp(first["posted"]) == pd.Timestamp("2024-01-15")
    assert first["salary"] == 32000 and bool(first["remote"]) is True
    assert pd.api.types.is_integer_dtype(frame["rank"])
    assert pd.api.types.is_float_dtype(frame["score"])


def test_parquet_input_keeps_its_own_column_types(demo_extractor, corpus, tmp_path):
    _, ads = corpus
    table = pa.table({"ad_id": ads["ad_id"], "description": ads["description"],
                      "posted": pa.array([datetime.date(2024, 1, d + 1) for d in range(6)]),
                      "code": pa.array(["7", "8", "9", "10", "11", "12"])})  # digits, text
    pq.write_table(table, tmp_path / "ads.parquet")
    out = tmp_path / "coded.parquet"
    code_corpus(demo_extractor, tmp_path / "ads.parquet", out, "description", "ad_id",
                show_progress=False, keep_columns=["posted", "code"])
    schema = pq.read_schema(out)
    assert schema.field("posted").type == pa.date32()
    assert schema.field("code").type == pa.string()


def test_cli_keep_column_to_csv_and_parquet_read_back_in_pandas(corpus, tmp_path, capsys):
    source, _ = corpus
    for suffix in ("csv", "parquet"):
        out = tmp_path / f"cli.{suffix}"
        code, _, err = run(capsys, "batch", source, "--text-column", "description", "--id-column", "ad_id",
                           "--keep-column", "posted", "--keep-column", "region",
                           "--keep-column", "salary", "--out", out)
        assert code == 0, err
    csv_frame = pd.read_csv(tmp_path / "cli.csv", parse_dates=["posted"])
    # nullable dtypes: one ad has no salary, and numpy integers have no missing value
    parquet_frame = pd.read_parquet(tmp_path / "cli.parquet", dtype_backend="numpy_nullable")
    assert list(csv_frame.columns)[-3:] == ["posted", "region", "salary"]
    assert pd.api.types.is_datetime64_any_dtype(csv_frame["posted"])
    assert pd.api.types.is_numeric_dtype(csv_frame["salary"])
    assert list(parquet_frame.columns) == list(csv_frame.columns)
    assert str(parquet_frame["salary"].dtype) == "Int64"
    assert str(parquet_frame["rank"].dtype) == "Int32"
    assert parquet_frame["salary"].isna().sum() == csv_frame["salary"].isna().sum()
    assert csv_frame["region"].tolist() == parquet_frame["region"].tolist()
    assert [d.date() for d in csv_frame["posted"].dropna()] == \
        [d for d in pd.read_parquet(tmp_path / "cli.parquet")["posted"].dropna()]


def test_keep_column_errors_are_one_line(corpus, tmp_path, capsys):
    source, _ = corpus
    code, _, err = run(capsys, "batch", source, "--text-column", "description", "--keep-column", "city",
                       "--out", tmp_path / "x.csv")
    one_line_error(code, err, "'city'", "--keep-column", "region")
    renamed = tmp_path / "clash.csv"
    pd.read_csv(source, dtype=str).rename(columns={"region": "score"}).to_csv(renamed,
                                                                              index=False)
    code, _, err = run(capsys, "batch", renamed, "--text-column", "description", "--keep-column", "score",
                       "--out", tmp_path / "y.csv")
    one_line_error(code, err, "'score'", "output column")


def test_resume_refuses_other_kept_columns(demo_extractor, corpus, tmp_path):
    """The kept columns change the output, so they are part of the run's identity."""
    from skillmap.batch.coder import check_batch_input, run_manifest

    source, _ = corpus
    table, _ = check_batch_input(source, "description", "ad_id", keep_columns=["region"])
    table.scan()
    one = run_manifest(table, "description", "ad_id", 256, demo_extractor, 0, table.kept)
    two = run_manifest(table, "description", "ad_id", 256, demo_extractor, 0, [])
    assert one != two and one["keep_columns"] == ["region"]
