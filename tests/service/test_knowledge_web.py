"""The knowledge-base pages: who sees the writing forms, a stale edit kept and refused, the
suggestions partial the ticket form asks for while it is written."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kehu.service.knowledge import services
from kehu.service.knowledge.models import Article

JAM = {"title": "打印机卡纸", "problem": "打印到第三页时卡纸。", "cause": "搓纸轮磨损。",
       "solution": "更换搓纸轮。", "language": "zh-hans"}


@pytest.fixture
def article(users):
    return services.create_article(users["service1"], JAM, tags="打印机")


def test_readers_read_and_only_writers_see_the_forms(client, users, article):
    client.force_login(users["sales1"])
    body = client.get(reverse("service:article", args=[article.pk])).content.decode()
    assert "搓纸轮磨损。" in body and "Edit article" not in body
    assert "Write an article" not in client.get(reverse("service:articles")).content.decode()
    assert client.get(reverse("service:article_create")).status_code == 404
    assert client.post(reverse("service:article_edit", args=[article.pk]),
                       {**JAM, "version": 1}).status_code == 404
    client.force_login(users["service1"])
    assert "Edit article" in client.get(reverse("service:article",
                                                args=[article.pk])).content.decode()


def test_a_stale_edit_is_refused_and_the_input_kept(client, users, article):
    services.update_article(users["manager1"], article, {"cause": "纸张受潮。"},
                            expected_version=1)
    client.force_login(users["service1"])
    response = client.post(reverse("service:article_edit", args=[article.pk]),
                           {**JAM, "solution": "我的新方案", "tags": "打印机", "version": 1})
    assert response.status_code == 409
    body = response.content.decode()
    assert "changed by manager1" in body and "我的新方案" in body
    assert Article.objects.get(pk=article.pk).cause == "纸张受潮。"


def test_the_list_searches_and_pages_keep_the_query(client, users, article):
    for n in range(21):
        services.create_article(users["service1"], {**JAM, "title": f"卡纸 {n}"})
    client.force_login(users["sales1"])
    response = client.get(reverse("service:articles"), {"q": "卡纸", "tag": ""})
    body = response.content.decode()
    assert "22 articles found" in body and "q=%E5%8D%A1%E7%BA%B8&amp;page=2" in body
    assert "No article matches" in client.get(reverse("service:articles"),
                                              {"q": "路由器"}).content.decode()


def test_suggestions_come_from_what_the_ticket_says(client, users, article):
    client.force_login(users["service1"])
    url = reverse("service:article_suggestions")
    body = client.get(url, {"subject": "打印机又卡纸了",
                            "description": "每次打到第三页就停"}).content.decode()
    assert "打印机卡纸" in body and f"/service/kb/{article.pk}/" in body
    assert "No article in the knowledge base matches yet." in client.get(
        url, {"subject": "路由器断网"}).content.decode()
    assert client.get(url).content.decode().count("<li>") == 0
