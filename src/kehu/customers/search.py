"""Search keys for customers: what a user may type to find one.

Chinese names are also findable by their pinyin ("shanghai") and initials ("shhd"), phone
numbers by their digits whatever the punctuation.
"""

from __future__ import annotations

import re
import unicodedata

from pypinyin import Style, lazy_pinyin

_NON_DIGITS = re.compile(r"\D+")
_SPACES = re.compile(r"\s+")
_HAN = re.compile(r"[\u3400-\u9fff]")


def normalise(text: str) -> str:
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text or "")).strip().lower()


def phone_digits(phone: str) -> str:
    digits = _NON_DIGITS.sub("", phone or "")
    # +86 / 0086 country prefixes are noise when matching Chinese numbers.
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) >= 11:
            return digits[len(prefix):]
    return digits


def pinyin_keys(name: str) -> tuple[str, str]:
    """Full pinyin without spaces and the initials, for names with Chinese characters."""
    if not _HAN.search(name or ""):
        return "", ""
    syllables = [s for s in lazy_pinyin(name, errors="ignore") if s.strip()]
    initials = [s for s in lazy_pinyin(name, style=Style.FIRST_LETTER, errors="ignore")
                if s.strip()]
    return "".join(syllables).lower(), "".join(initials).lower()


def search_text(*, name: str, phones: tuple[str, ...] = (), email: str = "",
                external_id: str | None = "") -> str:
    full, initials = pinyin_keys(name)
    parts = [normalise(name), full, initials, *(phone_digits(p) for p in phones),
             normalise(email), normalise(external_id or "")]
    return " ".join(p for p in parts if p)[:600]


def query_key(q: str) -> str:
    """The form of a typed query that is compared with search_text."""
    q = normalise(q)
    compact = q.replace(" ", "").replace("-", "").replace("(", "").replace(")", "")
    if compact.lstrip("+").isdigit() and len(compact) >= 5:
        return phone_digits(compact)
    return q
