"""The one CSV sniffer (kehu.textfiles): any table, written as spreadsheets and ERP systems
write it, is read back cell for cell."""

from __future__ import annotations

import csv
import io
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kehu import textfiles
from kehu.textfiles import GB18030, UTF8, WHITESPACE, SniffError, sniff

# GB2312 hanzi whose first byte (B0–BF) can never start a UTF-8 character, and full-width
# punctuation (A1–A3, likewise): text holding one of them written as GBK is not UTF-8, as real
# Chinese text never is.
HANZI = "".join(bytes([lead, trail]).decode("gbk")
                for lead in range(0xB0, 0xC0) for trail in range(0xA1, 0xFF, 7))
PLAIN = "abcdefghijklmnopqrstuvwxyzABCXYZ0123456789" + HANZI + "（）。，"
# Cells may hold every delimiter, quotes, line breaks and spaces.
CELL = PLAIN + " ,;|\t\"'\n\r=+-@"

ENCODINGS = ["utf-8", "utf-8-sig", "gbk", "gb18030"]


@st.composite
def tables(draw):
    # Headers as spreadsheets have them (no delimiters); at least two columns, or there is
    # no delimiter to find.
    headers = draw(st.lists(st.text(alphabet=PLAIN, min_size=1, max_size=8), min_size=2,
                            max_size=6, unique=True))
    rows = draw(st.lists(st.lists(st.text(alphabet=CELL, max_size=12), min_size=len(headers),
                                  max_size=len(headers)), max_size=12))
    return [headers, *rows]


def _text(table: list[list[str]], delimiter: str, line_end: str) -> str:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=delimiter, lineterminator=line_end).writerows(table)
    return buffer.getvalue()


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(table=tables(), delimiter=st.sampled_from(textfiles.DELIMITERS),
       encoding=st.sampled_from(ENCODINGS), line_end=st.sampled_from(["\r\n", "\n"]),
       whole_file=st.booleans())
def test_any_table_in_any_delimiter_and_encoding_reads_back_cell_for_cell(
        tmp_path, table, delimiter, encoding, line_end, whole_file):
    if line_end == "\n":
        # Python's writer leaves a lone \r unquoted unless it ends lines with it; spreadsheets
        # quote every cell with a line break.
        table = [[cell.replace("\r", "") for cell in row] for row in table]
    text = _text(table, delimiter, line_end)
    path = tmp_path / "t.csv"
    path.write_bytes(text.encode(encoding))
    sniffed = sniff(path, whole_file=whole_file)
    assert sniffed.delimiter == delimiter
    with path.open(encoding=sniffed.encoding, newline="") as f:
        assert f.read() == text
    with path.open(encoding=sniffed.encoding, newline="") as f:
        assert list(csv.reader(f, delimiter=sniffed.delimiter)) == table


@settings(max_examples=50, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(table=tables(), delimiter=st.sampled_from(textfiles.DELIMITERS),
       encoding=st.sampled_from(ENCODINGS))
def test_a_file_longer_than_the_sample_is_sniffed_from_its_start(tmp_path, table, delimiter,
                                                                  encoding):
    # Rows repeated past SAMPLE_BYTES: the sample ends inside a row, maybe inside a quoted
    # cell with a line break, and still the delimiter is found.
    text = _text(table[:1], delimiter, "\r\n") + _text(table[1:] or [["x"] * len(table[0])],
                                                       delimiter, "\r\n") * 4000
    while len(text.encode(encoding)) <= textfiles.SAMPLE_BYTES:
        text += text[text.index("\n") + 1:]
    path = tmp_path / "t.csv"
    path.write_bytes(text.encode(encoding))
    sniffed = sniff(path)
    assert sniffed.delimiter == delimiter
    assert not sniffed.whole
    assert path.read_bytes().decode(sniffed.encoding) == text


def test_it_tells_utf8_from_gb18030_by_the_whole_file_or_by_its_start(tmp_path):
    path = tmp_path / "late.csv"
    ascii_start = "name,city\n" + "".join(f"c{i},x\n" for i in range(40_000))
    path.write_bytes((ascii_start + "上海公司,上海\n").encode("gbk"))
    assert textfiles.detect_encoding(path) == GB18030
    # The value engine looks at the start only; its CSV reader finds the rest.
    assert textfiles.detect_encoding(path, whole_file=False) == UTF8
    bom = tmp_path / "bom.csv"
    bom.write_bytes("名称;城市\n上海公司;上海\n".encode("utf-8-sig"))
    sniffed = sniff(bom)
    assert (sniffed.encoding, sniffed.delimiter) == (UTF8, ";")
    assert sniffed.sample.startswith("名称")


def test_what_it_cannot_sniff_says_why(tmp_path):
    broken = tmp_path / "broken.csv"
    broken.write_bytes(b"a,b\n\xff\xfe\xff,1\n")
    with pytest.raises(SniffError) as caught:
        sniff(broken)
    assert caught.value.code == SniffError.UNDECODABLE
    blank = tmp_path / "blank.csv"
    blank.write_bytes(b"\r\n  \n\n")
    with pytest.raises(SniffError) as caught:
        sniff(blank)
    assert caught.value.code == SniffError.EMPTY
    with pytest.raises(SniffError) as caught:
        textfiles.delimiter_named("::")
    assert (caught.value.code, caught.value.detail) == (SniffError.BAD_DELIMITER, "::")


def test_delimiters_may_be_named():
    assert [textfiles.delimiter_named(n) for n in ("tab", "\\t", "TAB", "\t", ";")] == [
        "\t", "\t", "\t", "\t", ";"]
    assert [textfiles.delimiter_named(n) for n in (" ", "space", "whitespace")] == [
        WHITESPACE] * 3


@pytest.mark.parametrize("sample, whitespace, expected", [
    # One column: nothing to split by.
    ("客户名称\n上海华东\n杭州丝绸\n", False, None),
    # Columns lined up with spaces (CDNOW), only when asked for.
    ("  1  19970101  1  11.77\n  2  19970112  1  12.00\n", True, WHITESPACE),
    ("  1  19970101  1  11.77\n  2  19970112  1  12.00\n", False, None),
    # A row with a cell too many: the delimiter that splits the most rows, so that the
    # reader can point at the row that does not fit.
    ("a;b;c\n1;2;3\n4;5;6;7\n8;9;10\n", False, ";"),
    # Blank and whitespace-only rows do not count.
    ("\n\na|b\n  \n1|2\n\n", False, "|"),
    # The most columns win among consistent delimiters.
    ("a,b;c,d\n1,2;3,4\n", False, ","),
    ("a;b;c,d\n1;2;3,4\n", False, ";"),
])
def test_delimiter_rules(sample, whitespace, expected):
    assert textfiles.detect_delimiter(sample, whitespace=whitespace) == expected


def test_it_imports_nothing_but_the_standard_library():
    code = ("import sys, kehu.textfiles; "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
            "('django', 'numpy', 'pyarrow')); assert not bad, bad")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
