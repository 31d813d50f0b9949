"""How a delimited text file is written: its encoding and the character between its columns.

One sniffer for every CSV kehu reads: the import (kehu.dataio.imports.readers) and the value
engine's transaction files (kehu.value.readers). It lives at the top of the package and
imports nothing but the standard library because of its two users: kehu.value must never
import Django, and the import must not depend on the value engine to read a file. Problems
raise SniffError with a code; each caller words its own message (the import translated, the
value command line in plain English).

Encodings: UTF-8, with or without a byte order mark, else GB18030 — a superset of GBK and
GB2312, what Excel in China saves as "CSV". With `whole_file` the whole file must decode
strictly (the import: a GBK character on the millionth line still counts); without, the
first SAMPLE_BYTES decide (the value engine, whose CSV reader checks the rest itself and
reads files of tens of millions of rows).

Delimiters: , ; tab and |, whichever gives the header and the first SAMPLE_ROWS rows one
consistent number of columns, preferring the most columns; quoted cells may hold delimiters
and line breaks. If none is consistent: runs of spaces or tabs when asked for (`whitespace`, files
such as CDNOW's) and consistent, else the delimiter that splits the most rows (reading the
file will then point at the row that does not fit), else None: every row is one column.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import os
from dataclasses import dataclass

DELIMITERS = (",", ";", "\t", "|")
WHITESPACE = "whitespace"  # columns separated by runs of spaces or tabs
UTF8 = "utf-8-sig"  # reads UTF-8 with or without a byte order mark
GB18030 = "gb18030"
ENCODINGS = (UTF8, GB18030)
SAMPLE_BYTES = 256 * 1024
SAMPLE_ROWS = 200  # rows after the header that decide the delimiter
# Names a user may give a delimiter by, besides the character itself.
DELIMITER_NAMES = {"\\t": "\t", "tab": "\t", " ": WHITESPACE, "space": WHITESPACE,
                   "whitespace": WHITESPACE}

csv.field_size_limit(10 * 1024 * 1024)


class SniffError(ValueError):
    """The file cannot be sniffed; `code` says why, for the caller to word."""

    UNDECODABLE = "undecodable"  # neither UTF-8 nor GB18030
    EMPTY = "empty"  # nothing but blank lines
    BAD_DELIMITER = "bad-delimiter"  # a delimiter given by name that is no single character

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code, self.detail = code, detail


@dataclass(frozen=True)
class Sniffed:
    """What sniffing a file found."""

    encoding: str  # UTF8 or GB18030, the codec to read the file with
    delimiter: str | None  # one of DELIMITERS, WHITESPACE, or None: a single column
    sample: str  # the start of the file, decoded, in whole lines, without a byte order mark
    whole: bool  # whether the sample is the whole file


def sniff(path: str | os.PathLike[str], *, whole_file: bool = True, whitespace: bool = False,
          delimiter: str | None = None) -> Sniffed:
    """The encoding and delimiter of the file at `path`. `delimiter`, if given, is taken as
    it is (a character or one of DELIMITER_NAMES) instead of detected. SniffError if the file
    does not decode, is blank, or names an impossible delimiter."""
    raw, whole = _head(path)
    encoding = detect_encoding(path, whole_file=whole_file, head=(raw, whole))
    sample = _decode(raw, encoding, final=whole)
    if not sample.strip():
        raise SniffError(SniffError.EMPTY)
    if delimiter:
        chosen: str | None = delimiter_named(delimiter)
    else:
        chosen = detect_delimiter(sample, complete=whole, whitespace=whitespace)
    return Sniffed(encoding=encoding, delimiter=chosen, sample=sample, whole=whole)


def detect_encoding(path: str | os.PathLike[str], *, whole_file: bool = True,
                    head: tuple[bytes, bool] | None = None) -> str:
    """UTF8 if the file (or its first SAMPLE_BYTES, without `whole_file`) decodes strictly as
    UTF-8, else GB18030 if it decodes as that; SniffError otherwise."""
    raw, whole = head if head is not None else _head(path)
    for encoding in ENCODINGS:
        if whole_file and not whole:
            if _file_decodes(path, encoding):
                return encoding
            continue
        try:
            _decode(raw, encoding, final=whole)
        except UnicodeDecodeError:
            continue
        return encoding
    raise SniffError(SniffError.UNDECODABLE)


def delimiter_named(name: str) -> str:
    """The delimiter a user named: a single character, or tab, space, \\t (DELIMITER_NAMES)."""
    found = DELIMITER_NAMES.get(name.lower(), name)
    if found != WHITESPACE and len(found) != 1:
        raise SniffError(SniffError.BAD_DELIMITER, name)
    return found


def detect_delimiter(sample: str, *, complete: bool = True,
                     whitespace: bool = False) -> str | None:
    """The delimiter of `sample`, the start of a file in whole lines (see the module's
    docstring); `complete` if the sample is the whole file, so that its last row is whole too
    (otherwise a quoted cell may run past the end of the sample and the last row is not
    counted)."""
    # Enough lines for the rows looked at, even with blank lines and cells on several lines
    # between them: parsing the whole sample four times would cost more than the reading.
    end = -1
    for _ in range(4 * (SAMPLE_ROWS + 1)):
        end = sample.find("\n", end + 1)
        if end < 0:
            break
    if 0 <= end < len(sample) - 1:
        sample, complete = sample[: end + 1], False
    width: dict[str, list[int]] = {}
    for delimiter in DELIMITERS:
        reader = csv.reader(io.StringIO(sample), delimiter=delimiter)
        try:
            rows = list(itertools.islice((r for r in reader if any(c.strip() for c in r)),
                                         SAMPLE_ROWS + 2))
        except csv.Error:
            continue
        if len(rows) > SAMPLE_ROWS + 1:
            rows.pop()  # more follow: the header and SAMPLE_ROWS rows are enough
        elif not complete and len(rows) > 2:
            rows.pop()  # cut short by the end of the sample, maybe inside a quoted cell
        width[delimiter] = [len(r) for r in rows]
    best, best_columns = None, 1
    for delimiter, widths in width.items():
        columns = widths[0] if widths else 0
        if columns > best_columns and all(w == columns for w in widths):
            best, best_columns = delimiter, columns
    if best is not None:
        return best
    if whitespace:
        lines = (line for line in sample.splitlines() if line.strip())
        counts = {len(line.split()) for line in itertools.islice(lines, SAMPLE_ROWS + 1)}
        if len(counts) == 1 and counts.pop() >= 2:
            return WHITESPACE
    # Inconsistent rows: the delimiter that splits the most of them.
    scores = {delimiter: sum(w > 1 for w in widths) for delimiter, widths in width.items()}
    if scores and max(scores.values()) > 0:
        return max(scores, key=lambda d: scores[d])
    return None


def _head(path: str | os.PathLike[str]) -> tuple[bytes, bool]:
    """The first SAMPLE_BYTES of the file in whole lines, and whether that is all of it."""
    with open(path, "rb") as f:
        raw = f.read(SAMPLE_BYTES)
        whole = not f.read(1)
    if not whole and b"\n" in raw:
        # Neither UTF-8 nor GB18030 uses the byte of a line feed inside a character.
        raw = raw[: raw.rindex(b"\n") + 1]
    return raw, whole


def _decode(raw: bytes, encoding: str, *, final: bool) -> str:
    # Incremental, so that a sample cut inside a character (a file without line breaks in
    # its first SAMPLE_BYTES) is not taken for a wrong encoding.
    return codecs.getincrementaldecoder(encoding)(errors="strict").decode(raw, final=final)


def _file_decodes(path: str | os.PathLike[str], encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                # Plain ASCII is valid in both encodings: only the rest needs decoding, which
                # makes the check of a typical export several times faster.
                if chunk.isascii() and not decoder.getstate()[0]:
                    continue
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True
