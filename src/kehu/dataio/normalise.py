"""Canonical forms of phone numbers, e-mail addresses and company names.

Imports use them to match rows with existing customers ("update existing"), and duplicate
detection compares customers by them: two spellings of one number or one firm must come out
equal, two different ones must not.
"""

from __future__ import annotations

import re
import unicodedata

from kehu.customers.search import phone_digits

_SPACES = re.compile(r"\s+")
_NON_DIGITS = re.compile(r"\D+")

# Longest first, so that 股份有限公司 is removed whole rather than leaving 股份.
_CN_SUFFIXES = sorted({
    "股份有限公司", "有限责任公司", "集团有限公司", "集团股份有限公司", "有限公司", "集团公司",
    "分公司", "总公司", "公司", "集团", "厂",
}, key=len, reverse=True)
# Matched as whole words at the end, after punctuation has been made uniform.
_EN_SUFFIX = re.compile(
    r"(?:[\s,.]+(?:co|company|corp|corporation|inc|incorporated|ltd|limited|llc|l\.l\.c|"
    r"gmbh|ag|plc|sa|s\.a|bv|b\.v|pte|pty|group|holdings?))+[\s,.]*$",
    re.IGNORECASE,
)
_BRACKETS = re.compile(r"[()（）\[\]【】]")


def halfwidth(text: str) -> str:
    """Full-width letters, digits, punctuation and the ideographic space as ASCII.

    NFKC does this and also unifies other compatibility forms (①, ﬁ), which is what a
    comparison wants; Chinese characters are left as they are."""
    return unicodedata.normalize("NFKC", text or "").replace("\u3000", " ")


def phone(value: str) -> str:
    """Digits only, without +86 / 0086: "+86 (138) 0013-8000" and "13800138000" are equal,
    and so are "+86 21 5555 0101" and "021-5555-0101" (an international landline number
    drops the trunk 0, which search.phone_digits does not put back)."""
    text = halfwidth(value).strip()
    digits = phone_digits(text)
    raw = _NON_DIGITS.sub("", text)
    international = text.startswith(("+", "(+")) or raw.startswith("00")
    if raw.startswith("0086"):
        rest = raw[4:]
    elif raw.startswith("86") and (international or len(raw) >= 13):
        rest = raw[2:]
    else:
        return digits
    if rest.startswith("1") and len(rest) == 11:
        return rest
    return rest if rest.startswith("0") else "0" + rest


def email(value: str) -> str:
    return halfwidth(value).strip().lower()


def company_name(value: str) -> str:
    """The name without legal-form suffixes, case, brackets and spacing, for matching.

    "上海华东贸易有限公司", "上海华东贸易" and "（上海）华东贸易集团" compare alike; so do
    "Hangzhou Silk Co., Ltd." and "hangzhou silk"."""
    text = value or ""
    # Removing spaces can bring a suffix together ("有限公 司"): repeat until nothing changes,
    # so that a normalised name normalises to itself.
    for _round in range(10):
        result = _strip_company(text)
        if result == text:
            break
        text = result
    return text


def _strip_company(value: str) -> str:
    text = _BRACKETS.sub(" ", halfwidth(value)).strip()
    text = _SPACES.sub(" ", text)
    previous = None
    while previous != text:
        previous = text
        text = _EN_SUFFIX.sub("", text).strip(" ,.")
        for suffix in _CN_SUFFIXES:
            # Keep a name that is nothing but a suffix ("集团") rather than erase it.
            if text.endswith(suffix) and len(text) > len(suffix):
                text = text[: -len(suffix)].rstrip()
                break
    return unicodedata.normalize("NFKC", _SPACES.sub("", text).casefold())


def words(value: str) -> str:
    """The name's words without legal-form suffixes, in lower case, spaces kept: for comparing
    names whatever the order of their words ("Silk Hangzhou Co." ~ "hangzhou silk")."""
    text = _SPACES.sub(" ", _BRACKETS.sub(" ", halfwidth(value or "")).casefold()).strip()
    text = _EN_SUFFIX.sub("", text).strip(" ,.")
    for suffix in _CN_SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix):
            text = text[: -len(suffix)].rstrip()
            break
    return text


# Cells a spreadsheet would run as a formula start with one of these; kehu's export puts a
# quote before them (CSV and XLSX alike) and its import takes that quote off again.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def guard_formula(value):
    """Text a spreadsheet would run as a formula, made inert with a leading quote."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def unguard_formula(text: str) -> str:
    """The text guard_formula was given back (a file exported by kehu imports unchanged)."""
    return text[1:] if text[:1] == "'" and text[1:].startswith(FORMULA_START) else text
