"""/api/v1/articles: the contract other checks read — POST takes title, problem, cause,
solution; GET ?q= searches them, Chinese included."""

from __future__ import annotations

import pytest

from kehu.audit.models import AuditEvent
from kehu.service.knowledge.models import Article

JAM = {"title": "打印机卡纸", "problem": "打印到第三页时卡纸。", "cause": "搓纸轮磨损。",
       "solution": "更换搓纸轮。"}


@pytest.fixture
def written(api):
    client = api("service1")
    ids = [client.post("/articles", body).json()["id"] for body in (
        JAM,
        {"title": "Printer prints blank pages", "problem": "Pages come out blank.",
         "cause": "The toner cartridge is empty.", "solution": "Replace the cartridge.",
         "language": "en", "tags": ["printer"]},
        {"title": "发票抬头错误", "problem": "客户收到的发票抬头写错。", "cause": "",
         "solution": "作废后重开。"},
    )]
    return dict(zip(("jam", "blank", "invoice"), ids, strict=True))


def test_posting_the_four_fields_writes_an_article(api, users):
    response = api("service1").post("/articles", JAM)
    assert response.status_code == 201, response.content
    body = response.json()
    assert {k: body[k] for k in JAM} == JAM
    assert body["language"] == "zh-hans" and body["version"] == 1 and body["tags"] == []
    assert body["written_by"] == "service1"
    event = AuditEvent.objects.latest("pk")
    assert event.action == "article.create" and event.via == "api"
    assert api("service1").get(f"/articles/{body['id']}").json()["title"] == "打印机卡纸"


def test_q_finds_a_chinese_word_inside_the_text(api, written):
    response = api("sales1").get("/articles", q="卡纸")
    assert response.status_code == 200
    assert [a["id"] for a in response.json()["items"]] == [written["jam"]]
    assert response.json()["items"][0]["relevance"] > 0
    english = api("sales1").get("/articles", q="cartridge").json()["items"]
    assert [a["id"] for a in english] == [written["blank"]]
    assert api("sales1").get("/articles", q="卡纸", language="en").json()["count"] == 0
    assert api("sales1").get("/articles", tag="PRINTER").json()["count"] == 1


def test_the_best_match_comes_first_and_pages_follow(api, written):
    client = api("service1")
    client.post("/articles", {**JAM, "title": "复印机偶尔卡纸", "problem": "复印时偶尔卡纸。",
                              "cause": "", "solution": "清洁进纸通道。"})
    seen, cursor = [], ""
    for _ in range(3):
        page = client.get("/articles", q="卡纸", limit=1, cursor=cursor).json()
        seen += [a["id"] for a in page["items"]]
        cursor = page["next_cursor"] or ""
        if not cursor:
            break
    assert len(seen) == 2 and len(set(seen)) == 2 and not cursor
    assert client.get("/articles", q="卡纸").json()["count"] == 2


def test_patch_needs_the_version_read_and_refuses_a_stale_one(api, written):
    client = api("manager1")
    url = f"/articles/{written['invoice']}"
    response = client.patch(url, {"cause": "开票时选错了客户。", "tags": ["发票"], "version": 1})
    assert response.status_code == 200, response.content
    assert response.json()["version"] == 2 and response.json()["tags"] == ["发票"]
    stale = api("service1").patch(url, {"solution": "x", "version": 1})
    assert stale.status_code == 409
    assert "manager1" in stale.json()["detail"]
    assert client.patch(url, {"solution": "x"}).status_code == 422
    assert Article.objects.get(pk=written["invoice"]).solution == "作废后重开。"
    assert api("sales1").get("/articles", q="选错").json()["count"] == 1


@pytest.mark.parametrize("body, field", [
    ({**JAM, "title": ""}, "title"),
    ({k: v for k, v in JAM.items() if k != "solution"}, "solution"),
    ({**JAM, "language": "fr"}, "language"),
    ({**JAM, "tags": ["x" * 41]}, "tags"),
    ({**JAM, "customer": 1}, "customer"),
])
def test_bad_input_names_the_field(api, body, field):
    response = api("service1").post("/articles", body)
    assert response.status_code == 422, response.content
    assert field in str(response.json())
    assert not Article.objects.exists()


def test_who_may_write_and_who_may_read(api, written):
    for role in ("sales1", "marketing1", "analyst1"):
        assert api(role).post("/articles", JAM).status_code == 403
        assert api(role).patch(f"/articles/{written['jam']}",
                               {"title": "x", "version": 1}).status_code == 403
        assert api(role).get(f"/articles/{written['jam']}").status_code == 200
    assert api(None).get("/articles").status_code == 401
    assert api("admin").get("/articles/999999").status_code == 404


def test_an_unknown_query_parameter_is_refused(api, written):
    response = api("service1").get("/articles", query="卡纸")
    assert response.status_code == 422 and "query" in str(response.json())
