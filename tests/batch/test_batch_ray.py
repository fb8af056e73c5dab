"""``batch --engine ray``: Ray Data in local mode writes what the local engine writes.

One local Ray (2 CPUs, no dashboard) serves the whole module: starting it costs seconds, and
every run also starts actors that load the model. The local engine is the reference, run
with ``dedup_cache=0`` (chunks coded independently), which is what the Ray engine does.
"""

from __future__ import annotations

import gzip
import logging

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

ray = pytest.importorskip("ray")

from skillmap.batch import code_corpus  # noqa: E402
from skillmap.batch.ray_engine import code_corpus_ray  # noqa: E402
from skillmap.pipeline.config import ExtractorConfig  # noqa: E402
from skillmap.cli import main  # noqa: E402
from skillmap.errors import InputError, SkillmapError  # noqa: E402
from skillmap.pipeline import LONG_COLUMNS  # noqa: E402

from conftest import DATA  # noqa: E402
from helpers.faults import Interrupt, failing_on_call  # noqa: E402

CHUNK = 5  # 12 ads: chunks of 5, 5 and 2


@pytest.fixture(scope="module")
def local_ray():
    if ray.is_initialized():  # pragma: no cover - someone else's Ray: leave it alone
        yield
        return
    ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.WARNING,
             log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def index_dir(demo_index, tmp_path_factory):
    return demo_index.save(tmp_path_factory.mktemp("ray-index") / "index")


@pytest.fixture(scope="module")
def ads(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ray-ads")
    frame = pd.read_csv(DATA / "sample_ads.csv", dtype=str).head(12)
    frame.to_csv(folder / "ads.csv", index=False)
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), folder / "ads.parquet",
                   row_group_size=4)  # row groups that do not line up with the chunks
    (folder / "ads.jsonl.gz").write_bytes(gzip.compress(
        frame.to_json(orient="records", lines=True, force_ascii=False).encode()))
    return folder


def _local(demo_extractor, source, out, id_column):
    code_corpus(demo_extractor, source, out, "description", id_column, chunk_size=CHUNK,
                show_progress=False, dedup_cache=0)
    return out


@pytest.mark.slow
@pytest.mark.usefixtures("local_ray")
def test_csv_with_ids_is_byte_identical_to_the_local_engine(demo_extractor, index_dir, ads,
                                                            tmp_path):
    out = tmp_path / "ray.csv"
    report = code_corpus_ray(ExtractorConfig(index=str(index_dir)), ads / "ads.csv", out,
                             "description", "ad_id", chunk_size=CHUNK, num_actors=2,
                             show_progress=False)
    reference = _local(demo_extractor, ads / "ads.csv", tmp_path / "local.csv", "ad_id")
    assert out.read_bytes() == reference.read_bytes()
    assert (report.ads, report.chunks, report.ads_without_skills) == (12, 3, 0)
    assert report.rows_written == len(pd.read_csv(out))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["local.csv", "ray.csv"]  # no shards


@pytest.mark.slow
@pytest.mark.usefixtures("local_ray")
def test_parquet_without_ids_gives_the_local_frame_and_row_numbers(demo_extractor, index_dir,
                                                                   ads, tmp_path):
    out = tmp_path / "ray.parquet"
    code_corpus_ray(ExtractorConfig(index=str(index_dir)), ads / "ads.parquet", out,
                    "description", chunk_size=CHUNK, num_actors=1, show_progress=False)
    reference = _local(demo_extractor, ads / "ads.parquet", tmp_path / "local.parquet", None)
    got, expected = pd.read_parquet(out), pd.read_parquet(reference)
    pd.testing.assert_frame_equal(got, expected)
    assert pq.read_schema(out) == pq.read_schema(reference)
    assert got.doc_id.unique().tolist() == [str(i) for i in range(1, 13)]


