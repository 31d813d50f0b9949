"""Property tests of the cell parsers: every accepted spelling gives the right value, and the
fast paths for the common shapes agree with the general ones."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kehu.dataio.imports.cleaning import CellError, parse_bool, parse_date, parse_decimal

dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2099, 12, 31))


@given(day=dates, form=st.sampled_from(["%Y-%m-%d", "%Y%m%d", "%Y/%m/%d", "%Y.%m.%d",
                                         "%Y年%m月%d日", "{y}/{m}/{d}", "{y}-{m}-{d}"]),
       wide=st.booleans())
def test_every_written_form_of_a_date_is_that_date(day, form, wide):
    text = day.strftime(form) if "%" in form else form.format(y=day.year, m=day.month,
                                                              d=day.day)
    if wide:
        text = text.translate(str.maketrans("0123456789-/.", "０１２３４５６７８９－／．"))
    assert parse_date(text) == day


@given(text=st.text(max_size=12))
def test_a_date_parser_never_fails_otherwise_than_with_a_reason(text):
    try:
        assert isinstance(parse_date(text), dt.date)
    except CellError as exc:
        assert "is not a date" in exc.message or "is not a plausible date" in exc.message


def _reference(text: str, max_digits: int, places: int) -> Decimal | str:
    """What the general path decides, written out plainly."""
    try:
        number = Decimal(text)
    except InvalidOperation:
        return "not a number"
    if -number.as_tuple().exponent > places:
        return "places"
    if abs(number) >= Decimal(10) ** (max_digits - places):
        return "large"
    return number


@given(whole=st.integers(min_value=-10**16, max_value=10**16),
       fraction=st.one_of(st.none(), st.text(alphabet="0123456789", max_size=4)))
def test_the_fast_path_for_plain_numbers_agrees_with_the_general_one(whole, fraction):
    text = str(whole) if fraction is None else f"{whole}.{fraction}"
    expected = _reference(text, 14, 2)
    try:
        got = parse_decimal(text, 14, 2)
    except CellError as exc:
        got = ("places" if "decimal places" in exc.message else
               "large" if "too large" in exc.message else "not a number")
    assert got == expected


@given(amount=st.decimals(min_value=-10**11, max_value=10**11, places=2, allow_nan=False))
def test_numbers_with_separators_and_currency_signs(amount):
    text = f"￥{amount:,}"
    assert parse_decimal(text, 14, 2) == amount


@pytest.mark.parametrize("text", ["是", "yes", "Y", "1", "TRUE", "√"])
def test_yes(text):
    assert parse_bool(text) is True


@pytest.mark.parametrize("text", ["否", "no", "N", "0", "false", "×"])
def test_no(text):
    assert parse_bool(text) is False


@pytest.mark.parametrize("text", ["12,50", "1,2,3", " 5 0 ", "1_000", "1.234,50", "12.5.3",
                                  "nan", "inf", "1,23", "¥", "--5", "5-"])
def test_numbers_are_refused_rather_than_guessed(text):
    with pytest.raises(CellError, match="is not a number"):
        parse_decimal(text, 14, 2)


@pytest.mark.parametrize("text, value", [("1,234.50", "1234.50"), ("¥12", "12"),
                                         ("12元", "12"), ("-¥3", "-3"), ("$1,000", "1000"),
                                         ("１２３", "123"), (" 42 ", "42"), (".5", "0.5"),
                                         ("'-20.00", "-20.00")])
def test_numbers_as_people_type_them(text, value):
    assert parse_decimal(text, 14, 2) == Decimal(value)


@pytest.mark.parametrize("text", ["2024-03-01 25:00", "2024-03-01 10:61", "0001-01-01",
                                  "29990101", "1899/12/31"])
def test_impossible_dates_are_refused(text):
    with pytest.raises(CellError):
        parse_date(text)


def test_a_cell_kehu_exported_comes_back_as_it_went_out():
    from kehu.dataio.imports.cleaning import text
    from kehu.dataio.normalise import guard_formula

    for value in ("+86 138 0000 0040", "-Minus公司", "=SUM(A1)", "@home", "plain", "'quoted"):
        assert text(guard_formula(value)) == value
