"""The per-ad summary of `batch --summary`: one row per input ad (also one without skills),
the kept columns typed like the long output's, the skills in the long output's rank order,
and the same file after an interrupted run is resumed."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import DATA
from helpers.cli import one_line_error, run
from helpers.faults import Interrupt, failing_on_call
from skillmap.batch import code_corpus
from skillmap.errors import InputError
from skillmap.pipeline import Extractor
from skillmap.pipeline.results import SKILL_SEPARATOR, SUMMARY_COLUMNS

KEEP = ["posted", "region", "salary"]


@pytest.fixture(scope="module")
def ads_file(tmp_path_factory):
    """Five sample ads and a sixth without text (no skills), with three variables."""
    ads = pd.read_csv(DATA / "sample_ads.csv", dtype=str).head(5)
    ads = pd.concat([ads, pd.DataFrame({"ad_id": ["EMPTY"], "description": [""]})],
                    ignore_index=True)
    ads["posted"] = ["2024-01-15", "2024-01-30", "", "2024-02-20", "2024-03-01", "2024-03-02"]
    ads["region"] = ["North", "South", "North", "South", "North", "South"]
    ads["salary"] = ["32000", "41000", "", "38500", "29000", "45000"]
    path = tmp_path_factory.mktemp("summary") / "ads.csv"
    ads.to_csv(path, index=False)
    return path, ads


def _read(path):
    return pd.read_parquet(path) if path.suffix == ".parquet" else \
        pd.read_csv(path, dtype=str, keep_default_na=False)


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_one_row_per_ad_in_input_order_with_the_long_outputs_skills(
        demo_extractor, ads_file, tmp_path, suffix):
    source, ads = ads_file
    out, summary = tmp_path / f"coded.{suffix}", tmp_path / f"ads.{suffix}"
    report = code_corpus(demo_extractor, source, out, "description", "ad_id", chunk_size=4,
                         show_progress=False, keep_columns=KEEP, summary_path=summary)
    frame, long = _read(summary), _read(out)
    assert list(frame.columns) == [SUMMARY_COLUMNS[0], *KEEP, *SUMMARY_COLUMNS[1:]]
    assert frame["doc_id"].tolist() == ads["ad_id"].tolist() and report.ads == len(frame)
    empty = frame.set_index("doc_id").loc["EMPTY"]
    assert int(empty["skills"]) == 0 and empty["top_skills"] == ""
    assert empty["region"] == "South"
    assert report.ads_without_skills >= 1
    for row in frame.itertuples():
        mine = long[long["doc_id"] == row.doc_id]
        labels = mine.sort_values("rank", key=lambda r: r.astype(int))["skill_label"].tolist()
        assert int(row.skills) == len(mine)
        assert (row.top_skills.split(SKILL_SEPARATOR) if row.top_skills else []) == labels
    assert (frame["skills"].astype(int) > 0).sum() == long["doc_id"].nunique()
    assert not (tmp_path / f"coded.{suffix}.partial").exists()


def test_parquet_summary_types_kept_columns_like_the_long_output(demo_extractor, ads_file,
                                                                 tmp_path):
    source, _ = ads_file
    out, summary = tmp_path / "coded.parquet", tmp_path / "ads.parquet"
    code_corpus(demo_extractor, source, out, "description", "ad_id", chunk_size=4,
                show_progress=False, keep_columns=KEEP, summary_path=summary)
    schema, long_schema = pq.read_schema(summary), pq.read_schema(out)
    assert schema.field("posted").type == pa.date32() == long_schema.field("posted").type
    assert schema.field("salary").type == pa.int64() == long_schema.field("salary").type
    assert schema.field("region").type == pa.string()
    for count in ("sentences", "filtered_sentences", "skills"):
        assert schema.field(count).type == pa.int64()
    frame = pd.read_parquet(summary, dtype_backend="numpy_nullable")
    assert str(frame["salary"].dtype) == "Int64" and str(frame["skills"].dtype) == "Int64"
    assert frame["salary"].isna().tolist() == [False, False, True, False, False, False]
    first = frame.iloc[0]
    assert pd.Timestamp(first["posted"]) == pd.Timestamp("2024-01-15")
    assert first["salary"] == 32000


def test_a_value_of_an_ad_without_skills_types_both_outputs(demo_extractor, ads_file,
                                                            tmp_path):
    """Types are learnt from every ad: a column is a number only if every ad's value is."""
    _, ads = ads_file
    source = tmp_path / "ads.csv"
    ads.assign(salary=[*ads["salary"][:-1], "on request"]).to_csv(source, index=False)
    out, summary = tmp_path / "coded.parquet", tmp_path / "ads.parquet"
    code_corpus(demo_extractor, source, out, "description", "ad_id", show_progress=False,
                keep_columns=KEEP, summary_path=summary)
    assert pq.read_schema(out).field("salary").type == pa.string()
    assert pq.read_schema(summary).field("salary").type == pa.string()
    assert pd.read_parquet(summary)["salary"].iloc[-1] == "on request"


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_resumed_run_writes_the_same_summary(demo_extractor, ads_file, tmp_path, monkeypatch,
                                             suffix):
    source, _ = ads_file
    clean = tmp_path / f"clean-ads.{suffix}"
    code_corpus(demo_extractor, source, tmp_path / "clean.csv", "description", "ad_id",
                chunk_size=2, show_progress=False, keep_columns=KEEP, summary_path=clean)
    out, summary = tmp_path / "resumed.csv", tmp_path / f"resumed-ads.{suffix}"
    monkeypatch.setattr(Extractor, "extract_many", failing_on_call(Extractor.extract_many, 2))
    with pytest.raises(Interrupt):
        code_corpus(demo_extractor, source, out, "description", "ad_id", chunk_size=2,
                    show_progress=False, keep_columns=KEEP, summary_path=summary)
    assert not summary.exists() and not out.exists()
    monkeypatch.undo()
    report = code_corpus(demo_extractor, source, out, "description", "ad_id", chunk_size=2,
                         resume=True, show_progress=False, keep_columns=KEEP,
                         summary_path=summary)
    assert report.chunks_resumed == 1
    if suffix == "csv":
        assert summary.read_bytes() == clean.read_bytes()
    else:
        assert pq.read_table(summary).equals(pq.read_table(clean))


