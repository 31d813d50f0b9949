"""The knowledge base in the ticket pages: the ticket form asks for the articles that may
solve what is being written; the ticket page shows the articles that solved it, else those
that may, and once it is solved the button that turns it into an article, saved after its
writer has edited it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kehu.audit.models import AuditEvent
from kehu.service.knowledge import services as knowledge
from kehu.service.knowledge.models import ArticleTicket
from kehu.service.tickets import services as tickets

pytestmark = pytest.mark.django_db


@pytest.fixture
def article(users):
    return knowledge.create_article(users["manager1"], {
        "title": "打印机卡纸", "problem": "打印到一半卡纸。", "solution": "清理切刀纸屑。"})


def test_the_ticket_form_asks_for_articles_as_the_subject_and_description_are_typed(
        client, users, customers, article):
    client.force_login(users["service1"])
    page = client.get(reverse("service:ticket_new"),
                      {"customer": customers["east"].pk}).content.decode()
    box = page[page.index('class="kb-suggest-box"'):page.index('id="kb-suggestions"')]
    assert f'hx-get="{reverse("service:article_suggestions")}"' in box
    assert 'hx-include="[name=subject], [name=description]"' in box
    # What the box asks for: the article that shares the ticket's words.
    found = client.get(reverse("service:article_suggestions"),
                       {"subject": "收银机打印机卡纸", "description": ""}).content.decode()
    assert "打印机卡纸" in found
    ticket = tickets.open_ticket(users["service1"], customers["east"], subject="Noise")
    edit = client.get(reverse("service:ticket_edit", args=[ticket.pk])).content.decode()
    assert "kb-suggest-box" in edit


def test_an_open_ticket_shows_the_articles_that_may_solve_it_and_no_article_button(
        client, users, customers, article):
    ticket = tickets.open_ticket(users["service1"], customers["east"], subject="收银打印机卡纸",
                                 description="每页都卡纸")
    client.force_login(users["service1"])
    page = client.get(reverse("service:ticket", args=[ticket.pk])).content.decode()
    panel = page[page.index('id="ticket-articles"'):]
    assert "Articles that may solve it" in panel
    assert reverse("service:article", args=[article.pk]) in panel
    assert 'id="article-from-ticket"' not in page


def test_a_solved_ticket_becomes_an_article_from_its_page_which_then_lists_it(
        client, users, customers):
    ticket = tickets.open_ticket(users["service1"], customers["east"], subject="扫码枪无反应",
                                 description="扫码枪接上后没有反应。")
    tickets.change_status(users["service1"], ticket, "resolved",
                          resolution="在设置里把扫码枪切换为 USB 键盘模式。")
    url = reverse("service:ticket", args=[ticket.pk])
    # A salesperson reads the ticket but writes no article.
    client.force_login(users["sales1"])
    assert 'id="article-from-ticket"' not in client.get(url).content.decode()
    client.force_login(users["service1"])
    page = client.get(url).content.decode()
    assert "Make an article from this solved ticket" in page
    # The button shows the article the ticket suggests, unsaved: nobody reads the
    # customer's words before the writer has taken out what concerned only them.
    draft = client.post(reverse("service:article_from_ticket"),
                        {"ticket": ticket.pk, "next": url})
    form = draft.content.decode()
    assert draft.status_code == 200 and not ArticleTicket.objects.filter(ticket=ticket)
    assert "扫码枪接上后没有反应。" in form and "切换为 USB 键盘模式" in form
    assert f'name="ticket" value="{ticket.pk}"' in form
    assert AuditEvent.objects.filter(action="customer.view",
                                     customer_id=customers["east"].pk).exists()
    made = client.post(reverse("service:article_from_ticket"), {
        "ticket": ticket.pk, "title": "扫码枪无反应", "language": "zh-hans",
        "problem": "扫码枪接上后没有反应。", "cause": "",
        "solution": "在设置里把扫码枪切换为 USB 键盘模式。", "tags": "扫码枪"})
    link = ArticleTicket.objects.get(ticket=ticket)
    assert link.written_from
    assert made["Location"] == reverse("service:article", args=[link.article_id])
    page = client.get(url).content.decode()
    linked = page[page.index('id="ticket-linked-articles"'):]
    assert "Articles that solved this ticket" in page
    assert reverse("service:article", args=[link.article_id]) in linked
    assert "扫码枪无反应" in linked
    assert 'id="article-from-ticket"' not in page  # one article per solved ticket
    client.cookies["django_language"] = "zh-hans"
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "解决过此工单的文章" in page and "知识库" in page
