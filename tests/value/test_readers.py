"""Reading transaction files: delimiters, encodings, dates, ids, and where errors are."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kehu.value.pipeline import write_scores
from kehu.value.readers import InputError, read_transactions


def read(path, **kwargs):
    return read_transactions(path, kwargs.pop("c", "customer"), kwargs.pop("d", "date"),
                             kwargs.pop("a", "amount"), **kwargs)


def days(*isos):
    return np.array(isos, dtype="datetime64[D]").astype(np.int64).tolist()


def test_it_accepts_iso_slash_compact_and_datetime_dates(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("customer,date,amount\na,2024-01-02,1\nb,2024/01/03,2\nc,20240104,3\n"
                    "d,2024-01-05 13:45:00,4\ne,2024-01-06T08:00:00,5\n")
    t = read(path)
    assert t.days.tolist() == days("2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05",
                                   "2024-01-06")


def test_numeric_ids_keep_their_zeros_and_mixed_widths_stay_apart(tmp_path):
    fixed = tmp_path / "fixed.csv"
    fixed.write_text("customer,date,amount\n00042,2024-01-01,1\n00007,2024-01-01,2\n")
    t = read(fixed)
    assert t.customer_ids[t.codes].tolist() == ["00042", "00007"]
    mixed = tmp_path / "mixed.csv"
    mixed.write_text("customer,date,amount\n007,2024-01-01,1\n7,2024-01-01,2\n")
    t = read(mixed)
    assert t.customer_ids[t.codes].tolist() == ["007", "7"]  # two customers, not one
    plain = tmp_path / "plain.csv"
    plain.write_text("customer,date,amount\n12,2024-01-01,1\n3,2024-01-01,2\nABC,2024-01-01,3\n")
    t = read(plain)
    assert t.customer_ids[t.codes].tolist() == ["12", "3", "ABC"]


@pytest.mark.parametrize("sep", ["\t", "|", ";"])
def test_it_finds_the_delimiter(tmp_path, sep):
    path = tmp_path / "t.txt"
    path.write_text(sep.join(["customer", "date", "amount"]) + "\n"
                    + sep.join(["a", "2024-01-02", "1,5" if sep == ";" else "1.5"]) + "\n")
    if sep == ";":  # a decimal comma is not a number kehu guesses at
        with pytest.raises(InputError, match=r"t.txt:2, column 'amount' \(3\): '1,5' is not"):
            read(path)
    else:
        assert read(path).amounts.tolist() == [1.5]


def test_the_delimiter_can_be_given(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("customer date amount\na 2024-01-02 1.5\n")
    assert read(path, delimiter="space").amounts.tolist() == [1.5]


def test_whitespace_files_with_windows_line_ends_and_blank_lines(tmp_path):
    path = tmp_path / "t.txt"
    path.write_bytes(b"  1  20240102   3.50\r\n\r\n  2  20240103  4\r\n")
    t = read(path, c="1", d="2", a="3", header=False)
    assert t.amounts.tolist() == [3.5, 4.0]
    assert t.days.tolist() == days("2024-01-02", "2024-01-03")


def test_a_gbk_file_whose_first_part_is_plain_ascii(tmp_path):
    path = tmp_path / "t.csv"
    rows = "".join(f"c{i},2024-01-02,1\n" for i in range(30_000))  # > the sniffed sample
    path.write_bytes(("customer,date,amount\n" + rows + "王五,2024-01-03,2\n").encode("gbk"))
    t = read(path)
    assert "王五" in t.customer_ids.tolist()


def test_columns_can_be_numbered_from_one_even_with_a_header(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("customer,date,amount\na,2024-01-02,1.5\n")
    assert read(path, c="1", d="2", a="3").amounts.tolist() == [1.5]


@pytest.mark.parametrize("content, message", [
    ("", "the file is empty"),
    ("customer,date,amount\n", "no transactions"),
    ("customer,date,amount\na,2024-01-02,1\nb,2024-02-30,1\n",
     r"t.csv:3, column 'date' \(2\): cannot read '2024-02-30' as a date"),
    ("customer,date,amount\na,2024-01-02,1\n,2024-01-03,1\n",
     r"t.csv:3, column 'customer' \(1\): the customer id is missing"),
    ("customer,date,amount\na,2024-01-02,1\n\n\nb,2024-01-03,1e999\n",
     r"t.csv:5, column 'amount' \(3\): inf is not a finite amount"),
])
def test_errors_name_the_line_and_column(tmp_path, content, message):
    path = tmp_path / "t.csv"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        read(path)


def test_parquet_dates_may_be_timestamps_or_yyyymmdd_integers(tmp_path):
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({
        "customer": ["a", "b"], "date": pa.array([20240102, 20240103], pa.int64()),
        "amount": pa.array([1, 2], pa.int32()),
        "when": pa.array(np.array(["2024-01-02T10:00", "2024-01-03T23:59"],
                                  dtype="datetime64[s]"))}), path)
    assert read(path).days.tolist() == days("2024-01-02", "2024-01-03")
    assert read(path, d="when").days.tolist() == days("2024-01-02", "2024-01-03")
    bad = tmp_path / "bad.parquet"
    pq.write_table(pa.table({"customer": ["a", "b"], "date": [20240102, 20241340],
                             "amount": [1.0, 2.0]}), bad)
    with pytest.raises(InputError, match=r"bad.parquet, row 2, column 'date' \(2\)"):
        read(bad)


def test_scores_quote_ids_only_when_they_need_it(tmp_path):
    columns = {"customer_id": np.array(["Acme, Inc.", "王五"], dtype=object),
               **{name: np.array([1.0, 2.0]) for name in (
                   "recency", "T", "monetary_value", "p_alive", "predicted_purchases",
                   "predicted_avg_value", "clv")}, "frequency": np.array([1, 2])}
    out = tmp_path / "s.csv"
    write_scores(out, columns)
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[1].startswith('"Acme, Inc.",1,') and lines[2].startswith('"王五",2,')
    columns["customer_id"] = np.array(["a", "王五"], dtype=object)
    write_scores(out, columns)
    assert out.read_text(encoding="utf-8").splitlines()[2].startswith("王五,2,")
