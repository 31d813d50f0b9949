"""Reading transaction files for `kehu value`: CSV (any delimiter, UTF-8 or GBK, as
kehu.textfiles tells them) and Parquet.

The fast path hands the file to Arrow's multithreaded CSV reader with the column types
guessed from a sample, so 17 million rows read in about a second: dates become day numbers
and text ids dictionary codes in the reader's threads, so that only the distinct ids are
ever handled one by one. Anything unexpected
(a bad date, a word in the amount column) makes Arrow fail without saying where; the slow
path then reads the three columns as text and finds the first bad value and its line,
so that the message can name the file, line and column.

Columns are named as in the header, or numbered from 1 (always allowed; the only way
for a file without a header, which needs no_header=True).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from kehu.textfiles import UTF8, WHITESPACE, SniffError, sniff
from kehu.value._arrow import numeric_array
from kehu.value.rfm import encode_ids


class _LazyCompute:
    """pyarrow.compute, imported on first use: the fast path (integer ids, ISO or YYYYMMDD
    dates, plain amounts) never needs it, and it costs ~35 ms of every run to import."""

    def __getattr__(self, name: str):
        import pyarrow.compute

        return getattr(pyarrow.compute, name)


pc = _LazyCompute()

DATE_HELP = "expected YYYY-MM-DD or YYYYMMDD"


class InputError(Exception):
    """A file kehu cannot read; the message names the file, the line and the column."""

    def __init__(self, path: Path | str, reason: str, line: int | None = None,
                 column: str | None = None, row: int | None = None) -> None:
        where = str(path)
        if line is not None:
            where += f":{line}"
        parts = [where]
        if row is not None:
            parts.append(f"row {row}")
        if column is not None:
            parts.append(f"column {column}")
        super().__init__(f"{', '.join(parts)}: {reason}")
        self.path, self.line, self.column, self.reason = Path(path), line, column, reason


@dataclass(frozen=True)
class TransactionTable:
    """Transactions as integer-coded arrays, ready for kehu.value.rfm.summarise_codes."""

    customer_ids: np.ndarray  # the id of each code, for output (str or int)
    codes: np.ndarray  # integer (int32 or int64) per row
    days: np.ndarray  # int32 days since 1970-01-01 per row
    amounts: np.ndarray  # float64 per row

    def __len__(self) -> int:
        return int(self.codes.size)


@dataclass(frozen=True)
class _Layout:
    """What sniffing a CSV file found out."""

    encoding: str  # "utf-8" or "gb18030"
    delimiter: str  # one of kehu.textfiles.DELIMITERS or WHITESPACE
    names: list[str]  # header fields, or "1", "2", ... without a header
    skip_lines: int  # physical lines before the first data line
    sample: list[list[str]]  # a few data rows


@dataclass(frozen=True)
class _Column:
    index: int  # 0-based position in the file
    label: str  # for messages: 'name' (3)


def read_transactions(path: str | Path, customer_col: str, date_col: str, amount_col: str, *,
                      header: bool = True, delimiter: str | None = None) -> TransactionTable:
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "no such file")
    with path.open("rb") as f:
        magic = f.read(4)
    if magic == b"PAR1":
        return _read_parquet(path, customer_col, date_col, amount_col)
    layout = _sniff(path, header, delimiter)
    cols = resolve_columns(path, layout.names, customer_col, date_col, amount_col, header)
    return _read_csv(path, layout, cols)


def resolve_columns(path: Path | str, names: list[str], customer_col: str, date_col: str,
                    amount_col: str, header: bool) -> list[_Column]:
    """The customer, date and amount columns, each given by header name or number from 1,
    as positions in `names` with a label for messages; a column named for two of them is
    refused. Also the Spark engine's, so that both engines read the same columns."""
    cols = [_resolve(path, names, ref, role, header)
            for ref, role in ((customer_col, "customer"), (date_col, "date"),
                              (amount_col, "amount"))]
    _distinct(path, cols)
    return cols


def _distinct(path: Path | str, cols: list[_Column]) -> None:
    """One column cannot be two of customer, date and amount."""
    roles = ("--customer-col", "--date-col", "--amount-col")
    for i in range(3):
        for j in range(i + 1, 3):
            if cols[i].index == cols[j].index:
                raise InputError(path, f"{roles[i]} and {roles[j]} name the same column, "
                                       f"{cols[i].label}")


# -- sniffing ------------------------------------------------------------------------------

