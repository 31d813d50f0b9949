"""Phone numbers, e-mails and company names in their canonical forms."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kehu.dataio import normalise

mobiles = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)
FULLWIDTH = str.maketrans("0123456789+-() ", "０１２３４５６７８９＋－（）\u3000")


@st.composite
def spelled(draw, number: str) -> str:
    """The number as people type it: a country prefix, spaces, dashes, brackets, full width."""
    prefix = draw(st.sampled_from(["", "+86", "+86 ", "0086", "0086-", "(+86) ", "86"]))
    cuts = sorted(draw(st.sets(st.integers(1, len(number) - 1), max_size=3)))
    parts, last = [], 0
    for cut in cuts:
        parts.append(number[last:cut])
        last = cut
    parts.append(number[last:])
    seps = [draw(st.sampled_from([" ", "-", "", " - ", ")", "("])) for _ in parts[1:]]
    body = parts[0] + "".join(s + p for s, p in zip(seps, parts[1:], strict=True))
    text = prefix + body
    return text.translate(FULLWIDTH) if draw(st.booleans()) else text


@given(data=st.data(), number=mobiles)
def test_every_spelling_of_a_mobile_number_is_the_same_number(data, number):
    assert normalise.phone(data.draw(spelled(number))) == number


@given(a=mobiles, b=mobiles)
def test_different_numbers_stay_different(a, b):
    assert (normalise.phone(a) == normalise.phone(b)) == (a == b)


def test_landlines_in_international_form_equal_the_domestic_form():
    assert normalise.phone("+86 21-5555-0101") == normalise.phone("021-5555-0101") \
        == "02155550101"
    assert normalise.phone("0086 (10) 6666 0202") == normalise.phone("(010) 6666 0202")


BASE_HAN = "上海华东贸易杭州丝绸北京机械南方科技电子"
latin_word = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=10)
cn_suffix = st.sampled_from(["有限公司", "有限责任公司", "股份有限公司", "集团", "集团有限公司",
                             "公司", "（集团）有限公司"])
en_suffix = st.sampled_from([" Co., Ltd.", " Co. Ltd", ", Inc.", " Inc", " LLC", " GmbH",
                             " Ltd.", " Limited", " Corp.", " Group Co., Ltd."])


@given(base=st.text(alphabet=BASE_HAN, min_size=2, max_size=8), suffix=cn_suffix)
def test_chinese_legal_suffixes_do_not_matter(base, suffix):
    assert normalise.company_name(base + suffix) == normalise.company_name(base) == base


@given(words=st.lists(latin_word, min_size=1, max_size=3), suffix=en_suffix,
       upper=st.booleans())
def test_english_legal_suffixes_and_case_do_not_matter(words, suffix, upper):
    base = " ".join(words)
    name = (base + suffix).upper() if upper else base + suffix
    assert normalise.company_name(name) == normalise.company_name(base)


@given(name=st.text(max_size=30))
def test_company_name_is_idempotent(name):
    once = normalise.company_name(name)
    assert normalise.company_name(once) == once


def test_known_company_names():
    assert normalise.company_name("上海华东贸易有限公司") == "上海华东贸易"
    assert normalise.company_name("Hangzhou Silk Co., Ltd.") == "hangzhousilk"
    assert normalise.company_name("ＡＢＣ　Ｔｒａｄｉｎｇ　ＧｍｂＨ") == "abctrading"
    assert normalise.company_name("集团") == "集团"  # a bare suffix is still a name


@given(text=st.text(alphabet="ABCxyz019@.+-", max_size=20))
def test_fullwidth_ascii_becomes_halfwidth(text):
    wide = "".join(chr(ord(c) + 0xFEE0) for c in text)
    assert normalise.halfwidth(wide) == text


def test_emails_are_trimmed_and_lowercased():
    assert normalise.email("  Info@HuaDong.CN ") == "info@huadong.cn"
    assert normalise.email("ｉｎｆｏ＠ｘ．ｃｎ") == "info@x.cn"


def test_words_keep_their_order_apart_from_the_legal_form():
    assert normalise.words("Silk  Hangzhou Co., Ltd.") == "silk hangzhou"
    assert normalise.words("（上海）华东贸易有限公司") == "上海 华东贸易"
