"""Reading CSV and XLSX files: encodings, delimiters, line numbers — as generated files."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kehu.dataio.imports.readers import FileRefused, detect_encoding, open_table

# GB2312 level-1 hanzi (lead bytes B0–BF): text containing one cannot pass as UTF-8, so the
# detector must pick GBK. (Some GBK byte pairs are valid UTF-8 by accident; real Chinese
# text always contains characters like these.)
HANZI = "".join(bytes([lead, trail]).decode("gbk")
                for lead in range(0xB0, 0xC0) for trail in range(0xA1, 0xFF, 7))
SAFE = "abcdefghijklmnopqrstuvwxyzABCXYZ0123456789" + HANZI
CELL = SAFE + " ,;|\t\"'\n\r=+-@（）。，"

headers_st = st.lists(st.text(alphabet=SAFE, min_size=1, max_size=8), min_size=2, max_size=5,
                      unique=True)


@st.composite
def tables(draw):
    headers = draw(headers_st)
    # First cell never blank: an all-blank row is skipped by design.
    rows = draw(st.lists(
        st.tuples(st.text(alphabet=SAFE, min_size=1, max_size=6),
                  *[st.text(alphabet=CELL, max_size=12) for _ in headers[1:]]),
        min_size=1, max_size=8))
    return headers, [list(r) for r in rows]


def _write(path, headers, rows, encoding, delimiter):
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(headers)
    starts = []
    line = 2
    for row in rows:
        starts.append(line)
        before = buffer.tell()
        writer.writerow(row)
        written = buffer.getvalue()[before:]
        # Lines in the file as an editor counts them (\r\n, lone \r and lone \n each end one).
        line += written.replace("\r\n", "\n").replace("\r", "\n").count("\n")
    path.write_bytes(buffer.getvalue().encode(encoding))
    return starts


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(table=tables(), encoding=st.sampled_from(["utf-8", "utf-8-sig", "gbk"]),
       delimiter=st.sampled_from([",", ";", "\t", "|"]))
def test_generated_csv_round_trips_in_every_encoding_and_delimiter(tmp_path, table, encoding,
                                                                   delimiter):
    headers, rows = table
    headers = ["备注", *headers[1:]] if encoding == "gbk" else headers  # some real Chinese
    path = tmp_path / "f.csv"
    starts = _write(path, headers, rows, encoding, delimiter)
    opened = open_table(path)
    assert opened.delimiter == delimiter
    assert opened.headers == headers
    got = list(opened.rows())
    assert [values for _, values in got] == [dict(zip(headers, r, strict=True)) for r in rows]
    assert [line for line, _ in got] == starts


def test_it_detects_each_encoding(tmp_path):
    text = "客户名称,手机\n上海华东贸易有限公司,13800138000\n"
    for encoding, expected in (("utf-8", "utf-8-sig"), ("utf-8-sig", "utf-8-sig"),
                               ("gbk", "gb18030"), ("gb18030", "gb18030")):
        path = tmp_path / f"{encoding}.csv"
        path.write_bytes(text.encode(encoding))
        assert detect_encoding(path) == expected
        table = open_table(path)
        assert table.headers == ["客户名称", "手机"]
        assert list(table.rows()) == [(2, {"客户名称": "上海华东贸易有限公司",
                                           "手机": "13800138000"})]


def test_a_gbk_character_late_in_a_big_file_is_still_found(tmp_path):
    # Deciding on the first kilobytes only would read this file as broken UTF-8.
    lines = ["name,city"] + [f"c{i},x" for i in range(20000)] + ["上海公司,上海"]
    path = tmp_path / "late.csv"
    path.write_bytes("\n".join(lines).encode("gbk"))
    table = open_table(path)
    assert table.encoding == "gb18030"
    assert list(table.rows())[-1] == (20002, {"name": "上海公司", "city": "上海"})


def test_blank_lines_keep_the_real_line_numbers(tmp_path):
    path = tmp_path / "blank.csv"
    path.write_text("\n\nname;phone\n\nA;1\n;\nB;2\n", encoding="utf-8")
    table = open_table(path)
    assert table.header_line == 3
    assert [line for line, _ in table.rows()] == [5, 7]


def test_it_refuses_what_it_cannot_read(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("  \n", encoding="utf-8")
    with pytest.raises(FileRefused, match="empty"):
        open_table(empty)
    with pytest.raises(FileRefused, match="not found"):
        open_table(tmp_path / "missing.csv")
    fake = tmp_path / "fake.xlsx"
    fake.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(FileRefused, match="XLSX"):
        open_table(fake)


def test_a_quote_never_closed_refuses_the_file_instead_of_swallowing_it(tmp_path):
    path = tmp_path / "quote.csv"
    path.write_text('name,external id\nFine,QA-1\n"Unterminated,QA-2\nOk,QA-3\n',
                    encoding="utf-8")
    with pytest.raises(FileRefused, match="Line 3 opens a quoted value"):
        list(open_table(path).rows())


def test_a_directory_is_not_a_file(tmp_path):
    with pytest.raises(FileRefused, match="is a folder"):
        open_table(tmp_path)


def test_xlsx_rows_come_with_sheet_row_numbers_and_typed_values(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append([])
    ws.append(["客户名称", "手机", "下单日期", "金额"])
    ws.append(["上海华东", 13800138000, dt.datetime(2024, 3, 5), 12.5])
    ws.append([None, None, None, None])
    ws.append(["杭州丝绸", "0571-1234", "2024/03/06", "1,000"])
    path = tmp_path / "f.xlsx"
    wb.save(path)
    table = open_table(path)
    assert table.format == "xlsx" and table.header_line == 2
    rows = list(table.rows())
    assert [line for line, _ in rows] == [3, 5]
    assert rows[0][1]["手机"] == 13800138000
    assert rows[0][1]["下单日期"] == dt.datetime(2024, 3, 5)


def _formula_workbook(path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["客户名称", "城市"])
    ws.append(["上海华东", "上海"])
    ws.append(["杭州丝绸", "=1+1"])  # openpyxl writes the formula without a result
    wb.save(path)
    return path


def test_a_formula_without_a_saved_result_refuses_the_workbook(tmp_path):
    path = _formula_workbook(tmp_path / "f.xlsx")
    with pytest.raises(FileRefused, match="Cell B3 holds a formula"):
        open_table(path)


def test_a_formula_a_spreadsheet_computed_imports_its_result(tmp_path):
    import zipfile

    plain = _formula_workbook(tmp_path / "plain.xlsx")
    saved = tmp_path / "saved.xlsx"
    # What Excel writes on saving: the formula and, after it, its result.
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(saved, "w") as out:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                data = data.replace(b"<f>1+1</f><v />", b"<f>1+1</f><v>2</v>")
            out.writestr(item, data)
    rows = list(open_table(saved).rows())
    assert rows[1][1]["城市"] == 2