_SNIFF_PROBLEMS = {
    SniffError.UNDECODABLE: "cannot decode the file as UTF-8 or GBK",
    SniffError.EMPTY: "the file is empty",
}


def _sniff(path: Path, header: bool, delimiter: str | None) -> _Layout:
    # The first SAMPLE_BYTES decide the encoding: a file of millions of rows is not decoded
    # twice; Arrow checks the rest, and _read_csv retries as GB18030 if it is not UTF-8.
    try:
        sniffed = sniff(path, whole_file=False, whitespace=True, delimiter=delimiter)
    except SniffError as exc:
        if exc.code == SniffError.BAD_DELIMITER:
            raise InputError(path, f"the delimiter must be one character, got "
                                   f"{exc.detail!r}") from None
        raise InputError(path, _SNIFF_PROBLEMS[exc.code]) from None
    if sniffed.delimiter is None:
        raise InputError(path, "cannot tell how the columns are separated; use --delimiter")
    # Arrow reads UTF-8 itself and skips a byte order mark.
    encoding = "utf-8" if sniffed.encoding == UTF8 else sniffed.encoding
    numbered = []  # (line number, line) of the first 200 non-blank lines
    for number, line in enumerate(io.StringIO(sniffed.sample), start=1):
        if line.strip():
            numbered.append((number, line.rstrip("\r\n")))
            if len(numbered) == 200:
                break
    sep = sniffed.delimiter
    rows = [_split(line, sep) for _, line in numbered]
    if header:
        names = [name.strip() for name in rows[0]]
        if all(re.fullmatch(r"[-+0-9.:/ ]+", name) for name in names):
            # A header of numbers and dates only is a first row of data: reading on would
            # silently lose a transaction.
            raise InputError(path, "the first line holds only numbers and dates, not column "
                             "names; for a file without a header use --no-header and give "
                             "columns by number", line=numbered[0][0])
        skip, sample = numbered[0][0], rows[1:]
    else:
        names = [str(i + 1) for i in range(len(rows[0]))]
        skip, sample = numbered[0][0] - 1, rows
    return _Layout(encoding, sep, names, skip, sample)


def _split(line: str, sep: str) -> list[str]:
    if sep == WHITESPACE:
        return line.split()
    return next(csv.reader([line], delimiter=sep))


def _resolve(path: Path | str, names: list[str], ref: str, role: str, header: bool) -> _Column:
    ref = str(ref).strip()
    if header:
        if ref in names:
            i = names.index(ref)
            return _Column(i, f"'{ref}' ({i + 1})")
        folded = [n.casefold() for n in names]
        if ref.casefold() in folded:
            i = folded.index(ref.casefold())
            return _Column(i, f"'{names[i]}' ({i + 1})")
    if ref.isdigit() and 1 <= int(ref) <= len(names):
        i = int(ref) - 1
        return _Column(i, f"'{names[i]}' ({i + 1})" if header else str(i + 1))
    if header:
        hint = "" if not ref.isdigit() else " (numbers count columns from 1)"
        raise InputError(path, f"no {role} column {ref!r} in the header; the columns are: "
                         f"{', '.join(names)}{hint}. For a file without a header use "
                         f"--no-header and column numbers", line=1)
    raise InputError(path, f"{role} column {ref!r}: a file without a header has columns "
                     f"1 to {len(names)}; give the column number")


# -- CSV -------------------------------------------------------------------------------------

def _read_csv(path: Path, layout: _Layout, cols: list[_Column]) -> TransactionTable:
    id_col, date_col, amount_col = cols
    names = [f"c{i}" for i in range(len(layout.names))]
    id_type = _guess_id_type(layout.sample, id_col.index)
    date_type = _guess_date_type(layout.sample, date_col.index)
    types = {names[id_col.index]: id_type, names[date_col.index]: date_type,
             names[amount_col.index]: pa.float64()}
    try:
        table = _arrow_read(path, layout, names, cols, types)
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        if layout.encoding == "utf-8" and "utf8" in str(exc).lower().replace("-", ""):
            # Valid UTF-8 in the sample only: the rest of the file is GBK.
            layout = replace(layout, encoding="gb18030")
        # Something did not convert: read the columns as text to find where and why.
        try:
            table = _arrow_read(path, layout, names, cols,
                                {names[c.index]: pa.string() for c in cols})
        except (pa.ArrowInvalid, UnicodeDecodeError) as again:
            raise InputError(path, f"cannot read the file: {again}") from None
    lines = _LineFinder(path, layout)
    tables = [table]
    del table  # _to_arrays takes the only reference, to free columns as it goes
    return _to_arrays(path, tables, [names[c.index] for c in cols], cols, lines.line_of)


