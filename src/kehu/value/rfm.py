"""From a transaction log to one row per customer: frequency, recency, T, monetary value.

Conventions (those of Fader, Hardie & Lee and of lifetimes, so that fits compare):
- purchases on the same day count once and their amounts add up;
- frequency is the number of *repeat* purchase days (the first purchase is not counted);
- recency is the time from the first to the last purchase, T from the first purchase to
  the end of the calibration period; both in days (unit "D") or weeks = days / 7 ("W"),
  fractional;
- monetary_value is the mean amount of the repeat purchase days, 0 when there are none.

Customer ids of any type are first coded as dense integers. A log grouped by customer
(each customer's rows together, dates in order, as exports usually are) is summarised in a
few passes without sorting; any other order takes one sort of a 64-bit (customer, day) key.
Both give the same numbers, bincounts and all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields, replace

import numpy as np

from kehu.value._arrays import factorize
from kehu.value._threads import cores, in_order, slices
from kehu.value.errors import ValueModelError

UNIT_DAYS = {"D": 1.0, "W": 7.0}
# Rows per slice of a log grouped by customer summarised at once (see
# summarise_grouped_slices): 8 MB of amounts.
CHUNK_ROWS = 1 << 20
PROBE_ROWS = 1 << 16


def unit_days(time_unit: str) -> float:
    try:
        return UNIT_DAYS[time_unit]
    except KeyError:
        raise ValueModelError(f"time_unit must be 'W' (weeks) or 'D' (days), got {time_unit!r}"
                              ) from None


@dataclass(frozen=True)
class RFMSummary:
    """One row per customer, as equal-length numpy arrays (see the module docstring).

    The holdout fields are set when the summary was made with a calibration_end: the
    number of purchase days after calibration_end up to as_of, their mean amount, and the
    length of that period (the same for every customer).
    """

    customer_id: np.ndarray
    frequency: np.ndarray
    recency: np.ndarray
    T: np.ndarray
    monetary_value: np.ndarray
    frequency_holdout: np.ndarray | None = None
    monetary_value_holdout: np.ndarray | None = None
    duration_holdout: np.ndarray | None = None
    time_unit: str = "W"

    def __len__(self) -> int:
        return int(self.customer_id.size)

    def columns(self) -> dict[str, np.ndarray]:
        """The arrays by name, holdout ones only when present (handy for building tables)."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if f.name != "time_unit" and getattr(self, f.name) is not None}


def to_day(value: object, name: str) -> int:
    """A date given as date, datetime, 'YYYY-MM-DD' / 'YYYYMMDD' or datetime64 -> days since
    1970-01-01."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, str) and len(value) == 8 and value.isdigit():
        value = f"{value[:4]}-{value[4:6]}-{value[6:]}"
    try:
        day = np.datetime64(value, "D")
    except (TypeError, ValueError):
        raise ValueModelError(f"{name} must be a date (YYYY-MM-DD), got {value!r}") from None
    if np.isnat(day):
        raise ValueModelError(f"{name} must be a date, got NaT")
    return int(day.astype(np.int64))


def encode_ids(customer_ids: object) -> tuple[np.ndarray, np.ndarray]:
    """(dense integer code per row, id per code); codes follow the sorted order of ids."""
    ids = np.asarray(customer_ids)
    if ids.ndim != 1:
        raise ValueModelError(f"customer_ids must be one-dimensional, got shape {ids.shape}")
    if ids.dtype.kind in "iu" and ids.size:
        lo, hi = int(ids.min()), int(ids.max())
        if hi - lo < max(4 * ids.size, 1 << 20):
            # Dense enough: the id itself, shifted, is the code; unused codes are dropped
            # later with the customers who have no purchase.
            return np.subtract(ids, lo, dtype=np.int64), np.arange(lo, hi + 1, dtype=ids.dtype)
    if ids.dtype.kind in "OUS":
        encoded = _arrow_encode(ids)
        if encoded is not None:
            return encoded
        ids = ids.astype(str)
    uniques, codes = factorize(ids)
    return codes.astype(np.int64), uniques


def _arrow_encode(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Hash-encode strings with Arrow, several times faster than sorting them in numpy."""
    try:
        import pyarrow.compute as pc

        from kehu.value._arrow import string_array

        encoded = pc.dictionary_encode(string_array(ids))
        uniques = np.array(encoded.dictionary.to_pylist(), dtype=object)
        indices = encoded.indices
        codes = np.frombuffer(indices.buffers()[1], dtype=np.int32, count=len(indices),
                              offset=indices.offset * 4).astype(np.int64)
        order = np.argsort(uniques, kind="stable")
    except (ImportError, TypeError, ValueError):  # mixed types: fall back to sorting str()
        return None
    rank = np.empty(order.size, dtype=np.int64)
    rank[order] = np.arange(order.size)
    return rank[codes], uniques[order]