@pytest.mark.slow
@pytest.mark.usefixtures("local_ray")
def test_cli_engine_ray_matches_the_local_cli(demo_extractor, index_dir, ads, tmp_path, capsys):
    out = tmp_path / "ray.csv"
    code = main(["batch", str(ads / "ads.jsonl.gz"), "-c", "description", "-o", str(out),
                 "--index", str(index_dir), "--chunk-size", str(CHUNK), "--engine", "ray",
                 "--num-actors", "1"])
    assert code == 0, capsys.readouterr().err
    assert "coded 12 ads" in capsys.readouterr().err
    reference = _local(demo_extractor, ads / "ads.jsonl.gz", tmp_path / "local.csv", None)
    assert out.read_bytes() == reference.read_bytes()


@pytest.mark.slow
@pytest.mark.usefixtures("local_ray")
def test_a_malformed_row_is_a_one_line_error_and_leaves_nothing(index_dir, tmp_path):
    source = tmp_path / "ads.csv"
    good = "".join(f'{i},"We need SQL and Python {i}."\n' for i in range(8))
    source.write_text("ad_id,description\n" + good + '99,"unclosed quote\n', encoding="utf-8")
    with pytest.raises(InputError) as err:
        code_corpus_ray(ExtractorConfig(index=str(index_dir)), source, tmp_path / "out.csv",
                        "description", "ad_id", chunk_size=3, num_actors=1,
                        show_progress=False)
    assert "malformed CSV" in str(err.value) and "\n" not in str(err.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ads.csv"]


@pytest.mark.slow
@pytest.mark.usefixtures("local_ray")
def test_a_header_only_input_gives_a_header_only_output(index_dir, tmp_path):
    source = tmp_path / "ads.csv"
    source.write_text("ad_id,description\n", encoding="utf-8")
    report = code_corpus_ray(ExtractorConfig(index=str(index_dir)), source, tmp_path / "out.csv",
                             "description", "ad_id", num_actors=1, show_progress=False)
    assert (tmp_path / "out.csv").read_bytes() == (",".join(LONG_COLUMNS) + "\r\n").encode()
    assert (report.ads, report.rows_written) == (0, 0)


@pytest.mark.slow
@pytest.mark.usefixtures("local_ray")
def test_gpu_actors_without_gpus_are_refused_not_waited_for(index_dir, ads, tmp_path):
    if ray.cluster_resources().get("GPU", 0) >= 1:
        pytest.skip("this Ray has a GPU")
    with pytest.raises(SkillmapError, match="the Ray cluster has 0 GPUs"):
        code_corpus_ray(ExtractorConfig(index=str(index_dir)), ads / "ads.csv",
                        tmp_path / "out.csv", "description", gpus_per_actor=1,
                        show_progress=False)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("extra, needle", [
    (["--engine", "ray", "--dedup-cache", "10"], "--dedup-cache applies to --engine local only"),
    (["--num-actors", "2"], "need --engine ray"),
])
def test_cli_refuses_options_of_the_other_engine(ads, tmp_path, capsys, extra, needle):
    code = main(["batch", str(ads / "ads.csv"), "-c", "description", "-o",
                 str(tmp_path / "out.csv"), *extra])
    err = capsys.readouterr().err.strip()
    assert code == 2 and needle in err and len(err.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
@pytest.mark.usefixtures("local_ray")
def test_cli_engine_ray_counts_ads_cut_at_max_ad_chars(index_dir, ads, tmp_path, capsys):
    texts = pd.read_json(ads / "ads.jsonl.gz", lines=True)["description"]
    longer = int((texts.str.len() > 600).sum())
    assert 0 < longer < len(texts)
    code = main(["batch", str(ads / "ads.jsonl.gz"), "-c", "description", "-o",
                 str(tmp_path / "ray.csv"), "--index", str(index_dir), "--engine", "ray",
                 "--num-actors", "1", "--max-ad-chars", "600"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert f"{longer} ads were longer than 600 characters" in err


@pytest.fixture(scope="module")
def ads_with_variables(ads, tmp_path_factory):
    frame = pd.read_csv(ads / "ads.csv", dtype=str, keep_default_na=False)
    frame["posted"] = [f"2024-{m:02d}-01" for m in range(1, 13)]
    frame["region"] = ["North", "South", ""] * 4
    frame["salary"] = [str(30000 + 1000 * i) for i in range(11)] + [""]
    path = tmp_path_factory.mktemp("ray-variables") / "ads.csv"
    frame.to_csv(path, index=False)
    return path


KEEP = ["posted", "region", "salary"]


@pytest.mark.slow
@pytest.mark.parametrize("suffix", ["csv", "parquet"])
@pytest.mark.usefixtures("local_ray")
def test_kept_columns_and_the_summary_are_the_local_engines(demo_extractor, index_dir,
                                                           ads_with_variables, tmp_path, suffix):
    """``--keep-column`` and ``--summary`` on Ray write the local engine's files: the same
    bytes in CSV, the same typed tables in Parquet."""
    out, summary = tmp_path / f"ray.{suffix}", tmp_path / f"ray-ads.{suffix}"
    report = code_corpus_ray(ExtractorConfig(index=str(index_dir)), ads_with_variables, out,
                             "description", "ad_id", chunk_size=CHUNK, num_actors=2,
                             show_progress=False, keep_columns=KEEP, summary_path=summary)
    local, local_summary = tmp_path / f"local.{suffix}", tmp_path / f"local-ads.{suffix}"
    code_corpus(demo_extractor, ads_with_variables, local, "description", "ad_id",
                chunk_size=CHUNK, show_progress=False, dedup_cache=0, keep_columns=KEEP,
                summary_path=local_summary)
    assert report.ads == 12
    if suffix == "csv":
        assert out.read_bytes() == local.read_bytes()
        assert summary.read_bytes() == local_summary.read_bytes()
    else:
        assert pq.read_table(out).equals(pq.read_table(local))
        assert pq.read_table(summary).equals(pq.read_table(local_summary))
        assert str(pq.read_schema(out).field("salary").type) == "int64"
    assert len(pd.read_csv(summary) if suffix == "csv" else pd.read_parquet(summary)) == 12
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        p.name for p in (out, summary, local, local_summary))  # no checkpoint folder left


@pytest.mark.slow
@pytest.mark.usefixtures("local_ray")
def test_ray_resumes_a_killed_local_run_and_writes_the_uninterrupted_output(
        demo_extractor, index_dir, ads_with_variables, tmp_path, monkeypatch):
    """Both engines write the same checkpoint folder (with --dedup-cache 0): a run killed
    after its first chunk is finished by ``--engine ray --resume``, byte for byte."""
    from skillmap.pipeline import Extractor

    clean = tmp_path / "clean.csv"
    code_corpus(demo_extractor, ads_with_variables, clean, "description", "ad_id",
                chunk_size=CHUNK, show_progress=False, dedup_cache=0, keep_columns=KEEP)
    out = tmp_path / "out.csv"
    monkeypatch.setattr(Extractor, "extract_many", failing_on_call(Extractor.extract_many, 2))
    with pytest.raises(Interrupt):
        code_corpus(demo_extractor, ads_with_variables, out, "description", "ad_id",
                    chunk_size=CHUNK, show_progress=False, dedup_cache=0, keep_columns=KEEP)
    monkeypatch.undo()
    assert not out.exists() and len(list((tmp_path / "out.csv.partial").glob("chunk-*"))) == 1
    with pytest.raises(InputError, match="--resume"):  # never started over silently
        code_corpus_ray(ExtractorConfig(index=str(index_dir)), ads_with_variables, out,
                        "description", "ad_id", chunk_size=CHUNK, num_actors=1,
                        show_progress=False, keep_columns=KEEP)
    report = code_corpus_ray(ExtractorConfig(index=str(index_dir)), ads_with_variables, out,
                             "description", "ad_id", chunk_size=CHUNK, num_actors=1,
                             show_progress=False, keep_columns=KEEP, resume=True)
    assert (report.chunks, report.chunks_resumed, report.ads) == (3, 1, 12)
    assert out.read_bytes() == clean.read_bytes()
    assert not (tmp_path / "out.csv.partial").exists()
