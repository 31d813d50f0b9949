"""Words of Chinese and English text for the knowledge base's full-text index.

Chinese has no spaces between words, so neither SQLite's FTS5 tokenizers nor PostgreSQL's
parser can find 卡纸 in 打印机卡纸 by themselves. kehu segments the text with jieba and
stores the words separated by spaces (Article.search_text); the database then indexes them
as it would English. Articles are segmented in the search-engine mode (打印机 also as 打印,
印机) plus every single Chinese character, so that a word the dictionary splits differently
in a query, or a query of one character, still finds its article; queries are segmented in
the precise mode. Latin words are lower-cased; punctuation and spaces are dropped.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata

import jieba
import jieba.analyse

jieba.setLogLevel(logging.WARNING)

# A word: a run of letters and digits (jieba splits Wi-Fi into Wi, -, Fi). Nothing else
# reaches the databases' query syntax.
_WORD = re.compile(r"[^\W_]+")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# Words too common to say anything about a ticket (suggestions pick the telling ones).
_STOP = frozenset([
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "can", "do", "does", "for",
    "from", "has", "have", "how", "i", "if", "in", "is", "it", "its", "my", "no", "not",
    "of", "on", "or", "our", "so", "that", "the", "their", "them", "then", "there", "these",
    "they", "this", "to", "was", "we", "what", "when", "which", "who", "why", "will",
    "with", "you", "your", "please", "hello", "hi", "thanks", "thank",
    "的", "了", "是", "我", "你", "他", "她", "它", "我们", "你们", "他们", "在", "和",
    "与", "就", "也", "都", "而", "及", "或", "一个", "没有", "不", "吗", "呢", "吧", "啊",
    "请", "谢谢", "您好", "你好", "怎么", "怎么办", "什么", "为什么", "如何", "可以",
    "一下", "已经", "还是", "但是", "因为", "所以", "这个", "那个",
])

_lock = threading.Lock()
_ready = False


def _tokenizer() -> jieba.Tokenizer:
    """jieba's default tokenizer, its dictionary loaded once (about a second the first
    time; jieba keeps a cache of it in the system's temporary directory)."""
    global _ready
    if not _ready:
        with _lock:
            if not _ready:
                jieba.initialize()
                _ready = True
    return jieba.dt


def normalise(text: str) -> str:
    """Full-width letters and digits as ASCII (ＡＢＣ１２ → ABC12), lower case."""
    return unicodedata.normalize("NFKC", text or "").lower()


def _words(pieces) -> list[str]:
    out = []
    for piece in pieces:
        out.extend(_WORD.findall(piece))
    return out


def index_text(*parts: str) -> str:
    """The words of `parts` for the index, separated by single spaces."""
    text = normalise("\n".join(p for p in parts if p))
    words = _words(_tokenizer().cut_for_search(text))
    chars = dict.fromkeys(c for word in words if len(word) > 1 for c in word if _CJK.match(c))
    return " ".join([*words, *chars])


def query_words(q: str) -> list[str]:
    """The words of a query, in order, each once; words that say nothing (的, 怎么办, the)
    are left out unless nothing else is left."""
    words = list(dict.fromkeys(_words(_tokenizer().cut(normalise(q)))))
    return [w for w in words if w not in _STOP] or words


def has_chinese(text: str) -> bool:
    return bool(_CJK.search(text or ""))


def is_latin(word: str) -> bool:
    return not _CJK.search(word)


def telling_words(text: str, limit: int = 12) -> list[str]:
    """The words of a ticket's subject and description that best say what it is about
    (jieba's TF-IDF keywords, common words left out), to suggest articles from."""
    text = normalise(text)
    if not text.strip():
        return []
    _tokenizer()
    keywords = jieba.analyse.extract_tags(text, topK=limit * 2)
    words = [w for k in keywords for w in _WORD.findall(k)]
    words = [w for w in dict.fromkeys(words) if w not in _STOP and (len(w) > 1 or not
                                                                     is_latin(w))]
    return words[:limit]