def test_a_folder_without_per_ad_records_is_refused_before_coding(demo_extractor, ads_file,
                                                                  tmp_path, monkeypatch):
    """A checkpoint folder from an older skillmap has chunks but no per-ad records."""
    source, _ = ads_file
    out = tmp_path / "coded.csv"
    monkeypatch.setattr(Extractor, "extract_many", failing_on_call(Extractor.extract_many, 2))
    with pytest.raises(Interrupt):
        code_corpus(demo_extractor, source, out, "description", "ad_id", chunk_size=2,
                    show_progress=False)
    for record in (tmp_path / "coded.csv.partial").glob("ads-*.csv"):
        record.unlink()
    monkeypatch.undo()
    with pytest.raises(InputError, match="without per-ad records"):
        code_corpus(demo_extractor, source, out, "description", "ad_id", chunk_size=2,
                    resume=True, show_progress=False, summary_path=tmp_path / "ads.csv")
    code_corpus(demo_extractor, source, out, "description", "ad_id", chunk_size=2,
                resume=True, show_progress=False)   # without --summary it still resumes
    assert out.exists()


def test_the_apps_summary_download_is_the_batch_summary(demo_extractor, ads_file, tmp_path):
    from skillmap.app.tables import summary_csv

    source, ads = ads_file
    summary = tmp_path / "ads.csv"
    code_corpus(demo_extractor, source, tmp_path / "coded.csv", "description", "ad_id",
                show_progress=False, keep_columns=KEEP, summary_path=summary)
    ads = ads.fillna("")
    results = demo_extractor.extract_many(ads["description"].tolist(), ads["ad_id"].tolist())
    for result, (_, ad) in zip(results, ads.iterrows()):
        result.variables = {name: ad[name] for name in KEEP}
    assert summary_csv(results) == summary.read_bytes()


def test_cli_summary_and_its_one_line_errors(ads_file, tmp_path, capsys):
    source, _ = ads_file
    out, summary = tmp_path / "coded.csv", tmp_path / "ads.parquet"
    code, _, err = run(capsys, "batch", source, "--text-column", "description",
                       "--id-column", "ad_id", "--keep-column", "region", "--out", out,
                       "--summary", summary)
    assert code == 0, err
    assert f"per-ad summary (6 rows) -> {summary}" in err
    assert pd.read_parquet(summary)["region"].tolist()[:2] == ["North", "South"]
    for bad, needle in ((tmp_path / "other.csv", "--summary"), (source, "--summary"),
                        (tmp_path / "ads.xlsx", ".csv or .parquet"),
                        (tmp_path, "--summary")):   # a folder
        code, _, err = run(capsys, "batch", source, "--text-column", "description",
                           "--out", tmp_path / "other.csv", "--summary", bad)
        one_line_error(code, err, needle)
    clash = tmp_path / "clash.csv"
    pd.read_csv(source, dtype=str).rename(columns={"region": "skills"}).to_csv(clash,
                                                                               index=False)
    code, _, err = run(capsys, "batch", clash, "--text-column", "description", "--keep-column",
                       "skills", "--out", tmp_path / "y.csv", "--summary", tmp_path / "s.csv")
    one_line_error(code, err, "'skills'", "per-ad summary")
    assert not (tmp_path / "y.csv").exists() and not (tmp_path / "other.csv").exists()
