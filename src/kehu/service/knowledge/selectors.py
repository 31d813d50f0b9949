"""Reads of the knowledge base. Articles are the firm's shared know-how: every signed-in user
reads them (kehu.core.policy.may_read_articles); nobody else reads any."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, QuerySet

from kehu.core import policy
from kehu.core.permissions import VIEW, restrict
from kehu.service.knowledge import search_index, segment
from kehu.service.knowledge.models import Article, ArticleLanguage, ArticleTicket, Tag

SORTS = ("relevance", "updated_at", "title")


def articles(user) -> QuerySet[Article]:
    qs = Article.objects.select_related("created_by").prefetch_related("tags")
    return qs if policy.may_read_articles(user) else qs.none()


def get_article(user, pk) -> Article:
    """The article if the user may read articles; Article.DoesNotExist (404) otherwise."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Article.DoesNotExist from None
    return articles(user).get(pk=pk)


@dataclass(frozen=True)
class ArticleFilters:
    q: str = ""  # words, Chinese or English: every one must be in the article
    language: str = ""
    tag: str = ""


def search_articles(user, filters: ArticleFilters) -> QuerySet[Article]:
    """The articles that hold every word of `q` (segmented like the articles), in the
    language and with the tag asked for, annotated with `relevance`."""
    qs = articles(user)
    if filters.language in ArticleLanguage.values:
        qs = qs.filter(language=filters.language)
    if filters.tag:
        qs = qs.filter(tags__name__iexact=filters.tag)
    return search_index.matching(qs, segment.query_words(filters.q), search_index.ALL)


def suggested_articles(user, text: str, limit: int = 5) -> list[Article]:
    """Articles that may solve what a ticket's subject and description say: those sharing
    any of its telling words, the best first."""
    words = segment.telling_words(text)
    if not words:
        return []
    qs = search_index.matching(articles(user), words, search_index.ANY)
    return list(qs.order_by("-relevance", "-updated_at", "-pk")[:limit])


def tags(user) -> QuerySet[Tag]:
    """The tags in use, the most used first."""
    if not policy.may_read_articles(user):
        return Tag.objects.none()
    return Tag.objects.annotate(used=Count("articles")).filter(used__gt=0).order_by(
        "-used", "name")


def article_history(user, article: Article):
    """Who changed the article and when, the latest first."""
    if not policy.may_read_articles(user):
        return Article.history.none()
    return article.history.select_related("history_user").order_by("-history_date")


def solved_tickets(user, article: Article) -> list[ArticleTicket]:
    """The tickets the article solved, of the customers the user may see."""
    qs = ArticleTicket.objects.filter(article=article).select_related(
        "ticket", "ticket__customer", "linked_by")
    return list(restrict(qs, user, VIEW))


def ticket_links(user, action: str = VIEW) -> QuerySet[ArticleTicket]:
    """Links between articles and tickets, of the customers the user may see."""
    return restrict(ArticleTicket.objects.all(), user, action)


def get_ticket_link(user, article: Article, pk) -> ArticleTicket:
    """One ticket of the article's list, if the user may see it; DoesNotExist otherwise."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise ArticleTicket.DoesNotExist from None
    return ticket_links(user).select_related("ticket", "ticket__customer").get(
        pk=pk, article=article)


def articles_for_ticket(user, ticket) -> list[Article]:
    """The articles linked to a ticket the user may see (the caller found it through
    kehu.service.tickets.selectors)."""
    if not ticket_links(user).filter(ticket=ticket).exists():
        return []
    return list(articles(user).filter(ticket_links__ticket=ticket).order_by("-updated_at"))
