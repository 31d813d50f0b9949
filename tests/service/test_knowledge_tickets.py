"""Articles and the tickets they solved: a solved ticket becomes an article in one step,
an article is linked to the tickets it solved, and each reader sees only the tickets of
their own customers on it (a list read, audited)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kehu.audit.models import AuditEvent
from kehu.core.errors import NotPermitted, ServiceError
from kehu.service.knowledge import selectors, services
from kehu.service.knowledge.models import ArticleTicket
from kehu.service.knowledge.selectors import ArticleFilters
from kehu.service.tickets import services as tickets
from kehu.service.tickets.models import TicketCategory, TicketKind


def _solved(user, customer, subject, description, resolution):
    ticket = tickets.open_ticket(user, customer, subject=subject, description=description,
                                 kind=TicketKind.REPAIR,
                                 category=TicketCategory.objects.get(name_en="Delivery"))
    return tickets.change_status(user, ticket, "resolved", resolution=resolution)


@pytest.fixture
def east_ticket(users, customers):
    return _solved(users["service1"], customers["east"], "收银打印机卡纸",
                   "门店收银台打印机打到一半卡纸。", "清理切刀纸屑，换用 57 mm 热敏纸。")


@pytest.fixture
def north_ticket(users, customers):
    return _solved(users["admin"], customers["north"], "北京门店打印机卡纸",
                   "打印机卡纸。", "更换纸卷。")


def test_a_solved_ticket_becomes_a_searchable_article_in_one_step(users, east_ticket):
    article = services.write_article_from_ticket(users["service1"], east_ticket)
    assert (article.title, article.problem, article.solution, article.language) == (
        "收银打印机卡纸", "门店收银台打印机打到一半卡纸。", "清理切刀纸屑，换用 57 mm 热敏纸。",
        "zh-hans")
    assert [t.name for t in article.tags.all()] == ["物流配送"]
    link = ArticleTicket.objects.get(article=article)
    assert link.ticket == east_ticket and link.written_from
    found = selectors.search_articles(users["sales1"], ArticleFilters(q="热敏纸"))
    assert [a.pk for a in found] == [article.pk]
    assert selectors.articles_for_ticket(users["service1"], east_ticket) == [article]


def test_only_a_solved_ticket_with_its_resolution_becomes_an_article(users, customers):
    ticket = tickets.open_ticket(users["service1"], customers["east"], subject="Noise")
    with pytest.raises(ServiceError, match="resolved or closed"):
        services.write_article_from_ticket(users["service1"], ticket)
    tickets.change_status(users["service1"], ticket, "resolved")
    with pytest.raises(ServiceError, match="no resolution"):
        services.write_article_from_ticket(users["service1"], ticket)


def test_links_stay_within_the_customers_one_works(users, east_ticket, north_ticket):
    article = services.create_article(users["manager1"], {
        "title": "打印机卡纸", "problem": "卡纸", "solution": "清理"}, ticket=east_ticket)
    with pytest.raises(NotPermitted):
        services.link_ticket(users["service1"], article, north_ticket)
    with pytest.raises(NotPermitted):
        services.link_ticket(users["sales1"], article, east_ticket)
    with pytest.raises(ServiceError, match="already linked"):
        services.link_ticket(users["service1"], article, east_ticket)
    services.link_ticket(users["admin"], article, north_ticket)
    assert [link.ticket for link in selectors.solved_tickets(users["service1"], article)] == [
        east_ticket]
    assert selectors.articles_for_ticket(users["manager2"], east_ticket) == []


def test_the_article_page_lists_the_readers_tickets_and_audits_the_read(
        client, users, customers, east_ticket, north_ticket):
    article = services.create_article(users["admin"], {
        "title": "打印机卡纸", "problem": "卡纸", "solution": "清理"}, ticket=east_ticket)
    services.link_ticket(users["admin"], article, north_ticket)
    client.force_login(users["manager2"])
    body = client.get(reverse("service:article", args=[article.pk])).content.decode()
    assert customers["north"].name in body and customers["east"].name not in body
    assert east_ticket.number not in body
    event = AuditEvent.objects.latest("pk")
    assert event.action == "customer.list" and event.detail["list"] == "article_tickets"
    assert event.detail["customers"] == [customers["north"].pk]


def test_the_link_form_takes_a_ticket_number_and_refuses_one_out_of_reach(
        client, users, east_ticket, north_ticket):
    article = services.create_article(users["service1"], {
        "title": "打印机卡纸", "problem": "卡纸", "solution": "清理"})
    client.force_login(users["service1"])
    url = reverse("service:article_link_ticket", args=[article.pk])
    page = client.post(url, {"ticket": north_ticket.number}, follow=True).content.decode()
    assert f"No ticket {north_ticket.number} among the tickets you work." in page
    page = client.post(url, {"ticket": east_ticket.number.lower()}, follow=True)
    assert f"Ticket {east_ticket.number} linked." in page.content.decode()
    link = ArticleTicket.objects.get(article=article)
    client.post(reverse("service:article_unlink_ticket", args=[article.pk]),
                {"link": link.pk})
    assert not ArticleTicket.objects.exists()


def test_the_ticket_button_shows_the_draft_and_saves_only_what_the_writer_kept(
        client, users, east_ticket):
    client.force_login(users["service1"])
    url = reverse("service:article_from_ticket")
    draft = client.post(url, {"ticket": east_ticket.pk})
    assert draft.status_code == 200 and not ArticleTicket.objects.exists()
    assert east_ticket.subject in draft.content.decode()
    edited = {"ticket": east_ticket.pk, "title": "", "language": "zh-hans",
              "problem": "打印时卡纸。", "cause": "", "solution": "更换搓纸轮。", "tags": ""}
    refused = client.post(url, edited)
    assert refused.status_code == 400 and "打印时卡纸。" in refused.content.decode()
    assert not ArticleTicket.objects.exists()
    saved = client.post(url, {**edited, "title": "打印机卡纸"})
    link = ArticleTicket.objects.get(ticket=east_ticket)
    assert saved["Location"] == reverse("service:article", args=[link.article_id])
    assert (link.written_from, link.article.problem) == (True, "打印时卡纸。")
    client.force_login(users["sales1"])
    assert client.post(url, {"ticket": east_ticket.pk}).status_code == 404


def test_the_api_links_tickets_and_shows_only_those_in_reach(api, users, east_ticket,
                                                               north_ticket):
    created = api("service1").post("/articles", {"title": "卡纸", "problem": "卡纸",
                                                 "cause": "", "solution": "清理",
                                                 "ticket": east_ticket.pk})
    assert created.status_code == 201 and created.json()["tickets"] == [east_ticket.pk]
    refused = api("service1").post("/articles", {"title": "x", "problem": "p", "cause": "",
                                                 "solution": "s", "ticket": north_ticket.pk})
    assert refused.status_code in (400, 422) and "ticket" in str(refused.json())
    made = api("admin").post("/articles/from-ticket", {"ticket": north_ticket.pk})
    assert made.status_code == 201 and made.json()["title"] == "北京门店打印机卡纸"
    assert api("sales1").get(f"/articles/{made.json()['id']}").json()["tickets"] == []
    assert api("manager2").get(f"/articles/{made.json()['id']}").json()["tickets"] == [
        north_ticket.pk]
    listed = api("manager2").get("/articles", q="卡纸").json()["items"]
    assert {a["id"]: a["tickets"] for a in listed} == {created.json()["id"]: [],
                                                       made.json()["id"]: [north_ticket.pk]}


def test_the_article_page_costs_the_same_queries_however_many_tickets_it_solved(
        client, users, customers):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    article = services.create_article(users["admin"], {
        "title": "打印机卡纸", "problem": "卡纸", "solution": "清理"})
    client.force_login(users["manager1"])
    url = reverse("service:article", args=[article.pk])

    def queries_after(more: int) -> int:
        for i in range(more):
            ticket = tickets.open_ticket(users["admin"], customers["east"], subject=f"卡纸 {i}")
            services.link_ticket(users["admin"], article, ticket)
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    assert queries_after(2) == queries_after(6)


def test_the_api_takes_the_writers_words_in_place_of_the_customers(api, east_ticket):
    made = api("service1").post("/articles/from-ticket", {
        "ticket": east_ticket.pk, "title": "打印机卡纸怎么办", "problem": "打印时卡纸。",
        "tags": ["打印机"]})
    assert made.status_code == 201, made.content
    body = made.json()
    assert (body["title"], body["problem"]) == ("打印机卡纸怎么办", "打印时卡纸。")
    assert body["solution"] == east_ticket.resolution and body["tickets"] == [east_ticket.pk]
    assert body["tags"] == ["打印机"]
