"""One reader for batch input: generated CSV, JSON Lines and Parquet files either read back
exactly what was written, cell for cell, or are refused in one line; the structure scan and
the reading never disagree (hypothesis; CI=1 derandomises)."""

from __future__ import annotations

import csv
import gzip
import io
import json
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from skillmap.batch.coder import check_batch_input
from skillmap.batch.readers import cell_text
from skillmap.errors import InputError

SETTINGS = settings(max_examples=150, deadline=None, derandomize=bool(os.environ.get("CI")),
                    suppress_health_check=[HealthCheck.function_scoped_fixture])

# cells full of what breaks CSV readers: separators, quotes, every line ending and its odd
# orders ("\n\r"), a cell that is only "\r", vertical tab, NEL, line separator, non-ASCII
ODD = st.sampled_from(["\r", "\n", "\r\n", "\n\r", ",", '"', '""', " ", "\t", "\x0b", "\x85",
                       "\u2028", "é", "£", "中"])
# (other control characters: a file full of them is refused as binary, by design)
CELL = st.lists(st.one_of(ODD, st.text(st.characters(blacklist_categories=("Cs", "Cc")),
                                        max_size=8)), max_size=6).map("".join)


def read_all(path, text="text", ident="id", encoding=None):
    """(scan count, rows as read) through the batch reader."""
    table, columns = check_batch_input(path, text, ident, encoding)
    count = table.scan()
    rows = [list(r) for chunk in table.chunks(columns, 7)
            for r in chunk.itertuples(index=False)]
    return count, rows


@SETTINGS
@example(rows=[("\x0b\x0b", "0")], dialect=("\r\n", csv.QUOTE_MINIMAL), gzipped=False)
@given(rows=st.lists(st.tuples(CELL, CELL), min_size=1, max_size=30),
       dialect=st.sampled_from([("\r\n", csv.QUOTE_MINIMAL), ("\r\n", csv.QUOTE_ALL),
                                ("\n", csv.QUOTE_ALL)]), gzipped=st.booleans())
def test_a_written_csv_reads_back_cell_for_cell(tmp_path_factory, rows, dialect, gzipped):
    """Python's writer with lineterminator "\\n" leaves a lone "\\r" unquoted, which no
    reader can tell from a line end: such files are in the any-bytes test below."""
    terminator, quoting = dialect
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator=terminator, quoting=quoting)
    writer.writerow(["id", "text"])
    writer.writerows(rows)
    data = buffer.getvalue().encode("utf-8")
    path = tmp_path_factory.mktemp("csv") / ("ads.csv.gz" if gzipped else "ads.csv")
    path.write_bytes(gzip.compress(data) if gzipped else data)
    kept = [[text, ident] for ident, text in rows]  # read as (text, id)
    count, got = read_all(path)
    assert count == len(got)
    assert got == kept


@SETTINGS
@given(data=st.binary(max_size=400) | st.lists(st.sampled_from(
    [b"id,text\n", b"1,", b'"', b"\r", b"\n", b"\n\r", b"a", b",", b"\xc3\xa9", b"\xff"]),
    max_size=40).map(b"".join))
def test_any_bytes_as_csv_are_read_as_scanned_or_refused_in_one_line(tmp_path_factory, data):
    """The scan's count and the rows read agree, and the rows are the csv module's records
    (on main, pandas read "\\r,abba" as id "abba" and text "")."""
    path = tmp_path_factory.mktemp("bytes") / "ads.csv"
    path.write_bytes(b"id,text\n" + data)
    try:
        count, rows = read_all(path)
    except InputError as exc:
        assert "\n" not in str(exc) and str(exc)
        return
    assert count == len(rows)
    # exactly the records of the strict csv module, blank lines skipped: one parser
    records = list(csv.reader(io.StringIO((b"id,text\n" + data).decode("utf-8-sig"),
                                          newline="")))[1:]
    assert rows == [[r[1], r[0]] for r in records
                    if r and not (len(r) == 1 and not r[0].strip())]


@pytest.mark.parametrize("body, expected", [
    (b'1,"We need Python.\n\r"\n2,"second"\n', [["1", "We need Python.\n\r"], ["2", "second"]]),
    (b'1,"\r"\n2,"We need SQL."\n', [["1", "\r"], ["2", "We need SQL."]]),
    (b"1,We need Python.\n\r2,We need SQL.\n\r", [["1", "We need Python."],
                                                   ["2", "We need SQL."]]),
    # failed on main: pandas read "We need SQL." as the id and the text as ""
    (b"1,We need Python.\n\r,We need SQL.\n", [["1", "We need Python."],
                                               ["", "We need SQL."]]),
])
def test_odd_line_endings_never_shift_a_cell_into_another_column(tmp_path, body, expected):
    """Issue 25: the csv-module check and the pandas reader disagreed on "\\n\\r" and on a
    cell that is only "\\r"; an ad's text landed in the wrong column and it coded empty."""
    path = tmp_path / "ads.csv"
    path.write_bytes(b"id,text\n" + body)
    count, rows = read_all(path)
    assert rows == [[text, ident] for ident, text in expected] and count == len(expected)


JSON_SCALAR = (st.none() | st.booleans() | st.integers(-10**20, 10**20)
               | st.floats(allow_nan=True, allow_infinity=False) | st.text(max_size=20))
JSON_VALUE = st.recursive(JSON_SCALAR, lambda inner: st.lists(inner, max_size=3)
                          | st.dictionaries(st.text(max_size=3), inner, max_size=3),
                          max_leaves=6)


@SETTINGS
@given(records=st.lists(st.fixed_dictionaries({"id": JSON_VALUE, "text": JSON_VALUE}),
                        min_size=1, max_size=20))
