"""The knowledge base: articles written and edited by who may, and the full-text search
that finds Chinese words inside Chinese text (jieba) as well as English ones, on SQLite and
PostgreSQL alike."""

from __future__ import annotations

import pytest

from kehu.core.errors import NotPermitted, ServiceError, StaleVersion
from kehu.service.knowledge import segment, selectors, services
from kehu.service.knowledge.models import Article
from kehu.service.knowledge.selectors import ArticleFilters

PAPER_JAM = {"title": "打印机卡纸", "problem": "打印到第三页时打印机卡纸，指示灯闪烁。",
             "cause": "搓纸轮磨损，进纸不顺。", "solution": "更换搓纸轮，清洁进纸通道。",
             "language": "zh-hans"}
WIFI = {"title": "Router drops the Wi-Fi connection",
        "problem": "The wireless network disconnects every few minutes.",
        "cause": "Old firmware on the router.", "solution": "Update the router's firmware "
        "and restart it.", "language": "en"}
TONER = {"title": "墨粉不足提示", "problem": "打印颜色很淡，面板提示墨粉不足。",
         "cause": "", "solution": "更换墨粉盒。", "language": "zh-hans"}


@pytest.fixture
def kb(users):
    writer = users["service1"]
    return {"jam": services.create_article(writer, PAPER_JAM, tags="打印机, 硬件"),
            "wifi": services.create_article(writer, WIFI, tags=["network", "Router"]),
            "toner": services.create_article(writer, TONER, tags="打印机")}


def _found(user, q, **filters) -> list[str]:
    qs = selectors.search_articles(user, ArticleFilters(q=q, **filters))
    return [a.title for a in qs.order_by("-relevance", "pk")]


def test_a_chinese_word_finds_the_article_that_holds_it_inside_a_longer_text(users, kb):
    assert _found(users["sales1"], "卡纸") == ["打印机卡纸"]
    assert _found(users["sales1"], "打印机 卡纸") == ["打印机卡纸"]
    assert _found(users["sales1"], "打印机卡纸怎么办") == ["打印机卡纸"]
    # 打印 is inside 打印机 in both articles; 搓纸轮 only in the cause of one.
    assert sorted(_found(users["sales1"], "打印")) == ["墨粉不足提示", "打印机卡纸"]
    assert _found(users["sales1"], "搓纸轮") == ["打印机卡纸"]
    # One character is a query too.
    assert _found(users["sales1"], "淡") == ["墨粉不足提示"]
    assert _found(users["sales1"], "复印机") == []


def test_english_words_match_in_any_case_and_by_their_beginning(users, kb):
    assert _found(users["marketing1"], "ROUTER firmware") == ["Router drops the Wi-Fi connection"]
    assert _found(users["marketing1"], "disconnect") == ["Router drops the Wi-Fi connection"]
    assert _found(users["marketing1"], "wi-fi") == ["Router drops the Wi-Fi connection"]
    assert _found(users["marketing1"], "router printer") == []


def test_the_query_syntax_of_the_database_is_only_text(users, kb):
    for q in ['"', "卡纸 OR 墨粉", "NOT router", "router*", "a:b", "'; DROP TABLE x; --",
              "(((", "NEAR(a b)", "&|!", "-"]:
        selectors.search_articles(users["admin"], ArticleFilters(q=q)).count()
    assert _found(users["admin"], "卡纸 OR 墨粉") == []  # OR is a word here, in no article


def test_tags_and_language_narrow_the_search(users, kb):
    assert sorted(_found(users["admin"], "", tag="打印机")) == ["墨粉不足提示", "打印机卡纸"]
    assert _found(users["admin"], "", tag="router") == ["Router drops the Wi-Fi connection"]
    assert _found(users["admin"], "打印", language="en") == []
    assert _found(users["admin"], "network") == ["Router drops the Wi-Fi connection"]


def test_an_edit_is_searchable_at_once_and_the_old_words_are_gone(users, kb):
    article = kb["toner"]
    services.update_article(users["manager1"], article,
                            {"title": "硒鼓寿命到期", "problem": "打印出现黑线。"},
                            expected_version=article.version)
    assert _found(users["admin"], "硒鼓") == ["硒鼓寿命到期"]
    assert _found(users["admin"], "黑线") == ["硒鼓寿命到期"]
    assert _found(users["admin"], "淡") == [] and _found(users["admin"], "面板") == []
    article.refresh_from_db()
    assert article.version == 2 and article.title == "硒鼓寿命到期"


def test_a_stale_edit_is_refused_naming_who_changed_the_article(users, kb):
    article = kb["jam"]
    services.update_article(users["manager1"], article, {"cause": "纸张受潮。"},
                            expected_version=1)
    with pytest.raises(StaleVersion) as e:
        services.update_article(users["service1"], article, {"cause": "搓纸轮脏了。"},
                                expected_version=1)
    assert "manager1" in e.value.message
    assert Article.objects.get(pk=article.pk).cause == "纸张受潮。"


def test_only_service_staff_managers_and_admins_write_articles(users):
    for role in ("sales1", "marketing1", "analyst1"):
        with pytest.raises(NotPermitted):
            services.create_article(users[role], PAPER_JAM)
    for role in ("service1", "manager1", "admin"):
        services.create_article(users[role], PAPER_JAM)
    assert Article.objects.count() == 3


def test_bad_input_is_refused_with_a_message_on_its_field(users):
    writer = users["service1"]
    with pytest.raises(ServiceError) as e:
        services.create_article(writer, {**PAPER_JAM, "solution": "  "})
    assert e.value.field == "solution"
    with pytest.raises(ServiceError) as e:
        services.create_article(writer, PAPER_JAM, tags=[f"t{i}" for i in range(11)])
    assert e.value.field == "tags"
    with pytest.raises(ServiceError) as e:
        services.create_article(writer, {**PAPER_JAM, "owner": 1})
    assert e.value.field == "owner"
    assert not Article.objects.exists()


def test_tags_are_one_each_whatever_their_case_or_comma(users):
    article = services.create_article(users["service1"], WIFI,
                                      tags="Router，router、 Network ,, network")
    assert sorted(t.name for t in article.tags.all()) == ["Network", "Router"]


def test_suggestions_pick_articles_from_the_telling_words_of_a_ticket(users, kb):
    text = "您好，我们办公室的打印机每次打到第三页就卡纸了，请尽快处理，谢谢！"
    suggested = selectors.suggested_articles(users["service1"], text)
    assert suggested[0].title == "打印机卡纸"
    assert "Router drops the Wi-Fi connection" not in [a.title for a in suggested]
    english = selectors.suggested_articles(users["service1"],
                                           "Our wifi router keeps dropping, please help")
    assert [a.title for a in english] == ["Router drops the Wi-Fi connection"]
    assert selectors.suggested_articles(users["service1"], "您好，谢谢") == []


def test_segmentation_keeps_words_and_drops_punctuation():
    assert segment.query_words("打印机卡纸！") == ["打印机", "卡纸"]
    assert segment.query_words("ＰＲＩＮＴＥＲ, jam") == ["printer", "jam"]
    words = segment.index_text("打印机卡纸").split()
    assert {"打印机", "打印", "卡纸", "卡", "纸"} <= set(words)
