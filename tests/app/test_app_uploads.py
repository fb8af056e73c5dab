"""The app's upload reader and its tables: every file type, every refusal, pure functions."""

from __future__ import annotations


import pandas as pd
import pytest

from skillmap.app import uploads
from skillmap.app.catalog import DEMO, INDEX_PATHS_ENV, discover_indexes
from skillmap.app.render import highlighted_ad, md
from skillmap.app.tables import (group_shares, group_skills, long_csv, long_frame,
                                 skill_frequencies, summary_frame, taxonomy_frame)
from skillmap.app.uploads import TableUpload, TextUpload, guess_columns, read_upload
from skillmap.batch import code_csv
from skillmap.errors import InputError
from tests.conftest import DATA
from tests.helpers.documents import docx_bytes, encrypted_pdf_bytes, pdf_bytes, xlsx_bytes

AD = "You will build data pipelines in Python and SQL.\nWe offer a pension and free lunch."


# ----------------------------------------------------------------------------- readers
def test_text_docx_and_pdf_each_give_one_ad_named_after_the_file():
    assert read_upload("ads/job 1.txt", AD.encode("utf-8")) == TextUpload("job 1", AD)
    word = read_upload("ad.docx", docx_bytes(["Data engineer.", "You know Python."],
                                             table=[["Must", "SQL and dbt"]]))
    assert word.ads()[0].text == "Data engineer.\nYou know Python.\nMust | SQL and dbt"
    pdf = read_upload("ad.PDF", pdf_bytes(["Data engineer.", "You know Python and SQL."]))
    assert "You know Python and SQL." in pdf.text and pdf.name == "ad"


def test_utf16_text_with_bom_is_decoded():
    assert read_upload("ad.txt", AD.encode("utf-16")).text == AD


def test_csv_and_xlsx_give_tables_with_every_cell_as_text():
    frame = pd.DataFrame({"job_id": [7, 8], "description": [AD, "Drive a forklift."],
                          "salary": [30000, None]})
    for name, data in (("ads.csv", frame.to_csv(index=False).encode()),
                       ("ads.xlsx", xlsx_bytes(frame))):
        table = read_upload(name, data)
        assert isinstance(table, TableUpload)
        assert guess_columns(table) == ("description", "job_id")
        ads = table.ads("description", "job_id")
        assert [a.doc_id for a in ads] == ["7", "8"]
        assert ads[1].text == "Drive a forklift."
        assert table.frame["salary"].tolist()[1] == ""


def test_rows_are_numbered_like_skillmap_batch_without_an_id_column():
    table = read_upload("ads.csv", b"body\nfirst ad\nsecond ad\n")
    assert guess_columns(table) == ("body", None)
    assert [a.doc_id for a in table.ads("body")] == ["1", "2"]


def test_text_column_guess_falls_back_to_the_longest_cells():
    table = read_upload("ads.csv", b"code,blurb\nA1,a long description of the job\nA2,another one\n")
    assert guess_columns(table)[0] == "blurb"


@pytest.mark.parametrize("name, data, message", [
    ("ad.txt", b"", "the file is empty"),
    ("ad.txt", b"   \n\t ", "the file is empty"),
    ("ad.exe", b"MZ\x90\x00", "unsupported file type .exe"),
    ("noext", b"text", "unsupported file type (none)"),
    ("ad.txt", b"\x00\x01\x02binary\xff\xfe\x00", "binary file"),
    ("ad.txt", "caf\xe9 latin-1".encode("latin-1"), "not valid UTF-8 text"),
    ("ads.csv", b'text,id\n"unclosed quote,1\n', "malformed CSV"),
    ("ads.csv", b"text,id\na,1,extra,cells\n", "malformed CSV"),
    ("ads.csv", b"text,id\n", "header but no rows"),
    ("ads.csv", b"text,text\na,b\n", "duplicated column name(s) in the header: text"),
    ("ads.xlsx", b"PK not really a zip", "not an Excel .xlsx workbook"),
    ("ad.docx", b"not a zip at all", "unreadable Word .docx file"),
    ("ad.pdf", b"%PDF-1.4 garbage", "unreadable PDF"),
    ("ad.pdf", pdf_bytes([]), "no text layer"),
])
def test_bad_uploads_are_refused_in_one_line(name, data, message):
    with pytest.raises(InputError) as caught:
        read_upload(name, data)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_password_protected_pdf_is_refused():
    with pytest.raises(InputError, match="password-protected"):
        read_upload("ad.pdf", encrypted_pdf_bytes(["secret ad"]))