@dataclass(frozen=True)
class _Aggregates:
    present: np.ndarray  # codes of the customers kept, in code order
    frequency: np.ndarray
    recency_days: np.ndarray
    T_days: np.ndarray
    monetary_value: np.ndarray
    frequency_holdout: np.ndarray | None
    monetary_value_holdout: np.ndarray | None


def summarise_codes(codes: np.ndarray, n_codes: int, days: np.ndarray, amounts: np.ndarray,
                    as_of_day: int, calibration_end_day: int | None = None) -> _Aggregates:
    """The RFM aggregates from integer-coded rows (the fast path the CLI reader feeds).

    codes: 0 <= code < n_codes per row; days: days since 1970-01-01; amounts: float64.
    A big log grouped by customer is summarised in slices on the machine's cores at once.
    """
    end = as_of_day
    holdout = calibration_end_day is not None
    cal_end = end if calibration_end_day is None else calibration_end_day
    if days.size and days.max() > end:
        keep = days <= end
        codes, days, amounts = codes[keep], days[keep], amounts[keep]
    if days.size == 0:
        empty = np.zeros(0)
        return _Aggregates(np.zeros(0, dtype=np.int64), empty, empty, empty, empty,
                           None if not holdout else empty, None if not holdout else empty)
    parts = slices(codes.size, parts=max(cores(), -(-codes.size // CHUNK_ROWS)))
    # A log whose first rows are not grouped (shuffled, or in date order) is not tried in
    # slices: it would only be found out slice by slice.
    if len(parts) > 1 and _grouped_runs(codes[:PROBE_ROWS], days[:PROBE_ROWS],
                                        n_codes) is not None:
        agg = summarise_grouped_slices(codes, n_codes, days, amounts, end, cal_end, holdout,
                                       [p.stop for p in parts[:-1]])
        if agg is not None:
            return agg
    return _summarise(codes, n_codes, days, amounts, end, cal_end, holdout, False)[0]


def summarise_grouped_slices(codes: np.ndarray, n_codes: int, days: np.ndarray,
                             amounts: np.ndarray, end: int, cal_end: int, holdout: bool,
                             cuts: list[int]) -> _Aggregates | None:
    """summarise_codes of rows grouped by customer, cut near `cuts` (moved on to where a
    customer starts) into slices summarised on every core (numpy releases the GIL). A
    customer's rows all in one slice are summed in the same order as in one piece, so the
    numbers are the same to the last bit. None when the rows are not grouped.

    Slices of about CHUNK_ROWS rows whose customers' codes lie close together (a file in
    id order) are summarised in that window of codes: their temporary arrays are then a
    few MB, which the allocator hands from one slice to the next, instead of hundreds of MB
    the kernel must find and clear page by page."""
    bounds = [0]
    for cut in cuts:
        cut = _next_customer(codes, max(cut, bounds[-1]))
        if bounds[-1] < cut < codes.size:
            bounds.append(cut)
    bounds.append(codes.size)
    if len(bounds) == 2:
        return None
    parts = [slice(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)]

    def work(sl: slice) -> tuple[_Aggregates, np.ndarray] | None:
        part = codes[sl]
        low, high = int(part.min()), int(part.max())
        window = high - low < 4 * part.size
        done = _summarise(part - part.dtype.type(low) if window else part,
                          high - low + 1 if window else n_codes, days[sl], amounts[sl], end,
                          cal_end, holdout, True)
        if done is None or not window or low == 0:
            return done
        agg, seen = done
        return replace(agg, present=agg.present + low), seen + low

    done = list(in_order(work, parts, min(cores(), len(parts))))
    if any(d is None for d in done):
        return None
    run_codes = np.concatenate([d[1] for d in done])
    if np.bincount(run_codes, minlength=n_codes).max() > 1:
        return None  # a customer's rows are in two slices: not grouped after all
    aggs = [d[0] for d in done]
    del done, run_codes
    present = np.concatenate([a.present for a in aggs])
    order = None
    if present.size > 1 and not (present[1:] > present[:-1]).all():
        order = np.argsort(present, kind="stable")

    def join(name: str) -> np.ndarray | None:
        if getattr(aggs[0], name) is None:
            return None
        joined = np.concatenate([getattr(a, name) for a in aggs])
        return joined if order is None else joined[order]

    return _Aggregates(*(join(f.name) for f in fields(_Aggregates)))


def _next_customer(codes: np.ndarray, i: int) -> int:
    """The first row at or after i where a customer starts (codes.size if none does)."""
    if i <= 0 or i >= codes.size:
        return min(max(i, 0), codes.size)
    current, window = codes[i - 1], 1024
    while i < codes.size:
        differs = np.flatnonzero(codes[i:i + window] != current)
        if differs.size:
            return i + int(differs[0])
        i += window
        window *= 4
    return codes.size


def _summarise(codes: np.ndarray, n_codes: int, days: np.ndarray, amounts: np.ndarray,
               end: int, cal_end: int, holdout: bool, grouped_only: bool
               ) -> tuple[_Aggregates, np.ndarray] | None:
    """(aggregates, codes of the customers seen) of rows already cut at as_of; None when
    grouped_only and the rows are not grouped by customer."""
    runs = _grouped_runs(codes, days, n_codes)
    if runs is None:
        if grouped_only:
            return None
        n_days_all, n_days_cal, first_of_code, last_of_code = _days_by_sorting(
            codes, n_codes, days, end, cal_end, holdout)
        seen = np.zeros(0, dtype=codes.dtype)
    else:
        n_days_all, n_days_cal, first_of_code, last_of_code = _days_of_runs(
            codes, n_codes, days, cal_end, holdout, runs)
        seen = codes[runs]
    present = np.flatnonzero(n_days_cal > 0)
    first_day = first_of_code[present]
    last_day = last_of_code[present]
    frequency = (n_days_cal[present] - 1).astype(np.float64)
    first_of_code[n_days_cal == 0] = np.iinfo(np.int32).max

    # Money: total per customer minus the amount of the first purchase day, without sorting
    # the amounts (a gather of each row's first day is cheaper than an argsort).
    repeat = days != first_of_code[codes]
    row_cal = days <= cal_end if holdout else None
    if row_cal is not None:
        repeat &= row_cal
    # Summing only the repeat rows (rather than all minus the first day) keeps the mean
    # exact: 22.345, not 22.345000000000006.
    repeat_amount = np.bincount(codes, weights=np.where(repeat, amounts, 0.0),
                                minlength=n_codes)[present]
    del repeat
    with np.errstate(invalid="ignore", divide="ignore"):
        monetary = np.where(frequency > 0, repeat_amount / np.maximum(frequency, 1), 0.0)

    freq_h = money_h = None
    if holdout:
        freq_h = (n_days_all[present] - n_days_cal[present]).astype(np.float64)
        late = ~row_cal
        amount_h = np.bincount(codes[late], weights=amounts[late], minlength=n_codes)[present]
        money_h = np.where(freq_h > 0, amount_h / np.maximum(freq_h, 1), 0.0)
    return _Aggregates(present, frequency, (last_day - first_day).astype(np.float64),
                       (cal_end - first_day).astype(np.float64), monetary, freq_h,
                       money_h), seen


def _grouped_runs(codes: np.ndarray, days: np.ndarray, n_codes: int) -> np.ndarray | None:
    """Where each customer's rows start, if the rows are grouped by customer (each
    customer's rows together, customers in any order) with days in order within each
    group, as in files exported customer by customer; None otherwise.

    Checking takes two passes over the rows and saves sorting them."""
    if codes.size == 0:
        return None
    change = np.empty(codes.size, dtype=bool)
    change[0] = True
    np.not_equal(codes[1:], codes[:-1], out=change[1:])
    starts = np.flatnonzero(change)
    if starts.size > n_codes or np.bincount(codes[starts], minlength=n_codes).max() > 1:
        return None  # some customer's rows are in more than one place
    days_rise = np.greater_equal(days[1:], days[:-1])
    days_rise |= change[1:]
    if not days_rise.all():
        return None
    return starts


def _days_by_sorting(codes: np.ndarray, n_codes: int, days: np.ndarray, end: int,
                     cal_end: int, holdout: bool):
    """Per code: purchase days (distinct), those up to cal_end, first day, last day up to
    cal_end; by one sort of (customer, day) keys."""
    d0 = int(days.min())
    span = end - d0 + 1
    if n_codes * span >= 2**62:
        raise ValueModelError("too many customers times days to summarise")
    # One sort of (customer, day) keys gives each customer's distinct purchase days in order.
    key = codes.astype(np.int64)
    key *= span
    key += days - d0
    key.sort()
    distinct = np.empty(key.size, dtype=bool)
    distinct[0] = True
    np.not_equal(key[1:], key[:-1], out=distinct[1:])
    key = key[distinct]
    del distinct
    cust = key // span
    key -= cust * span  # now the day, relative to d0
    day = key.astype(np.int32) + np.int32(d0)
    del key

    n_days_all = np.bincount(cust, minlength=n_codes)
    n_days_cal = np.bincount(cust[day <= cal_end], minlength=n_codes) if holdout else n_days_all
    del cust
    start = np.cumsum(n_days_all) - n_days_all  # first distinct day of each customer
    bought = n_days_cal > 0
    first_of_code = np.zeros(n_codes, dtype=np.int32)
    last_of_code = np.zeros(n_codes, dtype=np.int32)
    first_of_code[bought] = day[start[bought]]
    last_of_code[bought] = day[start[bought] + n_days_cal[bought] - 1]
    return n_days_all, n_days_cal, first_of_code, last_of_code


def _days_of_runs(codes: np.ndarray, n_codes: int, days: np.ndarray, cal_end: int,
                  holdout: bool, starts: np.ndarray):
    """As _days_by_sorting, for rows grouped by customer with days in order (see
    _grouped_runs): each group's first row has its first day, and a row starts a new
    purchase day when its day differs from the row before."""
    new_day = np.empty(days.size, dtype=bool)
    new_day[0] = True
    np.not_equal(days[1:], days[:-1], out=new_day[1:])
    new_day[starts] = True
    run_code = codes[starts]
    n_days_all = np.zeros(n_codes, dtype=np.int64)
    n_days_all[run_code] = np.add.reduceat(new_day, starts)
    first_of_code = np.zeros(n_codes, dtype=np.int32)
    first_of_code[run_code] = days[starts]
    last_of_code = np.zeros(n_codes, dtype=np.int32)
    if holdout:
        in_cal = days <= cal_end
        new_day &= in_cal
        n_days_cal = np.zeros(n_codes, dtype=np.int64)
        n_days_cal[run_code] = np.add.reduceat(new_day, starts)
        # Days are in order within a group, so its last day up to cal_end is a maximum.
        last_cal = np.maximum.reduceat(np.where(in_cal, days, np.iinfo(np.int32).min),
                                       starts)
        last_of_code[run_code] = last_cal
    else:
        n_days_cal = n_days_all
        last_of_code[run_code] = days[np.append(starts[1:], days.size) - 1]
    return n_days_all, n_days_cal, first_of_code, last_of_code


def rfm_summary(customer_ids: object, dates: object, amounts: object, as_of: object,
                time_unit: str = "W", calibration_end: object = None) -> RFMSummary:
    """Summarise a transaction log (one row per purchase) per customer.

    customer_ids: 1-d array of any dtype; dates: anything np.asarray(..., "datetime64[D]")
    accepts; amounts: numbers; as_of: the end of observation (date, 'YYYY-MM-DD' or
    datetime64). Transactions after as_of are ignored. With calibration_end, frequency,
    recency, T and monetary_value describe the calibration period (up to and including
    calibration_end) and the holdout fields the period after it up to as_of. Customers
    whose first purchase is after as_of (or calibration_end) are left out.
    """
    unit_days(time_unit)  # refuse a bad unit before doing any work
    try:
        day_arr = np.asarray(dates, dtype="datetime64[D]")
    except (TypeError, ValueError) as exc:
        raise ValueModelError(f"dates must be dates: {exc}") from None
    amount_arr = np.asarray(amounts, dtype=np.float64)
    codes, uniques = encode_ids(customer_ids)
    n = codes.size
    if day_arr.shape != (n,) or amount_arr.shape != (n,):
        raise ValueModelError(f"customer_ids, dates and amounts must have the same length, got "
                              f"{n}, {day_arr.size} and {amount_arr.size}")
    if np.isnat(day_arr).any():
        raise ValueModelError(f"dates[{int(np.flatnonzero(np.isnat(day_arr))[0])}] is missing")
    if not np.isfinite(amount_arr).all():
        i = int(np.flatnonzero(~np.isfinite(amount_arr))[0])
        raise ValueModelError(f"amounts[{i}] is {amount_arr[i]}; amounts must be finite numbers")
    as_of_day = to_day(as_of, "as_of")
    cal_day = None if calibration_end is None else to_day(calibration_end, "calibration_end")
    if cal_day is not None and cal_day >= as_of_day:
        raise ValueModelError("calibration_end must be before as_of")
    agg = summarise_codes(codes, uniques.size, day_arr.astype(np.int64), amount_arr, as_of_day,
                          cal_day)
    return summary_from_aggregates(agg, uniques[agg.present], time_unit,
                                   None if cal_day is None else (as_of_day - cal_day))


def summary_from_aggregates(agg: _Aggregates, customer_id: np.ndarray, time_unit: str,
                            holdout_days: int | None) -> RFMSummary:
    unit = unit_days(time_unit)
    duration = None
    if holdout_days is not None:
        duration = np.full(agg.present.size, holdout_days / unit)
    return RFMSummary(customer_id=customer_id, frequency=agg.frequency,
                      recency=agg.recency_days / unit, T=agg.T_days / unit,
                      monetary_value=agg.monetary_value,
                      frequency_holdout=agg.frequency_holdout,
                      monetary_value_holdout=agg.monetary_value_holdout,
                      duration_holdout=duration, time_unit=time_unit)