def _arrow_read(path: Path, layout: _Layout, names: list[str], cols: list[_Column],
                types: dict[str, pa.DataType]) -> pa.Table:
    bad_rows = []

    def invalid_row(row: pacsv.InvalidRow) -> str:
        bad_rows.append(row)
        return "skip"

    delimiter = layout.delimiter
    source: object = path
    # 4 MB blocks: big enough to amortise, small enough to keep both cores busy.
    read_opts = {"use_threads": True, "block_size": 1 << 22, "column_names": names,
                 "skip_rows": layout.skip_lines}
    if delimiter == WHITESPACE:
        source, delimiter = io.BytesIO(_whitespace_to_commas(path, layout.encoding)), ","
    elif layout.encoding != "utf-8":
        read_opts["encoding"] = layout.encoding
    table = pacsv.read_csv(
        source, memory_pool=pa.system_memory_pool(),
        read_options=pacsv.ReadOptions(**read_opts),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=invalid_row),
        convert_options=pacsv.ConvertOptions(
            include_columns=[names[c.index] for c in cols], column_types=types,
            null_values=[""], strings_can_be_null=True, quoted_strings_can_be_null=True))
    if bad_rows:
        finder = _LineFinder(path, layout)
        line = finder.first_line_with_wrong_width(len(names))
        raise InputError(path, f"expected {len(names)} columns, found "
                         f"{bad_rows[0].actual_columns}", line=line)
    return table


def _whitespace_to_commas(path: Path, encoding: str) -> bytes:
    """A whitespace-separated file (like CDNOW's) as CSV bytes, line for line."""
    data = path.read_bytes()
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    if encoding != "utf-8":
        data = data.decode(encoding).encode("utf-8")
    data = data.replace(b"\r\n", b"\n")
    data = re.sub(rb"(?m)^[ \t]+|[ \t]+$", b"", data)
    return re.sub(rb"[ \t]+", b",", data)


def _guess_id_type(sample: list[list[str]], index: int) -> pa.DataType:
    values = [row[index].strip() for row in sample if len(row) > index]
    # Plain integers without leading zeros read fastest as int64; anything else ("00004",
    # "C001") as text, coded as numbers later if they turn out to be numbers of one width.
    if values and all(re.fullmatch(r"[1-9][0-9]{0,17}", v) for v in values):
        return pa.int64()
    # Text ids are hashed by the reader's threads as they are read (see _codes).
    return pa.dictionary(pa.int32(), pa.string())


