"""Batch coding of CSV corpora: schema, bad input, atomic output, interrupt and resume."""

from __future__ import annotations

import pandas as pd
import pytest

from skillmap.batch import code_csv
from skillmap.cli import main
from skillmap.errors import InputError
from skillmap.pipeline import LONG_COLUMNS, Extractor

from conftest import DATA
from helpers.faults import Interrupt, failing_on_call

SAMPLE = DATA / "sample_ads.csv"


@pytest.mark.slow
def test_batch_output_loads_in_pandas_one_row_per_ad_and_skill(demo_extractor, tmp_path):
    out = tmp_path / "coded.csv"
    report = code_csv(demo_extractor, SAMPLE, out, text_column="description", id_column="ad_id",
                      chunk_size=7, show_progress=False)
    ads = pd.read_csv(SAMPLE, dtype=str)
    coded = pd.read_csv(out, dtype={"doc_id": str})
    assert list(coded.columns) == list(LONG_COLUMNS)
    assert not coded.duplicated(["doc_id", "skill_id"]).any()
    assert set(coded.doc_id) == set(ads.ad_id)
    assert coded.groupby("doc_id").size().max() <= demo_extractor.top_k
    assert report.ads == len(ads) and report.rows_written == len(coded)
    assert report.chunks == -(-len(ads) // 7)
    # same rows as coding each ad on its own through the Python API
    first = ads.iloc[0]
    expected = demo_extractor.extract(first.description, first.ad_id).rows()
    got = coded[coded.doc_id == first.ad_id].to_dict("records")
    assert [r["skill_id"] for r in got] == [r["skill_id"] for r in expected]


@pytest.mark.slow
def test_row_numbers_are_ids_without_id_column(demo_extractor, tmp_path):
    out = tmp_path / "coded.csv"
    code_csv(demo_extractor, SAMPLE, out, text_column="description", show_progress=False)
    ids = pd.read_csv(out).doc_id.unique().tolist()
    assert ids[:3] == [1, 2, 3]


@pytest.mark.parametrize("content, needle", [
    (b"", "empty"),
    (b"\x00\x01\x02binary\x00" * 100, "binary"),
    ("ad_id,description\n1,Bäcker gesucht\n".encode("latin-1"), "not valid utf-8-sig"),
    (b'ad_id,description\n1,"unclosed quote\n', "malformed CSV"),
    (b"ad_id,description,description\n1,a,b\n", "duplicated column"),
])
def test_bad_csv_inputs_give_one_line_errors_and_no_output(demo_extractor, tmp_path, content, needle):
    source = tmp_path / "ads.csv"
    source.write_bytes(content)
    out = tmp_path / "coded.csv"
    with pytest.raises(InputError) as err:
        code_csv(demo_extractor, source, out, text_column="description", show_progress=False)
    assert needle.lower() in str(err.value).lower() and "\n" not in str(err.value)
    assert not out.exists()


def test_cli_wrong_column_names_the_columns_and_writes_nothing(tmp_path, capsys, demo_extractor):
    out = tmp_path / "coded.csv"
    code = main(["batch", str(SAMPLE), "--text-column", "body", "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("skillmap: error:") and len(err.splitlines()) == 1
    assert "no column 'body'" in err and "description" in err
    assert not out.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_cli_batch_end_to_end(tmp_path, capsys, demo_extractor):
    out = tmp_path / "coded.csv"
    code = main(["batch", str(SAMPLE), "-c", "description", "--id-column", "ad_id", "-o", str(out)])
    assert code == 0 and "coded 20 ads" in capsys.readouterr().err
    assert len(pd.read_csv(out)) > 20


@pytest.mark.slow
def test_interrupted_run_leaves_no_output_and_resume_matches_clean_run(demo_index, encoder,
                                                                       tmp_path, monkeypatch):
    clean = tmp_path / "clean.csv"
    extractor = Extractor(demo_index, encoder)
    code_csv(extractor, SAMPLE, clean, "description", "ad_id", chunk_size=3, show_progress=False)

    out = tmp_path / "resumed.csv"
    monkeypatch.setattr(Extractor, "extract_many", failing_on_call(Extractor.extract_many, 4))
    with pytest.raises(Interrupt):
        code_csv(extractor, SAMPLE, out, "description", "ad_id", chunk_size=3, show_progress=False)
    assert not out.exists()
    partial = tmp_path / "resumed.csv.partial"
    assert len(list(partial.glob("chunk-*.csv"))) == 3

    monkeypatch.undo()
    with pytest.raises(InputError, match="--resume"):
        code_csv(extractor, SAMPLE, out, "description", "ad_id", chunk_size=3, show_progress=False)
    with pytest.raises(InputError, match="different input or options"):
        code_csv(extractor, SAMPLE, out, "description", "ad_id", chunk_size=5, resume=True,
                 show_progress=False)
    report = code_csv(extractor, SAMPLE, out, "description", "ad_id", chunk_size=3, resume=True,
                      show_progress=False)
    assert report.chunks_resumed == 3 and not partial.exists()
    assert out.read_bytes() == clean.read_bytes()


def test_output_never_overwrites_input(demo_extractor, tmp_path):
    source = tmp_path / "ads.csv"
    source.write_bytes(SAMPLE.read_bytes())
    with pytest.raises(InputError, match="overwrite the input"):
        code_csv(demo_extractor, source, source, "description", show_progress=False)
    assert source.read_bytes() == SAMPLE.read_bytes()


def test_dotted_column_names_are_not_mistaken_for_duplicates(demo_extractor, tmp_path):
    source = tmp_path / "ads.csv"
    source.write_text("v1,v1.2,text\na,b,Fluent German required.\n", encoding="utf-8")
    out = tmp_path / "coded.csv"
    report = code_csv(demo_extractor, source, out, text_column="text", id_column="v1.2",
                      show_progress=False)
    assert report.ads == 1 and pd.read_csv(out).doc_id.tolist()[0] == "b"


def test_bugs_inside_extraction_are_not_reported_as_bad_csv(demo_extractor, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("internal bug")

    monkeypatch.setattr(demo_extractor, "extract_many", broken)
    with pytest.raises(ValueError, match="internal bug"):
        code_csv(demo_extractor, SAMPLE, tmp_path / "coded.csv", "description", show_progress=False)


def test_report_counts_codable_and_encoded_sentences(demo_index, encoder, tmp_path):
    source = tmp_path / "ads.csv"
    boiler = "We are an equal opportunity employer."
    source.write_text("text\n" + "\n".join(
        f'"Requirements:\nYou know Python {i}.\n{boiler}"' for i in range(4)) + "\n")
    unfiltered = Extractor(demo_index, encoder, sentence_filter=None)
    report = code_csv(unfiltered, source, tmp_path / "coded.csv", "text", show_progress=False)
    assert report.sentences == 8          # headings are not coded
    assert report.encoded_sentences == 5  # the boilerplate is encoded once


@pytest.mark.slow
def test_batch_with_a_filter_counts_filtered_sentences_and_pins_it_for_resume(demo_index, encoder,
                                                                              tmp_path):
    from skillmap.filter import KeywordLengthFilter

    screened = Extractor(demo_index, encoder, sentence_filter=KeywordLengthFilter())
    out = tmp_path / "coded.csv"
    report = code_csv(screened, SAMPLE, out, "description", "ad_id", show_progress=False)
    assert 0 < report.filtered_sentences < report.sentences
    assert report.encoded_sentences <= report.sentences - report.filtered_sentences
    plain = code_csv(Extractor(demo_index, encoder, sentence_filter=None), SAMPLE,
                     tmp_path / "plain.csv", "description", "ad_id", show_progress=False)
    assert plain.filtered_sentences == 0 and plain.encoded_sentences > report.encoded_sentences

    # an interrupted run may only be resumed with the same filter and threshold
    import json

    from skillmap.batch.coder import DEFAULT_DEDUP_CACHE, check_batch_input, run_manifest

    partial = tmp_path / "again.csv.partial"
    partial.mkdir()
    table = check_batch_input(SAMPLE, "description", "ad_id")[0]
    table.scan()
    manifest = run_manifest(table, "description", "ad_id", 256, screened, DEFAULT_DEDUP_CACHE)
    (partial / "manifest.json").write_text(json.dumps(manifest))
    for extractor in (Extractor(demo_index, encoder, sentence_filter=None),
                      Extractor(demo_index, encoder, sentence_filter=KeywordLengthFilter(),
                                filter_threshold=0.9)):
        with pytest.raises(InputError, match="different input or options"):
            code_csv(extractor, SAMPLE, tmp_path / "again.csv", "description", "ad_id",
                     resume=True, show_progress=False)
    code_csv(screened, SAMPLE, tmp_path / "again.csv", "description", "ad_id", resume=True,
             show_progress=False)
    assert (tmp_path / "again.csv").read_bytes() == out.read_bytes()
