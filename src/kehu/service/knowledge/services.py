"""Writing the knowledge base: each service checks who may (kehu.core.policy
.may_write_articles), writes in one transaction, keeps the article's words for the search
index (search_text) and is audited."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.audit.services import record
from kehu.core import policy
from kehu.core.errors import NotPermitted, ServiceError
from kehu.core.permissions import CONTRIBUTE, can
from kehu.core.versions import check_version
from kehu.service.knowledge import segment
from kehu.service.knowledge.models import Article, ArticleLanguage, ArticleTicket, Tag
from kehu.service.tickets.models import DONE_STATUSES, Ticket

ARTICLE_FIELDS = ("title", "problem", "cause", "solution", "language")
REQUIRED = ("title", "problem", "solution")
MAX_TAGS = 10
MAX_TAG_LENGTH = 40


def _may_write(user: User) -> None:
    if not policy.may_write_articles(user):
        raise NotPermitted(_("Only service staff, managers and administrators write "
                             "knowledge-base articles."))


def _check_fields(data: Mapping[str, Any]) -> None:
    unknown = set(data) - set(ARTICLE_FIELDS)
    if unknown:
        raise ServiceError(_("Unknown field."), field=sorted(unknown)[0])


def parse_tags(value: str | Iterable[str]) -> list[str]:
    """Tags from a comma-separated text (either comma: , or ，) or a list: trimmed, spaces
    collapsed, each once whatever its case, in the order given."""
    if isinstance(value, str):
        value = value.replace("，", ",").replace("、", ",").split(",")
    out: dict[str, str] = {}
    for raw in value:
        name = " ".join(str(raw).split())
        if name:
            out.setdefault(name.casefold(), name)
    names = list(out.values())
    if len(names) > MAX_TAGS:
        raise ServiceError(_("An article has at most %(n)d tags.") % {"n": MAX_TAGS},
                           field="tags")
    for name in names:
        if len(name) > MAX_TAG_LENGTH:
            raise ServiceError(_("A tag has at most %(n)d characters: %(tag)s")
                               % {"n": MAX_TAG_LENGTH, "tag": name}, field="tags")
    return names


def _tags(names: list[str]) -> list[Tag]:
    tags = []
    for name in names:
        tag = Tag.objects.filter(name__iexact=name).first()
        tags.append(tag or Tag.objects.create(name=name))
    return tags


def _clean(article: Article) -> None:
    for field in ARTICLE_FIELDS:
        value = getattr(article, field)
        if isinstance(value, str):
            setattr(article, field, value.strip())
    for field in REQUIRED:
        if not getattr(article, field):
            raise ServiceError({"title": _("Give the article a title."),
                                "problem": _("Describe the problem."),
                                "solution": _("Describe the solution.")}[field], field=field)
    article.full_clean(exclude=["created_by", "tags"], validate_unique=False)


def _index(article: Article, tag_names: list[str]) -> None:
    article.search_text = segment.index_text(article.title, article.problem, article.cause,
                                             article.solution, " ".join(tag_names))


@transaction.atomic
def create_article(user: User, data: Mapping[str, Any], *, tags: str | Iterable[str] = (),
                   ticket: Ticket | None = None, ip: str | None = None,
                   via: str = "web") -> Article:
    """Write a new article: at least a title, the problem and the solution; with `ticket`,
    the ticket it solved is linked to it."""
    _may_write(user)
    if ticket is not None:
        _may_link(user, ticket)
    _check_fields(data)
    names = parse_tags(tags)
    article = Article(created_by=user, **data)
    _clean(article)
    _index(article, names)
    article._change_reason = _("Created")
    article._history_user = user
    article.save()
    article.tags.set(_tags(names))
    record(user, "article.create", obj=article, ip=ip, via=via,
           detail={"article": article.pk, "title": article.title})
    if ticket is not None:
        link_ticket(user, article, ticket, ip=ip, via=via)
    return article


@transaction.atomic
def update_article(user: User, article: Article, data: Mapping[str, Any], *,
                   expected_version: int | None, tags: str | Iterable[str] | None = None,
                   ip: str | None = None, via: str = "web") -> Article:
    """Change the fields given (and the tags, when given). `expected_version` is the
    version the user read: a stale one is refused, naming who changed it since."""
    _may_write(user)
    _check_fields(data)
    current = Article.objects.select_for_update().get(pk=article.pk)
    check_version(current, expected_version, _("article"))
    old_tags = list(current.tags.order_by("name").values_list("name", flat=True))
    names = old_tags if tags is None else parse_tags(tags)
    changed = [f for f, v in data.items() if getattr(current, f) != v]
    tags_changed = sorted(n.casefold() for n in names) != sorted(n.casefold()
                                                                   for n in old_tags)
    if not changed and not tags_changed:
        return current
    for field in changed:
        setattr(current, field, data[field])
    _clean(current)
    _index(current, names)
    current.version += 1
    current._change_reason = _("Edited")
    current._history_user = user
    current.save()
    if tags_changed:
        current.tags.set(_tags(names))
        changed.append("tags")
    record(user, "article.update", obj=current, ip=ip, via=via,
           detail={"article": current.pk, "fields": changed})
    return current


# Tickets the articles solved ---------------------------------------------------------------

def _may_link(user: User, ticket: Ticket) -> None:
    _may_write(user)
    if not can(user, CONTRIBUTE, ticket.customer):
        raise NotPermitted(_("You may not work tickets of this customer."))


@transaction.atomic
def link_ticket(user: User, article: Article, ticket: Ticket, *, written_from: bool = False,
                ip: str | None = None, via: str = "web") -> ArticleTicket:
    """Record that `article` solved `ticket` (a ticket of a customer the user works)."""
    _may_link(user, ticket)
    if ArticleTicket.objects.filter(article=article, ticket=ticket).exists():
        raise ServiceError(_("Ticket %(number)s is already linked to this article.")
                           % {"number": ticket.number}, field="ticket")
    link = ArticleTicket.objects.create(article=article, ticket=ticket, linked_by=user,
                                        written_from=written_from)
    record(user, "article.link_ticket", obj=link, customer_id=ticket.customer_id, ip=ip,
           via=via, detail={"article": article.pk, "ticket": ticket.number})
    return link


@transaction.atomic
def unlink_ticket(user: User, link: ArticleTicket, *, ip: str | None = None,
                  via: str = "web") -> None:
    """Take a ticket off an article's list (linked by mistake)."""
    _may_link(user, link.ticket)
    record(user, "article.unlink_ticket", obj=link, customer_id=link.ticket.customer_id, ip=ip,
           via=via, detail={"article": link.article_id, "ticket": link.ticket.number})
    link.delete()


