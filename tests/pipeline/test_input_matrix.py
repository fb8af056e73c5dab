"""The bad-input matrix of issue 9: every kind of messy input through every entry point.

Entry points: the CLI (``skillmap extract``, one ad per file; ``skillmap batch``, tables), run
in-process through ``skillmap.cli.main`` so the model loads once (tests/cli/test_bad_input.py runs
refusals as real subprocesses); the Python API (``Extractor.extract_many``, ``code_corpus``);
and the app's uploads (``read_upload`` -> ads -> the same extractor).

Each input is either refused with one line naming the problem and nothing written, or coded
correctly: every ad of the input is accounted for (rows lost = 0) and the skill its text
states is found. docs/reliability.md tabulates these cases.
"""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from skillmap.app.uploads import read_upload
from skillmap.batch import code_corpus
from skillmap.errors import InputError, SkillmapError

from helpers.cli import one_line_error, run
from helpers.documents import xlsx_bytes

AD = "We need a Python developer who knows SQL."
PYTHON = "python-programming"
HUGE_BYTES = 100 * 1024 * 1024


def _many_sentences() -> str:
    return " ".join(f"Team {i % 100} needs Python and SQL every day." for i in range(20_000))


def _huge_text() -> bytes:
    line = (AD + " ").encode()
    return line * (HUGE_BYTES // len(line) + 1)


def _csv(*rows: str) -> bytes:
    return ("id,text\n" + "".join(row + "\n" for row in rows)).encode()


# kind -> (file bytes, expected): "coded" (with the number of sentences, or None) or the
# words of the one-line error.
TEXT_INPUTS = {
    "empty": (b"", "empty"),
    "whitespace only": (b" \n\t \n", "empty"),
    "binary": (b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 8, "binary"),
    "latin-1": (("Koch für Küche gesucht. " + AD).encode("latin-1"), "not valid UTF-8"),
    "UTF-16 with BOM": (AD.encode("utf-16"), ("coded", 1)),
    "UTF-8 with BOM": (b"\xef\xbb\xbf" + AD.encode(), ("coded", 1)),
    "HTML and control characters": (
        f"<html><script>var x = '<b>';</script><p>{AD}</p>\x07\x1b[0m<br>Perks &amp; "
        "benefits.\x00</html>".encode(), ("coded", 2)),
    "1 MB single line": (("python sql java " * 62_500).encode(), ("coded", None)),
    "20,000 sentences": (_many_sentences().encode(), ("coded", 20_000)),
}

TABLE_INPUTS = {
    "empty": ("t.csv", b"", "empty"),
    "whitespace only": ("t.csv", b"\n  \n", "empty"),
    "binary": ("t.csv", bytes(range(256)) * 40, "binary"),
    "latin-1": ("t.csv", _csv("1,Koch für Küche").decode().encode("latin-1"), "not valid"),
    "UTF-16 with BOM": ("t.csv", _csv(f"1,{AD}").decode().encode("utf-16"), ["1"]),
    "ragged rows": ("t.csv", _csv(f"1,{AD}", "2,Python, SQL and Java"), "line 3 has 3 cell"),
    "embedded newlines": ("t.csv", _csv(f'1,"{AD}\nAnd ""Java"", too."', f"2,{AD}"), ["1", "2"]),
    "unclosed quote": ("t.csv", _csv(f'1,"{AD}', "2,SQL"), "quote left open"),
    "duplicated columns": ("t.csv", b"id,text,text\n1,a,b\n", "duplicated column"),
    "no header cells": ("t.csv", b",\n1,2\n", "no header"),
    "HTML and control characters": ("t.csv", _csv(f'1,"<p>{AD}</p>\x07\x1b"'), ["1"]),
    "1 MB cell": ("t.csv", _csv("1," + "python sql java " * 62_500), ["1"]),
    "non-text cells": ("t.jsonl", b'{"id": 1, "text": 123}\n{"id": 2, "text": null}\n'
                       b'{"id": 3, "text": 4.5}\n{"id": 4, "text": true}\n'
                       + json.dumps({"id": 5, "text": AD}).encode() + b"\n", ["5"]),
}
# the app reads .csv/.xlsx, not JSON Lines: its non-text cells come from a workbook
APP_NON_TEXT = ("t.xlsx", xlsx_bytes(pd.DataFrame({"id": [1, 2, 3], "text": [123, 4.5, AD]})))


@pytest.fixture(scope="module", autouse=True)
def _warm(demo_extractor):
    """Load the model and default index once; CLI calls in this module reuse them."""


def _assert_clean_coding(result: dict, sentences: int | None) -> None:
    """The stated skill is found; no tag, entity or control character reaches a sentence."""
    assert PYTHON in [s["skill_id"] for s in result["skills"]]
    if sentences is not None:
        assert len(result["sentences"]) == sentences
    for sentence in result["sentences"]:
        text = sentence["text"]
        assert "<" not in text and "&amp;" not in text, text
        assert not any(ord(c) < 32 for c in text), text


# --------------------------------------------------------------------------- one ad per file
@pytest.mark.parametrize("kind", [
    pytest.param(kind, marks=pytest.mark.slow) if kind == "20,000 sentences" else kind
    for kind in TEXT_INPUTS])
def test_cli_extract(kind, tmp_path, capsys):
    data, expected = TEXT_INPUTS[kind]
    path = tmp_path / "ad.txt"
    path.write_bytes(data)
    code, out, err = run(capsys, "extract", path, "--format", "json")
    if isinstance(expected, str):
        one_line_error(code, err, expected)
        assert out == ""
    else:
        assert code == 0, err
        _assert_clean_coding(json.loads(out), expected[1])


@pytest.mark.parametrize("kind", list(TEXT_INPUTS))
def test_app_text_upload(kind, demo_extractor):
    data, expected = TEXT_INPUTS[kind]
    if kind in ("1 MB single line", "20,000 sentences"):
        expected = "more than one ad"  # the app takes ads of up to 100,000 characters
    if isinstance(expected, str):
        with pytest.raises(InputError, match=expected.split()[-1]) as info:
            read_upload("ad.txt", data)
        assert "\n" not in str(info.value)
        return
    ads = read_upload("ad.txt", data).ads()
    result = demo_extractor.extract_many([a.text for a in ads], [a.doc_id for a in ads])[0]
    _assert_clean_coding(result.to_dict(), expected[1])


def test_latin1_is_coded_when_the_encoding_is_given(tmp_path, capsys):
    path = tmp_path / "ad.txt"
    path.write_bytes(TEXT_INPUTS["latin-1"][0])
    code, out, err = run(capsys, "extract", path, "--format", "json", "--encoding", "latin-1")
    assert code == 0, err
    result = json.loads(out)
    assert result["sentences"][0]["text"] == "Koch für Küche gesucht."
    assert PYTHON in [s["skill_id"] for s in result["skills"]]


@pytest.fixture(scope="module")
def huge_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("huge") / "huge.txt"
    path.write_bytes(_huge_text())
    return path


def test_a_100_mb_ad_is_refused_before_it_is_read(huge_file, capsys):
    code, out, err = run(capsys, "extract", huge_file)
    one_line_error(code, err, "more than one job ad")
    assert out == ""
    with pytest.raises(InputError, match="25 MB limit"):
        read_upload("huge.txt", huge_file.read_bytes())


# --------------------------------------------------------------------------- Python API
API_VALUES = {
    "empty str": ("", 0),
    "whitespace": (" \n\t ", 0),
    "None (missing)": (None, 0),
    "NaN (missing pandas cell)": (math.nan, 0),
    "int": (7, "is int, not text"),
    "bytes": (AD.encode(), "decode it first"),
    "list": ([AD], "is list, not text"),
}


@pytest.mark.parametrize("kind", list(API_VALUES))
def test_api_extract_many_accepts_text_and_missing_values_only(kind, demo_extractor):
    value, expected = API_VALUES[kind]
    if isinstance(expected, str):
        with pytest.raises(InputError, match=expected):
            demo_extractor.extract_many([AD, value])
        return
    good, result = demo_extractor.extract_many([AD, value])
    assert PYTHON in [s.skill_id for s in good.skills]
    assert result.skills == [] and len(result.sentences) == expected


def test_api_codes_an_overlong_ad_in_part_and_says_so(demo_index, encoder):
    from skillmap.pipeline import Extractor

    extractor = Extractor(index=demo_index, encoder=encoder, max_ad_chars=len(AD))
    result = extractor.extract(AD + " Fluent German is required.")
    assert result.truncated_chars == len(" Fluent German is required.")
    assert [s.text for s in result.sentences] == [AD]
    assert result.to_dict()["truncated_chars"] == result.truncated_chars
    assert extractor.extract(AD).truncated_chars == 0
    with pytest.raises(SkillmapError, match="max-ad-chars"):
        Extractor(index=demo_index, encoder=encoder, max_ad_chars=0)


# --------------------------------------------------------------------------- tables
def _coded_ids(path) -> set[str]:
    return set(pd.read_csv(path, dtype=str, keep_default_na=False)["doc_id"])


@pytest.mark.parametrize("kind", list(TABLE_INPUTS))
def test_cli_batch(kind, tmp_path, capsys):
    name, data, expected = TABLE_INPUTS[kind]
    source, out = tmp_path / name, tmp_path / "out.csv"
    source.write_bytes(data)
    code, _, err = run(capsys, "batch", source, "-c", "text", "--id-column", "id", "-o", out)
    if isinstance(expected, str):
        one_line_error(code, err, expected)
        assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # nothing written
        return
    assert code == 0, err
    assert f"coded {len(_expected_rows(source))} ads" in err  # rows lost: 0
    assert set(expected) <= _coded_ids(out)


def _expected_rows(source) -> list[str]:
    """The ids of a small well-formed input, read independently of skillmap's readers."""
    if source.suffix == ".jsonl":
        return [str(json.loads(line)["id"]) for line in source.read_text().splitlines()]
    frame = pd.read_csv(source, dtype=str, keep_default_na=False,
                        encoding="utf-16" if source.read_bytes()[:2] == b"\xff\xfe" else "utf-8")
    return frame["id"].tolist()


@pytest.mark.parametrize("kind", list(TABLE_INPUTS))
def test_api_code_corpus(kind, tmp_path, demo_extractor):
    name, data, expected = TABLE_INPUTS[kind]
    source, out = tmp_path / name, tmp_path / "out.csv"
    source.write_bytes(data)
    if isinstance(expected, str):
        with pytest.raises(InputError, match=expected.split()[-1]):
            code_corpus(demo_extractor, source, out, "text", "id", show_progress=False)
        assert sorted(p.name for p in tmp_path.iterdir()) == [name]
        return
    report = code_corpus(demo_extractor, source, out, "text", "id", show_progress=False)
    assert report.ads == len(_expected_rows(source))  # rows lost: 0
    assert set(expected) <= _coded_ids(out)
    coded = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert PYTHON in set(coded[coded["doc_id"] == expected[-1]]["skill_id"])


@pytest.mark.parametrize("kind", list(TABLE_INPUTS))
def test_app_table_upload(kind, demo_extractor):
    name, data, expected = TABLE_INPUTS[kind]
    if kind == "non-text cells":
        name, data = APP_NON_TEXT
        expected = ["3"]
    if kind == "1 MB cell":
        expected = "100,000 characters"  # the app's limit per ad
    if isinstance(expected, str):
        with pytest.raises(InputError) as info:
            read_upload(name, data).ads("text", "id")
        assert expected.split()[-1] in str(info.value) and "\n" not in str(info.value)
        return
    ads = read_upload(name, data).ads("text", "id")
    results = demo_extractor.extract_many([a.text for a in ads], [a.doc_id for a in ads])
    assert [r.doc_id for r in results] == [a.doc_id for a in ads] and set(expected) <= {
        r.doc_id for r in results}
    assert PYTHON in [s.skill_id for s in results[-1].skills]


def test_missing_column_is_named_with_the_columns_there(tmp_path, capsys):
    source = tmp_path / "ads.csv"
    source.write_bytes(_csv(f"1,{AD}"))
    code, _, err = run(capsys, "batch", source, "-c", "body", "-o", tmp_path / "out.csv")
    one_line_error(code, err, "no column 'body' (--text-column); columns are: id, text")
    with pytest.raises(InputError, match="no column 'body'"):
        read_upload("ads.csv", source.read_bytes()).ads("body")


@pytest.mark.slow
def test_a_100_mb_cell_is_coded_in_part_and_counted(huge_file, tmp_path, capsys):
    source = tmp_path / "huge.csv"
    with open(source, "wb") as fh:
        fh.write(b'id,text\n1,"')
        fh.write(huge_file.read_bytes())
        fh.write(f'"\n2,{AD}\n'.encode())
    out = tmp_path / "out.csv"
    code, _, err = run(capsys, "batch", source, "-c", "text", "--id-column", "id", "-o", out)
    assert code == 0, err
    assert "coded 2 ads" in err and "1 ads were longer than 1,000,000 characters" in err
    assert _coded_ids(out) == {"1", "2"}
