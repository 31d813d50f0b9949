"""REST endpoints of the knowledge base: /api/v1/articles. `?q=` searches the articles'
words, Chinese included (卡纸 finds 打印机卡纸), the best match first. Articles are the
firm's shared know-how and name no customer; every signed-in user reads them, service
staff, managers and admins write them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Schema, Status
from pydantic import Field

from kehu.core.pagination import keyset_page
from kehu.core.permissions import CONTRIBUTE
from kehu.core.requests import client_ip
from kehu.core.schemas import (
    MAX_ID,
    Cursor,
    Id,
    InputSchema,
    QueryParams,
    Text,
    bounded_text,
    errors,
    refuse_unknown_query,
)
from kehu.service.knowledge import segment, selectors, services
from kehu.service.knowledge.models import Article, ArticleLanguage
from kehu.service.tickets import selectors as ticket_selectors
from kehu.service.tickets.models import Ticket

router = Router(tags=["articles"])

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
Lang = Literal[tuple(ArticleLanguage.values)]
TagName = bounded_text(services.MAX_TAG_LENGTH, 1)
Tags = Annotated[list[TagName], Field(max_length=services.MAX_TAGS, description=(
    "Words that group articles (打印机, network); the same tag in another case is the same."))]


def _audit(request: HttpRequest) -> dict[str, Any]:
    return {"ip": client_ip(request), "via": "api"}


class ArticleIn(InputSchema):
    title: bounded_text(200, 1)
    problem: Text = Field(min_length=1, description="What the customer meets.")
    cause: Text = Field("", description="Why it happens, when known.")
    solution: Text = Field(min_length=1, description="What solves it.")
    language: Lang = Field("zh-hans", description="zh-hans (简体中文) or en.")
    tags: Tags = []
    ticket: Id | None = Field(None, description="Id of a ticket the article solved (one of "
                                                "the customers you work): linked to it.")


class FromTicketIn(InputSchema):
    ticket: Id = Field(description="Id of a resolved or closed ticket with its resolution "
                                   "written down.")
    title: bounded_text(200, 1) | None = Field(None, description="Default: the subject.")
    problem: Text | None = Field(None, min_length=1,
                                 description="Default: the ticket's description.")
    cause: Text | None = None
    solution: Text | None = Field(None, min_length=1,
                                  description="Default: the ticket's resolution.")
    language: Lang | None = None
    tags: Tags | None = Field(None, description="Default: the ticket's category.")


class ArticlePatch(InputSchema):
    title: bounded_text(200, 1) | None = None
    problem: Text | None = None
    cause: Text | None = None
    solution: Text | None = None
    language: Lang | None = None
    tags: Tags | None = Field(None, description="The whole new list of tags.")
    version: Annotated[int, Field(ge=1, le=2**31 - 1)] = Field(
        ..., description="The version you read; a stale one is refused with 409.")


class ArticleOut(Schema):
    id: int
    title: str
    problem: str
    cause: str
    solution: str
    language: str
    tags: list[str]
    written_by: str | None = Field(description="User name of who wrote the article.")
    tickets: list[int] = Field(description="Ids of the tickets the article solved, of the "
                                           "customers you may see.")
    version: int
    created_at: datetime
    updated_at: datetime
    relevance: int | None = Field(None, description="How well the article matches `q`, "
                                                    "higher is better; null without `q`.")


class ArticlePage(Schema):
    items: list[ArticleOut]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null on "
                                                "the last page.")
    count: int
    count_is_exact: bool


class ArticleListParams(QueryParams):
    q: bounded_text(200) = Field("", description=(
        "Words to find, Chinese or English: an article must hold all of them (in its title, "
        "problem, cause, solution or tags). Chinese is segmented into words, so 卡纸 finds "
        "打印机卡纸; an English word also finds the words it begins. With `q`, the best "
        "match comes first; without, the latest changed."))
    language: Lang | Literal[""] = ""
    tag: bounded_text(services.MAX_TAG_LENGTH) = ""
    cursor: Cursor = ""
    limit: Annotated[int, Field(ge=1, le=200)] = 50


def article_out(article: Article) -> dict[str, Any]:
    return {"id": article.pk, "title": article.title, "problem": article.problem,
            "cause": article.cause, "solution": article.solution,
            "language": article.language,
            "tags": sorted(t.name for t in article.tags.all()),
            "written_by": article.created_by.username if article.created_by else None,
            "tickets": sorted(link.ticket_id for link in article.visible_links),
            "version": article.version, "created_at": article.created_at,
            "updated_at": article.updated_at,
            "relevance": getattr(article, "relevance", None)}


def _data(payload: Schema) -> dict[str, Any]:
    return payload.model_dump(exclude_unset=True, exclude={"tags", "version", "ticket"})


def _with_links(user, qs):
    return qs.prefetch_related(Prefetch("ticket_links", to_attr="visible_links",
                                        queryset=selectors.ticket_links(user)))


def _one(user, pk: int) -> Article:
    return _with_links(user, selectors.articles(user)).get(pk=selectors.get_article(user, pk).pk)


def _ticket(user, pk: int | None) -> Ticket | None:
    if pk is None:
        return None
    try:
        return ticket_selectors.ticket(user, pk, CONTRIBUTE)
    except Ticket.DoesNotExist:
        raise ValidationError({"ticket": _("No such ticket among the tickets you work.")}) \
            from None


@router.get("/articles", response={200: ArticlePage, **errors(422)})
def list_articles(request: HttpRequest, params: Query[ArticleListParams]):
    """Articles of the knowledge base, a page at a time (follow `next_cursor`), found by
    `q` and narrowed by language and tag."""
    refuse_unknown_query(request, ArticleListParams)
    filters = selectors.ArticleFilters(q=params.q.strip(), language=params.language,
                                       tag=params.tag.strip())
    qs = _with_links(request.auth, selectors.search_articles(request.auth, filters))
    searched = bool(segment.query_words(filters.q))
    page = keyset_page(qs, sort="relevance" if searched else "updated_at", descending=True,
                       cursor=params.cursor or None, limit=params.limit)
    items = [article_out(a) for a in page.items]
    if not searched:
        for item in items:
            item["relevance"] = None
    return {"items": items, "next_cursor": page.next_cursor, "count": page.count,
            "count_is_exact": page.count_is_exact}


@router.post("/articles", response={201: ArticleOut, **errors(400, 403, 422)})
def create_article(request: HttpRequest, payload: ArticleIn):
    """Write an article: at least `title`, `problem` and `solution` (`cause` too when
    known)."""
    article = services.create_article(request.auth, _data(payload), tags=payload.tags,
                                      ticket=_ticket(request.auth, payload.ticket),
                                      **_audit(request))
    return Status(201, article_out(_one(request.auth, article.pk)))


@router.post("/articles/from-ticket", response={201: ArticleOut, **errors(400, 403, 422)})
def create_article_from_ticket(request: HttpRequest, payload: FromTicketIn):
    """A solved ticket becomes an article in one step: its subject the title, its
    description the problem, its resolution the solution, its category a tag — each unless
    sent, so that what concerned only that customer can be left out; the ticket is linked
    to the article."""
    ticket = _ticket(request.auth, payload.ticket)
    # The fields sent replace the ticket's own words (what concerned only that customer).
    draft, _tags = services.draft_from_ticket(request.auth, ticket)
    sent = {k: v for k, v in _data(payload).items() if v is not None}
    article = services.write_article_from_ticket(request.auth, ticket, {**draft, **sent},
                                                 tags=payload.tags, **_audit(request))
    return Status(201, article_out(_one(request.auth, article.pk)))


@router.get("/articles/{article_id}", response={200: ArticleOut, **errors(404, 422)})
def get_article(request: HttpRequest, article_id: IdPath):
    return article_out(_one(request.auth, article_id))


@router.patch("/articles/{article_id}",
              response={200: ArticleOut, **errors(400, 403, 404, 409, 422)})
def update_article(request: HttpRequest, article_id: IdPath, payload: ArticlePatch):
    """Change the fields sent (`tags`: the whole new list). `version` must be the one you
    read, or the answer is 409."""
    article = selectors.get_article(request.auth, article_id)
    data = {k: v for k, v in _data(payload).items() if v is not None}
    services.update_article(request.auth, article, data, expected_version=payload.version,
                            tags=payload.tags, **_audit(request))
    return article_out(_one(request.auth, article.pk))
