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


# Surnames read differently from the character's everyday reading (单 is dan in 单位, shan
# as a surname). Two-character surnames first: they are matched before one-character ones.
SURNAME_READINGS = {
    "万俟": ["mo", "qi"], "尉迟": ["yu", "chi"], "单于": ["chan", "yu"], "长孙": ["zhang", "sun"],
    "单": ["shan"], "曾": ["zeng"], "解": ["xie"], "仇": ["qiu"], "朴": ["piao"],
    "区": ["ou"], "查": ["zha"], "翟": ["zhai"], "盖": ["ge"], "缪": ["miao"], "覃": ["qin"],
    "种": ["chong"], "秘": ["bi"], "乐": ["yue"], "员": ["yun"], "召": ["shao"],
    "繁": ["po"], "隗": ["wei"], "句": ["gou"], "宿": ["su"], "能": ["nai"],
    "华": ["hua"], "任": ["ren"], "沈": ["shen"], "曲": ["qu"], "过": ["guo"], "那": ["na"],
    "卜": ["bu"], "柏": ["bai"], "薄": ["bo"], "藏": ["zang"], "贲": ["ben"], "阚": ["kan"],
}
SORT_KEY_LENGTH = 300


def sort_key(name: str, *, person: bool = False) -> str:
    """What lists sort a name by: Chinese characters by their tone-less pinyin, one syllable
    a word, among Latin names in one alphabet ("Acme" < "北京" beijing < "Zeta"); lower
    case. A person's surname is read as a surname (单 shan, 曾 zeng, 解 xie)."""
    text = normalise(name)
    head: list[str] = []
    if person and _HAN.match(text):
        for surname in sorted(SURNAME_READINGS, key=len, reverse=True):
            if text.startswith(surname):
                head, text = SURNAME_READINGS[surname], text[len(surname):]
                break
    words = [*head, *(w.strip() for w in lazy_pinyin(text) if w.strip())]
    return " ".join(words).lower()[:SORT_KEY_LENGTH]


def char_pinyin(text: str) -> str:
    """Each Chinese character's own reading, joined, ignoring the phrase around it.

    Context-free on purpose: a name containing the characters of a query then always
    contains the query's char_pinyin, which lets a two-character query ("王伟", too short
    for a trigram index) be looked up by its reading ("wangwei") and checked exactly after.
    """
    return "".join(lazy_pinyin(list(text or ""), errors="ignore")).lower()


def search_text(*, name: str, phones: tuple[str, ...] = (), email: str = "",
                external_id: str | None = "") -> str:
    full, initials = pinyin_keys(name)
    chars = char_pinyin(name) if full else ""
    parts = [normalise(name), full, chars if chars != full else "", initials,
             *(phone_digits(p) for p in phones), normalise(email), normalise(external_id or "")]
    return " ".join(p for p in parts if p)


# The longest search a user may type (characters). A longer one is refused with a message,
# never cut short or ignored: ignoring it would list every customer as if nothing was typed.
QUERY_MAX_LENGTH = 100

INDEXED_LENGTH = 3  # trigram indexes find substrings of three characters or more
_WORD_START = re.compile(r"[a-z0-9]{1,2}")


def is_word_start(key: str) -> bool:
    """Whether a query too short for trigrams is looked up as the start of a word: one or
    two letters or digits ("ww", the initials of 王伟)."""
    return bool(_WORD_START.fullmatch(key))


def index_term(key: str) -> str | None:
    """A substring that every search_text matching `key` contains and that a trigram index
    can look up, or None when there is none (short Latin queries scan instead)."""
    if len(key) >= INDEXED_LENGTH:
        return key
    if key and all(_HAN.match(c) for c in key):
        reading = char_pinyin(key)
        if len(reading) >= INDEXED_LENGTH:
            return reading
    return None


def query_key(q: str) -> str:
    """The form of a typed query that is compared with search_text."""
    q = normalise(q)
    compact = q.replace(" ", "").replace("-", "").replace("(", "").replace(")", "")
    if compact.lstrip("+").isdigit() and len(compact) >= 5:
        return phone_digits(compact)
    return q
