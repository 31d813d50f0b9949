"""Articles of the knowledge base: a problem, its cause and the solution, in one language,
with tags. `search_text` holds the article's words as segmented by
kehu.service.knowledge.segment; the database's full-text index is built over it
(kehu.service.knowledge.search_index)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from kehu.core.models import VersionedModel

__all__ = ["Article", "ArticleLanguage", "ArticleTicket", "Tag"]


class ArticleLanguage(models.TextChoices):
    CHINESE = "zh-hans", _("Simplified Chinese")
    ENGLISH = "en", _("English")


class Tag(models.Model):
    """A word that groups articles (打印机, network …); one row per name, in any case."""

    name = models.CharField(_("name"), max_length=40, unique=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Article(VersionedModel):
    title = models.CharField(_("title"), max_length=200)
    problem = models.TextField(_("problem"))
    cause = models.TextField(_("cause"), blank=True)
    solution = models.TextField(_("solution"))
    language = models.CharField(_("language"), max_length=7, choices=ArticleLanguage.choices,
                                default=ArticleLanguage.CHINESE)
    tags = models.ManyToManyField(Tag, blank=True, related_name="articles",
                                  verbose_name=_("tags"))
    search_text = models.TextField(editable=False, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("written by"))

    history = HistoricalRecords(excluded_fields=["updated_at", "search_text"])

    class Meta:
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["updated_at", "id"], name="service_article_updated")]

    def __str__(self) -> str:
        return self.title


class ArticleTicket(models.Model):
    """A ticket the article solved: the ticket it was written from, or one it was found to
    solve later. The ticket belongs to its customer's scope (kehu.core.permissions)."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="ticket_links",
                                verbose_name=_("article"))
    ticket = models.ForeignKey("service.Ticket", on_delete=models.CASCADE,
                               related_name="article_links", verbose_name=_("ticket"))
    written_from = models.BooleanField(_("written from this ticket"), default=False)
    linked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+",
                                  verbose_name=_("linked by"))
    linked_at = models.DateTimeField(_("linked at"), auto_now_add=True)

    class Meta:
        verbose_name = _("ticket solved by an article")
        verbose_name_plural = _("tickets solved by articles")
        ordering = ["-linked_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["article", "ticket"],
                                               name="service_article_ticket_once")]

    def __str__(self) -> str:
        return f"{self.article} · {self.ticket}"
