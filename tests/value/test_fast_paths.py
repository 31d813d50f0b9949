"""The fast paths of `kehu value score` give the same summary as the general ones: files
grouped by customer (no sort), text ids hashed per block as they are read."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from hypothesis import given, settings
from hypothesis import strategies as st

from kehu.value import rfm
from kehu.value.pipeline import summarise
from kehu.value.readers import read_transactions

AS_OF = 19_000  # days since 1970-01-01 (2022-01-08)
FIELDS = ("present", "frequency", "recency_days", "T_days", "monetary_value",
          "frequency_holdout", "monetary_value_holdout")


@st.composite
def logs(draw):
    """(codes, days, amounts, n_codes): a few customers, some buying twice on one day,
    some only after the end, whole amounts (so that sums agree in any order)."""
    n_codes = draw(st.integers(1, 8))
    rows = draw(st.lists(st.tuples(st.integers(0, n_codes - 1),
                                   st.integers(AS_OF - 30, AS_OF + 3),
                                   st.integers(1, 500)), min_size=1, max_size=60))
    codes, days, amounts = (np.array(c) for c in zip(*rows, strict=True))
    return codes.astype(np.int64), days.astype(np.int32), amounts.astype(np.float64), n_codes


def by_sorting(codes, n_codes, days, amounts, as_of, cal):
    """The summary the general path (one sort of every row) makes."""
    grouped_runs = rfm._grouped_runs
    rfm._grouped_runs = lambda *args: None
    try:
        return rfm.summarise_codes(codes, n_codes, days, amounts, as_of, cal)
    finally:
        rfm._grouped_runs = grouped_runs


def assert_same(a, b):
    for name in FIELDS:
        x, y = getattr(a, name), getattr(b, name)
        assert (x is None) == (y is None), name
        if x is not None:
            assert x.tolist() == y.tolist(), name


@settings(max_examples=150)
@given(logs(), st.sampled_from([None, AS_OF - 10]), st.randoms(use_true_random=False))
def test_a_log_grouped_by_customer_is_summarised_as_when_sorted(log, cal, random):
    codes, days, amounts, n_codes = log
    # Grouped: each customer's rows together with days in order, customers in any order.
    customer_order = list(range(n_codes))
    random.shuffle(customer_order)
    rank = np.argsort(customer_order)
    grouped = np.lexsort((days, rank[codes]))
    g_codes, g_days, g_amounts = codes[grouped], days[grouped], amounts[grouped]
    assert rfm._grouped_runs(g_codes, g_days, n_codes) is not None
    fast = rfm.summarise_codes(g_codes, n_codes, g_days, g_amounts, AS_OF, cal)
    # Exactly the general path's answer, on the same rows and on the rows shuffled.
    assert_same(fast, by_sorting(g_codes, n_codes, g_days, g_amounts, AS_OF, cal))
    shuffled = np.array(random.sample(range(codes.size), codes.size))
    assert_same(fast, rfm.summarise_codes(codes[shuffled], n_codes, days[shuffled],
                                          amounts[shuffled], AS_OF, cal))


@settings(max_examples=150)
@given(logs(), st.sampled_from([None, AS_OF - 10]), st.lists(st.integers(0, 60), max_size=3),
       st.randoms(use_true_random=False))
def test_a_grouped_log_summarised_in_slices_is_summarised_as_in_one_piece(log, cal, cuts,
                                                                           random):
    """Slices cut anywhere, even inside a customer's rows (the cut moves on to the next
    customer), give the same numbers to the last bit, amounts with fractions included."""
    codes, days, amounts, n_codes = log
    keep = days <= AS_OF  # summarise_codes cuts at as_of before slicing
    codes, days, amounts = codes[keep], days[keep], amounts[keep] / 7
    if codes.size == 0:
        return
    customer_order = list(range(n_codes))
    random.shuffle(customer_order)
    grouped = np.lexsort((days, np.argsort(customer_order)[codes]))
    codes, days, amounts = codes[grouped], days[grouped], amounts[grouped]
    end_cal = AS_OF if cal is None else cal
    sliced = rfm.summarise_grouped_slices(codes, n_codes, days, amounts, AS_OF, end_cal,
                                          cal is not None, sorted(cuts))
    one = rfm._summarise(codes, n_codes, days, amounts, AS_OF, end_cal, cal is not None,
                         True)[0]
    if sliced is None:  # every cut fell at the start, the end or inside the last customer
        assert all(rfm._next_customer(codes, c) in (0, codes.size) for c in cuts)
    else:
        assert_same(sliced, one)


def test_slices_of_a_log_that_is_not_grouped_are_not_summarised_apart():
    """A customer whose rows are in two slices must not become two customers."""
    codes = np.array([0, 0, 1, 1, 0, 2])
    days = np.arange(6, dtype=np.int32)
    assert rfm.summarise_grouped_slices(codes, 3, days, np.ones(6), 10, 10, False, [3]) is None
    a = rfm.summarise_codes(codes, 3, days, np.ones(6), 10)
    assert a.frequency.tolist() == [2.0, 1.0, 0.0]


def test_a_customer_straddling_the_cut_is_summarised_whole():
    codes = np.array([0, 0, 1, 1, 1, 1, 2, 2])
    days = np.array([1, 2, 1, 3, 3, 5, 4, 6], dtype=np.int32)
    amounts = np.array([1.0, 2.0, 0.1, 0.2, 0.3, 0.4, 5.0, 6.0])
    sliced = rfm.summarise_grouped_slices(codes, 3, days, amounts, 10, 10, False, [3])
    assert sliced is not None
    assert sliced.frequency.tolist() == [1.0, 2.0, 1.0]
    assert sliced.monetary_value.tolist() == [2.0, (0.2 + 0.3 + 0.4) / 2, 6.0]
    assert sliced.recency_days.tolist() == [1.0, 4.0, 2.0]


def test_rows_that_are_not_grouped_or_not_in_date_order_take_the_general_path():
    days = np.array([5, 6, 7, 8], dtype=np.int32)
    assert rfm._grouped_runs(np.array([0, 0, 1, 1]), days, 2) is not None
    assert rfm._grouped_runs(np.array([0, 1, 0, 1]), days, 2) is None  # split customer
    late_first = np.array([6, 5, 7, 8], dtype=np.int32)
    assert rfm._grouped_runs(np.array([0, 0, 1, 1]), late_first, 2) is None
    # The same answer either way: c0 bought on days 5 and 6 (unordered), c1 on 7 and 8.
    a = rfm.summarise_codes(np.array([0, 0, 1, 1]), 2, late_first, np.ones(4), 10)
    assert a.frequency.tolist() == [1.0, 1.0] and a.recency_days.tolist() == [1.0, 1.0]


def write_log(path, ids, days, amounts):
    pacsv.write_csv(pa.table({"customer": ids, "date": pa.array(days, pa.date32()),
                              "amount": amounts}), path,
                    write_options=pacsv.WriteOptions(quoting_style="none"))


@settings(max_examples=15)
@given(logs(), st.booleans())
def test_text_ids_and_integer_ids_give_the_same_summary(tmp_path_factory, log, grouped):
    codes, days, amounts, _ = log
    if grouped:
        order = np.lexsort((days, codes))
        codes, days, amounts = codes[order], days[order], amounts[order]
    folder = tmp_path_factory.mktemp("ids")
    numbers, words = folder / "numbers.csv", folder / "words.csv"
    write_log(numbers, codes + 1, days, amounts)
    write_log(words, [f"C{c:07d}" for c in codes], days, amounts)
    as_of = str(np.datetime64(AS_OF + 3, "D"))  # after every purchase
    a = summarise(read_transactions(numbers, "customer", "date", "amount"), as_of, "D")
    b = summarise(read_transactions(words, "customer", "date", "amount"), as_of, "D")
    assert [f"C{i - 1:07d}" for i in a.customer_id.tolist()] == b.customer_id.tolist()
    for name in ("frequency", "recency", "T", "monetary_value"):
        assert getattr(a, name).tolist() == getattr(b, name).tolist(), name


def _read_ids(tmp_path, ids: list[str], block: int):
    """The transactions of a Parquet file holding `ids`, one purchase a day, in row groups
    (blocks) of `block` rows."""
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"customer": ids, "date": pa.array(range(len(ids)), pa.date32()),
                             "amount": [1.0] * len(ids)}), path, row_group_size=block)
    return read_transactions(path, "customer", "date", "amount")


def test_ids_hashed_block_by_block_are_one_customer_each(tmp_path):
    """Each block (here a Parquet row group) has its own dictionary of ids, in any order
    and with stray spaces: the codes still follow the sorted ids, one per customer."""
    ids = ["b", "a", " a", "c", "b ", "d", "a", "e"]
    t = _read_ids(tmp_path, ids, 3)
    assert t.customer_ids.tolist() == ["a", "b", "c", "d", "e"]
    assert t.customer_ids[t.codes].tolist() == [i.strip() for i in ids]


def test_text_ids_that_are_numbers_of_one_width_are_read_across_blocks(tmp_path):
    ids = ["0042", "0007", "0042 ", "0100", "0007"]
    t = _read_ids(tmp_path, ids, 2)
    assert t.customer_ids[t.codes].tolist() == ["0042", "0007", "0042", "0100", "0007"]


def test_ids_in_order_across_blocks_are_one_customer_each(tmp_path):
    """A file exported customer by customer in id order: each block's dictionary continues
    the one before, repeating the id that straddles the boundary, and an id with a stray
    space is still the same customer."""
    ids = ["a", "a", "b", "b", "b ", "c", "d", "d", "d", "e"]
    t = _read_ids(tmp_path, ids, 3)
    assert t.customer_ids.tolist() == ["a", "b", "c", "d", "e"]
    assert t.customer_ids[t.codes].tolist() == [i.strip() for i in ids]
    s = summarise(t, str(np.datetime64(12, "D")), "D")
    assert s.frequency.tolist() == [1, 2, 0, 2, 0]


def test_slices_whose_customers_are_far_apart_or_close_together_agree():
    """Codes far apart in a slice (grouped, not in id order) or close together (shifted
    to a window of their own) give one summary."""
    codes = np.array([90, 90, 3, 3, 3, 60, 61, 61])
    days = np.array([1, 4, 2, 2, 5, 3, 1, 2], dtype=np.int32)
    amounts = np.array([1.5, 2.25, 0.1, 0.2, 0.3, 4.0, 5.0, 6.5])
    one = rfm._summarise(codes, 91, days, amounts, 10, 10, False, True)[0]
    for cuts in ([2], [5], [2, 5], [1, 6]):
        sliced = rfm.summarise_grouped_slices(codes, 91, days, amounts, 10, 10, False, cuts)
        assert_same(sliced, one)
    assert one.present.tolist() == [3, 60, 61, 90]
    assert one.monetary_value.tolist() == [0.3, 0.0, 6.5, 2.25]


@settings(max_examples=100)
@given(logs(), st.sampled_from([None, AS_OF - 10]), st.booleans(),
       st.randoms(use_true_random=False))
def test_a_big_log_is_summarised_as_when_sorted_whether_grouped_or_not(log, cal, grouped,
                                                                       random):
    """summarise_codes as it runs on millions of rows (slices of CHUNK_ROWS, grouping
    probed on the first PROBE_ROWS), here on a few dozen."""
    from unittest import mock

    from kehu.value import _threads

    codes, days, amounts, n_codes = log
    if grouped:  # the first rows may still be grouped when later ones are not
        order = np.lexsort((days, codes))
        codes, days, amounts = codes[order], days[order], amounts[order]
    amounts = amounts / 7
    expected = by_sorting(codes, n_codes, days, amounts, AS_OF, cal)
    with mock.patch.object(_threads, "MIN_SLICE", 1), mock.patch.object(rfm, "CHUNK_ROWS", 5), \
            mock.patch.object(rfm, "PROBE_ROWS", 8), mock.patch.object(rfm, "cores", lambda: 2):
        assert_same(rfm.summarise_codes(codes, n_codes, days, amounts, AS_OF, cal), expected)