def _language_of(text: str) -> str:
    return ArticleLanguage.CHINESE if segment.has_chinese(text) else ArticleLanguage.ENGLISH


def draft_from_ticket(user: User, ticket: Ticket) -> tuple[dict[str, str], list[str]]:
    """The article a solved ticket suggests — its subject the title, its description the
    problem, its resolution the solution, its category a tag — for the writer to edit
    before anyone else reads it. Refused for a ticket that is not solved or has no
    resolution written down."""
    _may_link(user, ticket)
    ticket = Ticket.objects.select_related("customer", "category").get(pk=ticket.pk)
    if ticket.status not in DONE_STATUSES:
        raise ServiceError(_("Only a resolved or closed ticket becomes an article: its "
                             "resolution is the solution."), field="ticket")
    if not ticket.resolution.strip():
        raise ServiceError(_("Ticket %(number)s has no resolution written down; write it "
                             "on the ticket first.") % {"number": ticket.number},
                           field="ticket")
    text = f"{ticket.subject}\n{ticket.description}\n{ticket.resolution}"
    language = _language_of(text)
    tags = []
    if ticket.category is not None:
        tags.append(ticket.category.name_zh if language == ArticleLanguage.CHINESE
                    else ticket.category.name_en)
    data = {"title": ticket.subject[:200],
            "problem": ticket.description.strip() or ticket.subject,
            "cause": "", "solution": ticket.resolution, "language": language}
    return data, [t for t in tags if t]


@transaction.atomic
def write_article_from_ticket(user: User, ticket: Ticket, data: Mapping[str, Any] | None = None,
                              *, tags: str | Iterable[str] | None = None,
                              ip: str | None = None, via: str = "web") -> Article:
    """A solved ticket becomes an article, linked as the ticket it was written from: with
    `data` (and `tags`), as the writer edited the draft (draft_from_ticket); without, the
    draft itself."""
    draft, draft_tags = draft_from_ticket(user, ticket)
    article = create_article(user, draft if data is None else data,
                             tags=draft_tags if tags is None else tags, ip=ip, via=via)
    link_ticket(user, article, ticket, written_from=True, ip=ip, via=via)
    return article
