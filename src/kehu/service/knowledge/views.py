"""Web pages of the knowledge base: the list with its search, an article, the form to write
or edit one, and the suggestions shown while a ticket is written (an htmx partial). Thin:
parse, call a selector or service, render. Articles name no customer: reading them is not
a read of customer data."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.audit.services import record_list
from kehu.core import policy
from kehu.core.errors import ServiceError
from kehu.core.permissions import CONTRIBUTE
from kehu.core.requests import client_ip
from kehu.customers.forms import submit
from kehu.customers.services import record_customer_view
from kehu.customers.views import MAX_ID
from kehu.service.knowledge import segment, selectors, services
from kehu.service.knowledge.forms import ArticleForm, ArticleFromTicketForm
from kehu.service.knowledge.models import Article, ArticleLanguage, ArticleTicket
from kehu.service.tickets import selectors as ticket_selectors
from kehu.service.tickets.models import Ticket, parse_number

PER_PAGE = 20
NAV = "knowledge"
# What a ticket's subject and description may give the suggestions, at most.
SUGGEST_TEXT = 4000


def _audit(request: HttpRequest) -> dict:
    return {"ip": client_ip(request), "via": "web"}


def _article(request: HttpRequest, article_pk: int) -> Article:
    if article_pk > MAX_ID:
        raise Http404
    try:
        return selectors.get_article(request.user, article_pk)
    except Article.DoesNotExist:
        raise Http404 from None


def _may_write(request: HttpRequest) -> None:
    if not policy.may_write_articles(request.user):
        raise Http404


@login_required
def article_list(request: HttpRequest) -> HttpResponse:
    g = request.GET
    filters = selectors.ArticleFilters(
        q=g.get("q", "").strip()[:200],
        language=g.get("language", "") if g.get("language", "") in ArticleLanguage.values
        else "",
        tag=g.get("tag", "").strip()[:services.MAX_TAG_LENGTH])
    qs = selectors.search_articles(request.user, filters)
    searched = bool(segment.query_words(filters.q))
    qs = qs.order_by("-relevance", "-updated_at", "-pk") if searched else \
        qs.order_by("-updated_at", "-pk")
    page = Paginator(qs, PER_PAGE).get_page(g.get("page"))
    query = urlencode({k: v for k, v in filters.__dict__.items() if v})
    return render(request, "service/knowledge/list.html", {
        "nav": NAV, "page": page, "articles": list(page.object_list), "filters": filters,
        "searched": searched, "query": query, "languages": ArticleLanguage.choices,
        "tags": list(selectors.tags(request.user)[:30]),
        "may_write": policy.may_write_articles(request.user)})


def _ticket_named(request: HttpRequest, text: str) -> Ticket | None:
    """The ticket a user typed ("T-00042", "42") if they may work it, else None."""
    text = (text or "").strip()
    pk = parse_number(text) if not text.isdecimal() else int(text)
    if pk is None or pk > MAX_ID:
        return None
    try:
        return ticket_selectors.ticket(request.user, pk, CONTRIBUTE)
    except Ticket.DoesNotExist:
        return None


@login_required
def article_detail(request: HttpRequest, article_pk: int) -> HttpResponse:
    article = _article(request, article_pk)
    solved = selectors.solved_tickets(request.user, article)
    if solved:
        # The tickets name their customers: a list read, one audit row.
        record_list(request.user, "article_tickets", [t.ticket.customer_id for t in solved],
                    filters={"article": article.pk}, **_audit(request))
    return render(request, "service/knowledge/detail.html", {
        "nav": NAV, "article": article, "solved": solved,
        "history": list(selectors.article_history(request.user, article)[:10]),
        "may_write": policy.may_write_articles(request.user)})


@login_required
@require_POST
def article_link_ticket(request: HttpRequest, article_pk: int) -> HttpResponse:
    """Record that the article solved a ticket, named by its number."""
    _may_write(request)
    article = _article(request, article_pk)
    typed = request.POST.get("ticket", "")[:40]
    ticket = _ticket_named(request, typed)
    if ticket is None:
        messages.error(request, _("No ticket %(typed)s among the tickets you work.")
                       % {"typed": typed.strip() or "?"})
    else:
        try:
            services.link_ticket(request.user, article, ticket, **_audit(request))
        except ServiceError as e:
            messages.error(request, e.message)
        else:
            messages.success(request, _("Ticket %(number)s linked.") % {"number": ticket.number})
    return redirect(reverse("service:article", args=[article.pk]) + "#tickets")


@login_required
@require_POST
def article_unlink_ticket(request: HttpRequest, article_pk: int) -> HttpResponse:
    _may_write(request)
    article = _article(request, article_pk)
    try:
        link = selectors.get_ticket_link(request.user, article, request.POST.get("link"))
    except ArticleTicket.DoesNotExist:
        raise Http404 from None
    try:
        services.unlink_ticket(request.user, link, **_audit(request))
    except ServiceError as e:
        messages.error(request, e.message)
    else:
        messages.success(request, _("Ticket %(number)s taken off the list.")
                         % {"number": link.ticket.number})
    return redirect(reverse("service:article", args=[article.pk]) + "#tickets")


@login_required
@require_POST
def article_from_ticket(request: HttpRequest) -> HttpResponse:
    """A solved ticket becomes an article: the first post (the ticket page's button) shows
    the article it suggests, unsaved, so that the writer takes out what concerned only that
    customer before anyone reads it; the second saves it and links the ticket."""
    _may_write(request)
    ticket = _ticket_named(request, request.POST.get("ticket", "")[:40])
    if ticket is None:
        raise Http404
    if "title" in request.POST:
        form = ArticleFromTicketForm(request.POST)
        sent = submit(request, form, lambda data: services.write_article_from_ticket(
            request.user, ticket, form.service_data(), tags=data["tags"], **_audit(request)))
        if sent.saved:
            messages.success(request, _("Article saved from ticket %(number)s.")
                             % {"number": ticket.number})
            return redirect(reverse("service:article", args=[sent.result.pk]))
        return _form_page(request, form, None, status=sent.status, ticket=ticket)
    try:
        data, tags = services.draft_from_ticket(request.user, ticket)
    except ServiceError as e:
        messages.error(request, e.message)
        back = request.POST.get("next", "")
        return redirect(back if url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}) and back else reverse("service:articles"))
    # The draft shows the customer's own words: a read of their ticket.
    record_customer_view(request.user, ticket.customer, part="tickets",
                         detail={"ticket": ticket.pk}, **_audit(request))
    form = ArticleFromTicketForm(initial={**data, "tags": ", ".join(tags), "ticket": ticket.pk})
    messages.info(request, _("Take out what concerned only that customer, then save: "
                             "nothing is saved before you do."))
    return _form_page(request, form, None, ticket=ticket)


def _form_page(request: HttpRequest, form: ArticleForm, article: Article | None, *,
               status: int = 200, conflict: bool = False,
               ticket: Ticket | None = None) -> HttpResponse:
    return render(request, "service/knowledge/form.html", {
        "nav": NAV, "form": form, "article": article, "conflict": conflict,
        "from_ticket": ticket}, status=status)


@login_required
def article_create(request: HttpRequest) -> HttpResponse:
    _may_write(request)
    form = ArticleForm(request.POST or None)
    sent = submit(request, form, lambda data: services.create_article(
        request.user, form.service_data(), tags=data["tags"], **_audit(request)))
    if sent.saved:
        messages.success(request, _("Article saved."))
        return redirect(reverse("service:article", args=[sent.result.pk]))
    return _form_page(request, form, None, status=sent.status)


@login_required
def article_edit(request: HttpRequest, article_pk: int) -> HttpResponse:
    _may_write(request)
    article = _article(request, article_pk)
    form = ArticleForm(request.POST or None, instance=article)
    form.fields["version"].required = True
    sent = submit(request, form, lambda data: services.update_article(
        request.user, article, form.service_data(), expected_version=data["version"],
        tags=data["tags"], **_audit(request)))
    if sent.saved:
        messages.success(request, _("Article saved."))
        return redirect(reverse("service:article", args=[article.pk]))
    return _form_page(request, form, article, status=sent.status, conflict=sent.conflict)


@login_required
def article_suggestions(request: HttpRequest) -> HttpResponse:
    """The articles that may solve what is being written (htmx: the ticket form sends its
    subject and description as they are typed)."""
    g = request.GET
    text = f"{g.get('subject', '')}\n{g.get('description', '')}"[:SUGGEST_TEXT]
    return render(request, "service/knowledge/_suggestions.html", {
        "suggestions": selectors.suggested_articles(request.user, text),
        "asked": bool(text.strip())})