def test_size_row_and_length_limits(monkeypatch):
    monkeypatch.setattr(uploads, "MAX_FILE_MB", 1)
    with pytest.raises(InputError, match="over the app's 1 MB limit"):
        read_upload("big.txt", b"skill " * 200_000)
    monkeypatch.setattr(uploads, "MAX_ADS", 3)
    with pytest.raises(InputError, match="4 rows is over the app's 3-ad limit"):
        read_upload("ads.csv", b"text\na\nb\nc\nd\n")
    monkeypatch.setattr(uploads, "MAX_AD_CHARS", 10)
    with pytest.raises(InputError, match="more than one ad"):
        read_upload("ad.txt", b"a sentence longer than ten characters")
    with pytest.raises(InputError, match="row 1 holds more than 10 characters"):
        read_upload("ads.csv", b"text\nthis cell is long\n").ads("text")


def test_duplicated_ids_and_unknown_columns_are_refused():
    table = read_upload("ads.csv", b"id,text\n1,a\n1,b\n")
    with pytest.raises(InputError, match="repeats ids"):
        table.ads("text", "id")
    with pytest.raises(InputError, match="no column 'body'"):
        table.ads("body")


# ----------------------------------------------------------------------------- tables
@pytest.fixture(scope="module")
def coded(demo_extractor):
    texts = [AD, "Cook meals in a busy kitchen and keep it clean.", ""]
    return demo_extractor.extract_many(texts, ["a", "b", "c"])


@pytest.mark.slow
def test_long_csv_is_byte_identical_to_skillmap_batch(demo_extractor, tmp_path):
    source = DATA / "sample_ads.csv"
    frame = pd.read_csv(source, dtype=str, keep_default_na=False)
    results = demo_extractor.extract_many(frame["description"].tolist(), frame["ad_id"].tolist())
    out = tmp_path / "coded.csv"
    code_csv(demo_extractor, source, out, "description", "ad_id", show_progress=False)
    assert long_csv(results) == out.read_bytes()


def test_summary_frequencies_and_group_shares(coded):
    long = long_frame(coded)
    summary = summary_frame(coded)
    assert summary["doc_id"].tolist() == ["a", "b", "c"]
    assert summary["skills"].tolist() == [len(r.skills) for r in coded]
    assert summary.loc[2, "skills"] == 0 and summary.loc[2, "top_skills"] == ""
    assert summary.loc[0, "top_skills"].split(" | ") == [m.skill_label for m in coded[0].skills]
    frequencies = skill_frequencies(long, top=5)
    assert len(frequencies) == 5
    assert frequencies["ads"].is_monotonic_decreasing
    assert frequencies["share"].between(0, 1).all()
    shares = group_shares(long)
    assert shares["mentions"].sum() == len(long)
    assert shares["share"].sum() == pytest.approx(1.0)


def test_group_skills_keeps_every_skill_once_under_its_groups(coded):
    grouped = group_skills(coded[0])
    flat = [m.skill_id for g in grouped for _, skills in g.level2 for m in skills]
    assert sorted(flat) == sorted(m.skill_id for m in coded[0].skills)
    for group in grouped:
        for level2, skills in group.level2:
            assert all(m.level1 == group.level1 and m.level2 == level2 for m in skills)


def test_taxonomy_search_and_browse(demo_taxonomy):
    found = taxonomy_frame(demo_taxonomy, "python")
    assert "Python (computer programming)" in found["skill_label"].tolist()
    assert taxonomy_frame(demo_taxonomy, "no-such-skill-anywhere").empty
    level1 = demo_taxonomy.level1(demo_taxonomy.skills[0].id).label
    browse = taxonomy_frame(demo_taxonomy, level1=level1)
    assert len(browse) > 0 and set(browse["level1"]) == {level1}
    capped = taxonomy_frame(demo_taxonomy, limit=7)
    assert len(capped) == 7 and capped.attrs["matches"] == len(demo_taxonomy.skills)


# ----------------------------------------------------------------------------- rendering
def test_highlighted_ad_escapes_the_ad_and_marks_roles(demo_extractor):
    text = "Build <b>data pipelines</b> in Python & SQL.\nWe offer a <script>x</script>pension."
    result = demo_extractor.extract(text)
    page = highlighted_ad(text, result)
    assert "<b>" not in page and "<script>" not in page and "&amp;" in page
    assert 'class="sm-evidence"' in page
    assert md("a*b_[c](d) $x$ <i>") == r"a\*b\_\[c\](d) \$x\$ \<i\>"


def test_catalog_lists_the_demo_and_indexes_found_under_the_configured_paths(
        demo_index, tmp_path, monkeypatch):
    demo_index.save(tmp_path / "indexes" / "mine")
    (tmp_path / "indexes" / "broken").mkdir()
    (tmp_path / "indexes" / "broken" / "metadata.json").write_text("{not json")
    monkeypatch.setenv(INDEX_PATHS_ENV, str(tmp_path / "indexes"))
    choices = discover_indexes()
    assert choices[0].key == DEMO
    assert [c.path.name for c in choices[1:]] == ["mine"]
    assert "189 skills" in choices[1].label
    monkeypatch.setenv(INDEX_PATHS_ENV, str(tmp_path / "indexes" / "mine"))
    assert [c.path.name for c in discover_indexes()[1:]] == ["mine"]