def test_jsonl_cells_follow_the_type_rules_or_are_refused_in_one_line(tmp_path_factory,
                                                                       records):
    path = tmp_path_factory.mktemp("jsonl") / "ads.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    nested = any(isinstance(r[k], (dict, list)) for r in records for k in ("id", "text"))
    try:
        count, rows = read_all(path)
    except InputError as exc:
        assert nested and "\n" not in str(exc) and "not text" in str(exc)
        return
    assert not nested and count == len(records)
    assert rows == [[cell_text(r["text"], ""), cell_text(r["id"], "")] for r in records]


def test_deeply_nested_jsonl_is_refused_in_one_line(tmp_path):
    """Issue 25: deeply nested JSON Lines raised RecursionError (a traceback)."""
    path = tmp_path / "ads.jsonl"
    path.write_text('{"id": 1, "text": "fine"}\n{"id": 2, "text": ' + "[" * 100_000
                    + "]" * 100_000 + "}\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 2 nests JSON too deeply"):
        read_all(path)


ARROW_TYPES = {
    "string": (pa.string(), st.text(max_size=10)),
    "large_string": (pa.large_string(), st.text(max_size=10)),
    "int64": (pa.int64(), st.integers(-2**63, 2**63 - 1)),
    "float64": (pa.float64(), st.floats(allow_nan=False)),
    "bool": (pa.bool_(), st.booleans()),
    "date": (pa.date32(), st.dates()),
    "binary": (pa.binary(), st.binary(max_size=10)),
    "struct": (pa.struct([("a", pa.int64())]), st.builds(dict, a=st.integers(0, 9))),
    "list": (pa.list_(pa.string()), st.lists(st.text(max_size=3), max_size=2)),
}
TEXT_LIKE = {"string", "large_string", "int64", "float64", "bool", "date"}


@SETTINGS
@given(kind=st.sampled_from(sorted(ARROW_TYPES)), data=st.data())
def test_parquet_columns_of_every_type_read_as_text_or_are_refused(tmp_path_factory, kind,
                                                                   data):
    """Issue 25: Parquet text columns of struct or binary type gave a traceback."""
    arrow_type, values = ARROW_TYPES[kind]
    cells = data.draw(st.lists(st.none() | values, min_size=1, max_size=12))
    path = tmp_path_factory.mktemp("parquet") / "ads.parquet"
    ids = [str(i) for i in range(len(cells))]
    pq.write_table(pa.table({"id": pa.array(ids), "text": pa.array(cells, type=arrow_type)}),
                   path, row_group_size=5)
    if kind not in TEXT_LIKE:
        with pytest.raises(InputError, match=r"column 'text' holds Parquet type") as error:
            read_all(path)
        assert "\n" not in str(error.value)
        return
    count, rows = read_all(path)
    assert count == len(cells)
    assert rows == [[cell_text(c, ""), i] for c, i in zip(cells, ids)]


@pytest.mark.parametrize("encoding", ["no-such-codec", "rot13", "hex"])
def test_an_unknown_encoding_is_one_line(tmp_path, encoding):
    """Issue 25: an unknown --encoding gave a traceback."""
    path = tmp_path / "ads.csv"
    path.write_text("id,text\n1,We need Python.\n", encoding="utf-8")
    with pytest.raises(InputError, match="encoding") as error:
        read_all(path, encoding=encoding)
    assert "\n" not in str(error.value)


def test_long_cells_read_without_changing_the_process_csv_limit(tmp_path, monkeypatch):
    """An ad longer than the csv module's default cell limit (131,072 characters) reads
    whole, and the limit the batch reader raises for its own parsing is put back, read to the
    end or not: other CSV readers in the process (the taxonomy's, the host application's) do
    not accept more after a batch table was read than before. A cell over skillmap's own cap
    is still refused in one line."""
    from skillmap.batch import readers

    long_ad = "Python " * 40_000  # 280,000 characters
    path = tmp_path / "ads.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([["id", "text"], ["1", long_ad], ["2", "SQL"]])
    before = csv.field_size_limit()
    assert before < len(long_ad)
    assert read_all(path)[1] == [[long_ad, "1"], ["SQL", "2"]]  # (text, id)
    assert csv.field_size_limit() == before
    partial = readers.csv_records(io.StringIO(path.read_text(encoding="utf-8")), "ads.csv")
    assert next(partial) == ["id", "text"] and next(partial)[1] == long_ad
    assert csv.field_size_limit() == before  # suspended mid-file: the limit is already back
    partial.close()
    monkeypatch.setattr(readers, "MAX_CELL_CHARS", 1_000)
    with pytest.raises(InputError, match="not one ad"):
        list(readers.csv_records(io.StringIO(path.read_text(encoding="utf-8")), "ads.csv"))
    assert csv.field_size_limit() == before


def test_batch_readers_in_threads_never_put_the_limit_back_under_each_other():
    """The app codes uploads in threads: several batch readers parsing long cells at once all
    read them whole (none has the limit put back under it mid-record), and the limit is the
    process's own afterwards."""
    import threading

    from skillmap.batch import readers

    text = "id,text\n" + "".join(f"{i},{'word ' * 30_000}\n" for i in range(20))
    before = csv.field_size_limit()
    failures: list[BaseException] = []

    def read():
        try:
            for _ in range(3):
                rows = list(readers.csv_records(io.StringIO(text, newline=""), "ads.csv"))
                assert len(rows) == 21 and len(rows[-1][1]) == 150_000
        except BaseException as exc:  # noqa: BLE001 (reported below)
            failures.append(exc)

    threads = [threading.Thread(target=read) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures[0]
    assert csv.field_size_limit() == before