def _guess_date_type(sample: list[list[str]], index: int) -> pa.DataType:
    values = [row[index].strip() for row in sample if len(row) > index]
    if values and all(re.fullmatch(r"[12][0-9]{7}", v) for v in values):
        return pa.int64()  # YYYYMMDD
    if values and all(re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", v) for v in values):
        return pa.date32()
    return pa.string()


class _LineFinder:
    """Maps a data record number (0-based, as Arrow counts) to its line in the file.

    Only used to report an error, so it may read the file once more, slowly."""

    def __init__(self, path: Path, layout: _Layout) -> None:
        self.path, self.layout = path, layout

    def _records(self):
        with self.path.open("r", encoding=self.layout.encoding, errors="replace",
                            newline="") as f:
            for number, line in enumerate(f, start=1):
                if number <= self.layout.skip_lines or not line.strip():
                    continue
                yield number, line.lstrip("\ufeff")

    def line_of(self, record: int) -> int | None:
        for i, (number, _) in enumerate(self._records()):
            if i == record:
                return number
        return None

    def first_line_with_wrong_width(self, width: int) -> int | None:
        for number, line in self._records():
            if len(_split(line.rstrip("\r\n"), self.layout.delimiter)) != width:
                return number
        return None


# -- Parquet ---------------------------------------------------------------------------------

def _read_parquet(path: Path, customer_col: str, date_col: str, amount_col: str
                  ) -> TransactionTable:
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(path, f"cannot read the Parquet file: {exc}") from None
    names = list(schema.names)
    cols = resolve_columns(path, names, customer_col, date_col, amount_col, header=True)
    wanted = [names[c.index] for c in cols]
    id_type = schema.field(wanted[0]).type
    text_ids = pa.types.is_string(id_type) or pa.types.is_large_string(id_type)
    # ParquetFile rather than read_table, which imports pyarrow.dataset (a second or so on
    # a busy machine) to read one file.
    try:
        tables = [pq.ParquetFile(path, read_dictionary=[wanted[0]] if text_ids else None
                                 ).read(columns=sorted(set(wanted)), use_threads=True)]
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(path, f"cannot read the Parquet file: {exc}") from None
    return _to_arrays(path, tables, wanted, cols, None)


# -- from Arrow columns to arrays ------------------------------------------------------------

def _to_arrays(path: Path, tables: list[pa.Table], names: list[str], cols: list[_Column],
               line_of) -> TransactionTable:
    """Check and convert the three columns, dropping each Arrow column once converted so
    that the file is never held twice in memory (the CSV reader allocates from the system
    allocator, which returns big blocks to the operating system when they are freed).
    tables holds the one reference to the table, which is taken out of it."""
    table = tables.pop()
    def fail(index: int, col: _Column, reason: str):
        if line_of is None:  # Parquet: rows, not lines
            return InputError(path, reason, row=index + 1, column=col.label)
        return InputError(path, reason, line=line_of(index), column=col.label)

    id_name, date_name, amount_name = names
    id_col, date_col, amount_col = cols
    for name, col, what in ((id_name, id_col, "customer id"), (date_name, date_col, "date"),
                            (amount_name, amount_col, "amount")):
        if table.column(name).null_count:
            raise fail(_first(pc.is_null(table.column(name))), col, f"the {what} is missing")
    if table.num_rows == 0:
        raise InputError(path, "the file has no transactions")
    amount_arr, date_arr = table.column(amount_name), table.column(date_name)
    ids = table.column(id_name)
    del table
    # Coding the ids (mostly Arrow's compute functions) and converting the numbers (numpy
    # copies) both release the GIL: on two threads at once. The numbers are checked on
    # this thread, so that their errors come first, as when they were checked before.
    with ThreadPoolExecutor(1) as pool:
        coding = pool.submit(_codes, ids)
        del ids
        amounts = _amounts(amount_arr, lambda i, why: fail(i, amount_col, why))
        del amount_arr
        release_memory()
        days = _days(date_arr, lambda i, why: fail(i, date_col, why))
        del date_arr
        codes, customer_ids = coding.result()
        del coding
    release_memory()
    return TransactionTable(customer_ids=customer_ids, codes=codes, days=days, amounts=amounts)


def release_memory() -> None:
    """Hand freed memory back to the operating system.

    Arrow's reader frees its buffers in many threads' malloc arenas, where glibc keeps them
    for reuse; on 17M rows that is hundreds of MB of resident memory doing nothing while
    the summary needs its own. malloc_trim returns it; elsewhere this does nothing."""
    pa.default_memory_pool().release_unused()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _numpy(arr: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """The values of a null-free numeric or boolean Arrow array as numpy, read from its
    buffers: Array.to_numpy would import pandas when it is installed (see _arrow), and
    ChunkedArray.to_numpy concatenates in Arrow's allocator, which keeps freed memory."""
    if isinstance(arr, pa.Array):
        return _numpy_chunk(arr)
    if arr.num_chunks == 1:
        return _numpy_chunk(arr.chunk(0))
    if arr.num_chunks == 0:
        return _numpy_chunk(pa.nulls(0, arr.type))
    return np.concatenate([_numpy_chunk(c) for c in arr.chunks])


def _numpy_chunk(arr: pa.Array) -> np.ndarray:
    t = arr.type
    if pa.types.is_boolean(t):
        if len(arr) == 0:
            return np.zeros(0, dtype=bool)
        bits = np.frombuffer(arr.buffers()[1], dtype=np.uint8)
        return np.unpackbits(bits, count=arr.offset + len(arr), bitorder="little"
                             )[arr.offset:].astype(bool)
    if pa.types.is_floating(t):
        dtype = np.dtype(f"f{t.bit_width // 8}")
    elif pa.types.is_integer(t) or pa.types.is_date32(t) or pa.types.is_timestamp(t):
        signed = not pa.types.is_unsigned_integer(t)
        dtype = np.dtype(f"{'i' if signed else 'u'}{t.bit_width // 8}")
    else:
        raise TypeError(f"no numpy view for Arrow type {t}")
    if len(arr) == 0:
        return np.zeros(0, dtype=dtype)
    return np.frombuffer(arr.buffers()[1], dtype=dtype, count=len(arr),
                         offset=arr.offset * dtype.itemsize)


def _first(mask: pa.Array) -> int:
    return int(np.argmax(_numpy(mask)))


def _codes(arr: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """(code per row, id per code), codes following the sorted order of the ids.

    Text ids arrive dictionary-encoded (Arrow's CSV reader hashes them in its threads, and
    Parquet stores them so), so that trimming, checking for numbers and sorting work on the
    distinct ids only, never on every row."""
    if pa.types.is_integer(arr.type):
        return encode_ids(_numpy(arr))
    if pa.types.is_dictionary(arr.type):
        return _code_dictionaries(arr)
    if not pa.types.is_string(arr.type) and not pa.types.is_large_string(arr.type):
        arr = pc.cast(arr, pa.string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    encoded = pc.dictionary_encode(arr)
    return _code_dictionary(encoded.dictionary, _numpy(encoded.indices))


def _code_dictionaries(arr: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """Codes from dictionary-encoded chunks, each with its own dictionary (one per block
    the CSV reader read): the chunks' dictionaries are encoded together, once, and each
    row's code is looked up from its chunk's index in one pass, straight into the result."""
    chunks = [c for c in arr.chunks if len(c)] or [pa.array([], arr.type)]
    value_type = chunks[0].dictionary.type
    dictionaries = [c.dictionary if c.dictionary.type == value_type
                    else pc.cast(c.dictionary, value_type) for c in chunks]
    together = pa.concat_arrays(dictionaries)
    if not (pa.types.is_string(together.type) or pa.types.is_large_string(together.type)):
        together = pc.cast(together, pa.string())
    sizes = np.array([len(d) for d in dictionaries], dtype=np.int64)
    del dictionaries
    distinct = _distinct_in_order(together)
    if distinct is None:
        encoded = pc.dictionary_encode(together)
        distinct = encoded.dictionary, _numpy(encoded.indices)
        del encoded
    del together
    unique_codes, ids = _code_dictionary(*distinct)
    del distinct
    codes = np.empty(sum(len(c) for c in chunks), dtype=unique_codes.dtype)
    first, row = np.cumsum(sizes) - sizes, 0
    for chunk, offset, size in zip(chunks, first, sizes, strict=True):
        lookup = unique_codes[offset:offset + size]
        np.take(lookup, _numpy_chunk(chunk.indices), out=codes[row:row + len(chunk)],
                mode="clip")
        row += len(chunk)
    return codes, ids


def _distinct_in_order(values: pa.Array) -> tuple[pa.Array, np.ndarray] | None:
    """(distinct values, index of each value into them) when values never decrease, as the
    blocks' dictionaries of a file exported customer by customer in id order do (a block
    repeats only the id it starts with); None otherwise. Comparing neighbours is several
    times cheaper than hashing a million ids."""
    if len(values) < 2:
        return None
    later, earlier = values[1:], values[:-1]
    if pc.any(pc.less(later, earlier)).as_py():
        return None
    new = np.empty(len(values), dtype=bool)
    new[0] = True
    new[1:] = _numpy(pc.not_equal(later, earlier))
    indices = np.cumsum(new, dtype=np.int32)
    indices -= 1
    return values.take(numeric_array(np.flatnonzero(new))), indices


def _code_dictionary(dictionary: pa.Array, indices: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Codes and ids from distinct raw ids (dictionary) and each row's index into it."""
    text = pc.utf8_trim_whitespace(dictionary)
    # Numbers of one width ("00004") or without leading zeros are coded as integers (the
    # same customer whatever the padding around them); they are written back as they were.
    if len(text) and pc.all(pc.match_substring_regex(text, r"^[0-9]{1,18}$")).as_py():
        lengths = _numpy(pc.utf8_length(text))
        fixed = lengths.min() == lengths.max()
        leading_zero = bool((_numpy(pc.starts_with(text, "0")) & (lengths > 1)).any())
        if fixed or not leading_zero:
            number_codes, ids = encode_ids(_numpy(pc.cast(text, pa.int64())))
            if fixed and leading_zero:
                ids = np.char.zfill(ids.astype(str), int(lengths.max()))
            return number_codes[indices], ids
    if pc.sum(pc.binary_length(text)).as_py() == pc.sum(pc.binary_length(dictionary)).as_py():
        # Trimming removed nothing: the ids are still distinct.
        uniques = text
        remap = np.arange(len(text), dtype=np.int32)
    else:
        # Ids equal once trimmed (" a" and "a") are one customer: encode the trimmed ids
        # again.
        encoded = pc.dictionary_encode(text)
        uniques = encoded.dictionary
        remap = _numpy(encoded.indices)
    if len(uniques) > 1 and pc.any(pc.less(uniques[1:], uniques[:-1])).as_py():
        order = _numpy(pc.array_sort_indices(uniques)).astype(np.int64)
        uniques = uniques.take(pa.array(order))
        rank = np.empty(order.size, dtype=np.int32)
        rank[order] = np.arange(order.size, dtype=np.int32)
        remap = rank[remap]
    ids = np.array(uniques.to_pylist(), dtype=object)
    if np.array_equal(remap, np.arange(remap.size, dtype=remap.dtype)):
        return indices, ids  # already in order: the reader's own indices are the codes
    return remap[indices], ids


def _days(arr: pa.ChunkedArray, fail) -> np.ndarray:
    """Days since 1970-01-01 as int32 (dates fit, and it halves the memory of int64)."""
    t = arr.type
    if pa.types.is_date32(t):
        return _numpy(arr)  # date32 is int32 days since the epoch
    if pa.types.is_date64(t) or pa.types.is_timestamp(t):
        return _days(pc.cast(pc.cast(arr, pa.timestamp("s")), pa.date32()), fail)
    if pa.types.is_integer(t):
        return _yyyymmdd(_numpy(arr), lambda i: fail(i, f"cannot read {arr[i].as_py()} as a "
                                                        f"date ({DATE_HELP})"))
    if not (pa.types.is_string(t) or pa.types.is_large_string(t)):
        raise fail(0, f"cannot read values of type {t} as dates")
    text = pc.utf8_trim_whitespace(arr)
    try:
        return _days(pc.cast(text, pa.date32()), fail)  # plain ISO dates, fast
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    # Other or mixed formats: YYYY-MM-DD, YYYY/MM/DD or YYYY.MM.DD (with or without a
    # time after it) or YYYYMMDD; the numbers are checked like YYYYMMDD integers, so that
    # 2024-02-30 is refused rather than rolled over to March (as strptime would).
    parts = [pc.extract_regex(text, pattern) for pattern in (
        r"^(?P<y>[0-9]{4})[-/.](?P<m>[0-9]{1,2})[-/.](?P<d>[0-9]{1,2})(?:[ T].*)?$",
        r"^(?P<y>[0-9]{4})(?P<m>[0-9]{2})(?P<d>[0-9]{2})$")]
    matched = pc.or_(pc.is_valid(parts[0]), pc.is_valid(parts[1]))
    if not pc.all(matched).as_py():
        i = _first(pc.invert(matched))
        raise fail(i, f"cannot read {text[i].as_py()!r} as a date ({DATE_HELP})")

    def number(field: str) -> np.ndarray:
        value = pc.coalesce(*(pc.struct_field(part, field) for part in parts))
        return _numpy(pc.cast(value, pa.int64()))

    ymd = number("y") * 10000 + number("m") * 100 + number("d")
    return _yyyymmdd(ymd, lambda i: fail(i, f"cannot read {text[i].as_py()!r} as a date "
                                         f"({DATE_HELP})"))


def _yyyymmdd(values: np.ndarray, fail) -> np.ndarray:
    values = values.astype(np.int64)
    year, month, day = values // 10000, values // 100 % 100, values % 100
    ok = (year >= 1000) & (year <= 9999) & (month >= 1) & (month <= 12) & (day >= 1) & (day <= 31)
    if not ok.all():
        raise fail(int(np.argmin(ok)))
    months = ((year - 1970) * 12 + month - 1).astype("datetime64[M]")
    days = months.astype("datetime64[D]") + (day - 1).astype("timedelta64[D]")
    # 20240230 would roll over into March: refuse it.
    rolled = days.astype("datetime64[M]") != months
    if rolled.any():
        raise fail(int(np.argmax(rolled)))
    return days.astype(np.int32)


def _amounts(arr: pa.ChunkedArray, fail) -> np.ndarray:
    if not (pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type)
            or pa.types.is_decimal(arr.type)):
        text = pc.utf8_trim_whitespace(pc.cast(arr, pa.string()))
        number = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"
        ok = pc.match_substring_regex(text, number)
        if not pc.all(ok).as_py():
            i = _first(pc.invert(ok))
            raise fail(i, f"{text[i].as_py()!r} is not a number")
        arr = pc.cast(text, pa.float64())
    values = _numpy(arr if arr.type == pa.float64() else pc.cast(arr, pa.float64()))
    if not np.isfinite(values).all():
        i = int(np.argmin(np.isfinite(values)))
        raise fail(i, f"{values[i]} is not a finite amount")
    return values
